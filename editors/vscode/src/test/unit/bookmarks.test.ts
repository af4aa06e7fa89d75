// Bookmarks in a Tome editor (src/bookmarks.ts): Toggle, Next, Previous against the real
// `tome serve`, across a close and a second server; the pure helpers on their own.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freeName, linesOf, neighbour, stepBookmark, toggleBookmark, type BookmarkTarget } from "../../bookmarks";
import type { Bookmark, HostMessage, Requester } from "../../protocol";
import { TomeServer } from "../../rpc";

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");

const bm = (name: string, line: number | null, offset = (line ?? 0) * 10): Bookmark => ({
  name,
  offset,
  position: line === null ? null : { line, character: 0 },
});

test("helpers: free names, lines, the next and previous bookmark wrap around", () => {
  const all = [bm("1", 5), bm("A", 20), bm("3", 12), bm("far", null, 99999)];
  assert.equal(freeName(all), "2");
  assert.equal(freeName([]), "1");
  assert.deepEqual(linesOf([...all, bm("B", 12)]), [5, 12, 20]);
  assert.equal(neighbour(all, 5, 1)?.name, "3");
  assert.equal(neighbour(all, 20, 1)?.name, "1", "wraps to the first");
  assert.equal(neighbour(all, 12, -1)?.name, "1");
  assert.equal(neighbour(all, 5, -1)?.name, "A", "wraps to the last");
  assert.equal(neighbour([bm("x", null)], 0, 1), undefined);
});

test(
  "against the real tome serve: toggle on, next/previous, kept after closing and in a new server, toggle off",
  { skip: !fs.existsSync(binary) && "no tome binary" },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-bookmarks-"));
    const file = path.join(dir, "f.log");
    fs.writeFileSync(file, Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n") + "\n");
    const env = { env: { ...process.env, TOME_STATE_DIR: path.join(dir, "state") } };
    const target = (server: Requester, doc: number, line: number) => {
      const posted: HostMessage[] = [];
      const shown: number[][] = [];
      const t: BookmarkTarget = { doc, server, cursor: { line, character: 3 }, post: (m) => void posted.push(m), show: (b) => void shown.push(linesOf(b)) };
      return { t, posted, shown };
    };
    let s = await TomeServer.start(binary, env);
    try {
      let { doc } = await s.request("tome/open", { path: file });
      await toggleBookmark(target(s, doc, 10).t);
      const r = await toggleBookmark(target(s, doc, 40).t);
      assert.deepEqual(
        r.bookmarks.map((b) => [b.name, b.position?.line]),
        [
          ["1", 10],
          ["2", 40],
        ],
      );
      const x = target(s, doc, 10);
      assert.equal((await stepBookmark(x.t, 1))?.name, "2");
      assert.deepEqual(x.posted, [{ type: "gotoOffset", offset: "line 0\n".length * 10 + 30 * "line 10\n".length, line: 40 }]);
      assert.deepEqual(x.shown, [[10, 40]]);
      await s.request("tome/close", { doc });
      await s.stop();
      s = await TomeServer.start(binary, env);
      ({ doc } = await s.request("tome/open", { path: file }));
      const y = target(s, doc, 40);
      assert.equal((await stepBookmark(y.t, -1))?.name, "1", "kept by the server");
      const off = await toggleBookmark(target(s, doc, 10).t);
      assert.deepEqual(
        off.bookmarks.map((b) => b.name),
        ["2"],
      );
    } finally {
      await s.stop();
    }
  },
);
