// The decisions behind `tome.threshold`: which files go to Tome, and when VS Code's own
// large-file limit is lowered to the threshold.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MIB, limitToWrite, shouldReopen, thresholdBytes } from "../../largeFiles";

test("the threshold is in MiB; 0, negative or not a number turns it off", () => {
  assert.equal(thresholdBytes(50), 50 * MIB);
  assert.equal(thresholdBytes(0.5), MIB / 2);
  for (const off of [0, -1, NaN, Infinity, "50", undefined, null]) assert.equal(thresholdBytes(off), 0, String(off));
});

test("only local files strictly over the threshold are reopened", () => {
  const t = 50 * MIB;
  const file = (size: number | undefined, scheme = "file", isFile = true) => ({ scheme, size, isFile });
  assert.equal(shouldReopen(file(t + 1), t, false), true);
  assert.equal(shouldReopen(file(4 * 2 ** 30), t, false), true);
  assert.equal(shouldReopen(file(t), t, false), false, "equal to the threshold stays");
  assert.equal(shouldReopen(file(10), t, false), false);
  assert.equal(shouldReopen(file(t + 1), 0, false), false, "off");
  assert.equal(shouldReopen(file(t + 1), t, true), false, "the user chose the text editor");
  assert.equal(shouldReopen(file(t + 1, "untitled"), t, false), false);
  assert.equal(shouldReopen(file(t + 1, "vscode-remote"), t, false), false);
  assert.equal(shouldReopen(file(t + 1, "file", false), t, false), false, "not a regular file");
  assert.equal(shouldReopen(file(undefined), t, false), false, "stat failed");
});

test("VS Code's large-file limit: lowered to the threshold only when the user set none", () => {
  // Desktop VS Code, local files: 1024 MB by default, so a 500 MB file would be read first.
  assert.equal(limitToWrite({ defaultValue: 1024 }, 50, undefined), 50);
  assert.equal(limitToWrite({ defaultValue: 1024 }, 0.5, undefined), 1, "at least 1 MB");
  assert.equal(limitToWrite({ defaultValue: 1024 }, 70.9, undefined), 70, "rounded down: anything over the threshold is over the limit");
  // Remote (10 MB) and browser (50 MB) defaults already stop before the threshold.
  assert.equal(limitToWrite({ defaultValue: 10 }, 50, undefined), undefined);
  assert.equal(limitToWrite({ defaultValue: 50 }, 50, undefined), undefined);
  // Threshold off: nothing to align with.
  assert.equal(limitToWrite({ defaultValue: 1024 }, 0, undefined), undefined);
  // The user's own values win.
  assert.equal(limitToWrite({ defaultValue: 1024, globalValue: 300 }, 50, undefined), undefined);
  assert.equal(limitToWrite({ defaultValue: 1024, workspaceValue: 300 }, 50, undefined), undefined);
  assert.equal(limitToWrite({ defaultValue: 1024, workspaceFolderValue: 300 }, 50, 300), undefined);
  // A value this extension wrote follows the threshold, once.
  assert.equal(limitToWrite({ defaultValue: 1024, globalValue: 50 }, 200, 50), 200);
  assert.equal(limitToWrite({ defaultValue: 1024, globalValue: 200 }, 200, 200), undefined);
});
