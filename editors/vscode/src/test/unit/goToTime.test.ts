// "Tome: Go to Time…" (src/goToTime.ts): the input box's answer goes to `tome/seekTime` of the
// active document, and the webview is told to move to the line found; against the real
// `tome serve` on a small log, and with fakes for the cases without a server.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { goToTime, type GoToTimeDeps } from "../../goToTime";
import type { HostMessage, Requester } from "../../protocol";
import { TomeServer } from "../../rpc";

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");

function deps(server: Requester | undefined, answer: string | undefined, doc = 1) {
  const posted: HostMessage[] = [];
  const errors: string[] = [];
  const infos: string[] = [];
  const d: GoToTimeDeps = {
    active: () => (server ? { doc, server, post: (m) => void posted.push(m) } : undefined),
    ask: () => Promise.resolve(answer),
    error: (m) => void errors.push(m),
    info: (m) => void infos.push(m),
  };
  return { d, posted, errors, infos };
}

test("against the real tome serve: the line at or after the time, the end, errors", { skip: !fs.existsSync(binary) && "no tome binary" }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-time-"));
  const file = path.join(dir, "app.log");
  // A header, lines a second apart from 12:00:00, a line without a time after each tenth.
  const lines = ["# header"];
  const starts = new Map<number, number>(); // second -> offset of its line
  let offset = "# header\n".length;
  for (let s = 0; s < 100; s++) {
    const l = `2026-11-26T12:${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}.000Z INFO seq=${s}`;
    starts.set(s, offset);
    lines.push(l);
    offset += l.length + 1;
    if (s % 10 === 9) {
      lines.push("  continued");
      offset += "  continued\n".length;
    }
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
  const s = await TomeServer.start(binary, { env: { ...process.env, TOME_STATE_DIR: dir } });
  try {
    const { doc } = await s.request("tome/open", { path: file });
    // 12:01:05.5 → the line of second 66.
    let f = deps(s, "2026-11-26 12:01:05.5", doc);
    let r = await goToTime(f.d);
    assert.equal(r?.offset, starts.get(66));
    assert.equal(r?.time, "2026-11-26T12:01:06.000Z");
    assert.equal(r?.format, "iso8601");
    assert.deepEqual(f.posted, [{ type: "gotoOffset", offset: starts.get(66), line: r?.line, end: false }]);
    assert.deepEqual(f.errors, []);
    // Exactly a line's time, before the first line, after the last.
    r = await goToTime(deps(s, "2026-11-26T12:00:42Z", doc).d);
    assert.equal(r?.offset, starts.get(42));
    assert.equal(r?.exact, true);
    r = await goToTime(deps(s, "2026-11-26", doc).d);
    assert.equal(r?.offset, starts.get(0));
    f = deps(s, "2026-11-27", doc);
    r = await goToTime(f.d);
    assert.equal(r?.time, null);
    assert.equal(f.posted.length, 1);
    assert.equal((f.posted[0] as { end?: boolean }).end, true);
    assert.match(f.infos[0], /no line at or after/);
    // A time it cannot read: an error, no move.
    f = deps(s, "noon", doc);
    assert.equal(await goToTime(f.d), undefined);
    assert.equal(f.posted.length, 0);
    assert.match(f.errors[0], /cannot read "noon" as a time/);
    // A file without timestamps.
    const plain = path.join(dir, "plain.txt");
    fs.writeFileSync(plain, "no\ntimes\n");
    const p = await s.request("tome/open", { path: plain });
    f = deps(s, "2026-11-26", p.doc);
    assert.equal(await goToTime(f.d), undefined);
    assert.match(f.errors[0], /no timestamps/);
  } finally {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("without an active Tome editor, or when the input box is dismissed, nothing is asked", async () => {
  const calls: string[] = [];
  const server = {
    request: (method: string) => {
      calls.push(method);
      return Promise.reject(new Error("not expected"));
    },
  } as unknown as Requester;
  let asked = 0;
  const none = deps(undefined, "2026-11-26");
  none.d.ask = () => {
    asked++;
    return Promise.resolve("2026-11-26");
  };
  assert.equal(await goToTime(none.d), undefined);
  assert.equal(asked, 0);
  for (const answer of [undefined, "", "   "]) {
    const f = deps(server, answer);
    assert.equal(await goToTime(f.d), undefined);
    assert.equal(f.posted.length, 0);
  }
  assert.deepEqual(calls, []);
});
