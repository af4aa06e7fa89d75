// Reading ranges for Copy (src/textRange.ts) against the real `tome serve`: multi-byte text,
// CRLF, a line longer than the server's widest window with characters outside the BMP on the
// window boundaries, and the size cap.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TomeServer } from "../../rpc";
import { RangeTooLargeError, readRange } from "../../textRange";
import type { Position } from "../../viewport";

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");

// 1023 and 16383 put a surrogate pair across the 1024- and 16384-column windows.
const long = "a".repeat(1023) + "🦀" + "b".repeat(16383 - 1025) + "🦀" + "c".repeat(30000) + "🦀z";
const lines = ["héllo wörld", "crlf line", long, "", "last"];
const breaks = ["\n", "\r\n", "\n", "\n", ""];
const content = lines.map((l, i) => l + breaks[i]).join("");

/** The expected text of a range, cut from the JavaScript string (UTF-16 columns = string indices). */
function expected(start: Position, end: Position): string {
  const lineStart = (n: number): number => lines.slice(0, n).reduce((s, l, i) => s + l.length + breaks[i].length, 0);
  return content.slice(lineStart(start.line) + start.character, lineStart(end.line) + end.character);
}

test("readRange reads any range, across windows and lines, as the file holds it", { skip: !fs.existsSync(binary) && "no tome binary" }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-range-"));
  const file = path.join(dir, "a.txt");
  fs.writeFileSync(file, content);
  const server = await TomeServer.start(binary, { env: { ...process.env, TOME_STATE_DIR: path.join(dir, "state") } });
  try {
    const { doc } = await server.request<{ doc: number }>("tome/open", { path: file });
    const ranges: [Position, Position][] = [
      [{ line: 0, character: 0 }, { line: 4, character: 4 }], // everything
      [{ line: 0, character: 3 }, { line: 2, character: 1030 }], // into the long line, past a pair on a boundary
      [{ line: 2, character: 2000 }, { line: 4, character: 2 }], // starting far right in a line
      [{ line: 2, character: 16000 }, { line: 2, character: 17000 }], // within one line across a window end
      [{ line: 1, character: 2 }, { line: 3, character: 0 }], // ending at column 0
      [{ line: 2, character: long.length - 3 }, { line: 3, character: 0 }], // the last pair of the line
    ];
    for (const [start, end] of ranges) {
      const text = await readRange(server, doc, { start, end }, "lf");
      assert.equal(text.length, expected(start, end).length, `length of ${JSON.stringify([start, end])}`);
      assert.ok(text === expected(start, end), `text of ${JSON.stringify([start, end])}`);
    }
    await assert.rejects(readRange(server, doc, { start: { line: 0, character: 0 }, end: { line: 4, character: 4 } }, "lf", 1000), (e: unknown) => {
      assert.ok(e instanceof RangeTooLargeError);
      assert.match(e.message, /at most 0\.0 MiB/);
      assert.ok(e.bytes > 1000);
      return true;
    });
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
