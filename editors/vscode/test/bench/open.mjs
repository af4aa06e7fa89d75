// Benchmark (not a test): from "open" to the file's first rows on screen in code-server, for
// VS Code's own editor on a small file, VS Code's image preview on a small PNG (a webview
// editor of VS Code's own: the floor for any webview editor), Tome's editor on the same small
// file, and Tome's editor on a big one (issue 16 item 4). Runs alternate the order of the kinds.
//
// A run: Quick Open lists the file, then Enter is pressed (Node's clock, t0); the page (or,
// for Tome, the webview's frame, found as soon as it exists) is polled every 5 ms until the
// first line's text is in the editor's rows (t1). The polling adds up to ~5 ms plus one CDP
// round trip to every kind alike. Then the editor is closed (Ctrl+W) and the next run starts
// once it is gone. From the extension's log: the time `tome/open` took (the host's part
// before the webview exists).
//
// Env: CODE_SERVER, VSIX (required), TOME_BIN, CHROMIUM, RUNS (default 10), BIG (a big file
// to open, linked into the workspace; default: `tome gen --size SIZE`, SIZE default 1G).
// Prints a table and one JSON line (`# json`).

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { makeRoot, median, now, sleep, start, until } from "./codeserver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.resolve(here, "../..");
const BIN = path.resolve(process.env.TOME_BIN ?? path.resolve(ext, "../../target/release/tome"));
const CODE_SERVER = process.env.CODE_SERVER;
const VSIX = process.env.VSIX;
const RUNS = Number(process.env.RUNS ?? 10);
const SIZE = process.env.SIZE ?? "1G";

const { root, userData, workspace, ...dirs } = makeRoot("tome-bench-open-", {
  "tome.serverPath": BIN,
  "workbench.editorAssociations": { "*.log": "tome.largeFile" },
});
const lines = [];
for (let i = 1; i <= 200; i++) lines.push(`L${String(i).padStart(4, "0")}-alpha-beta-gamma ${"x".repeat(i % 30)} end`);
const text = lines.join("\n") + "\n";
fs.writeFileSync(path.join(workspace, "small.txt"), text);
fs.writeFileSync(path.join(workspace, "small.log"), text);
// A 64x64 PNG for VS Code's image preview: a webview editor of VS Code's own, whose start is
// the floor for any webview editor's first paint.
fs.writeFileSync(path.join(workspace, "small.png"), png(64, 64));
const big = path.join(workspace, "big.log");
if (process.env.BIG) {
  try {
    fs.linkSync(process.env.BIG, big);
  } catch {
    fs.symlinkSync(path.resolve(process.env.BIG), big);
  }
} else {
  execFileSync(BIN, ["gen", big, "--size", SIZE], { stdio: ["ignore", "ignore", "inherit"] });
}
const firstOfBig = (() => {
  const fd = fs.openSync(big, "r");
  const buf = Buffer.alloc(256);
  fs.readSync(fd, buf, 0, 256, 0);
  fs.closeSync(fd);
  return buf.toString("utf8").split("\n")[0].slice(0, 40);
})();
const bigBytes = fs.statSync(big).size;

const kinds = {
  "VS Code, small.txt": { name: "small.txt", expect: "L0001-alpha", tome: false },
  "VS Code's image preview (a webview), small.png": { name: "small.png", image: true },
  "Tome, small.log": { name: "small.log", expect: "L0001-alpha", tome: true },
  [`Tome, big.log (${(bigBytes / 2 ** 30).toFixed(1)} GiB)`]: { name: "big.log", expect: firstOfBig, tome: true },
};

/** A PNG of `w`×`h` pixels, a colour gradient (zlib from Node, a CRC-32 here). */
function png(w, h) {
  const crc32 = (buf) => {
    let crc = 0xffffffff;
    for (const byte of buf) {
      let c = (crc ^ byte) & 0xff;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crc = (crc >>> 8) ^ c;
    }
    return (crc ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  const rows = Buffer.alloc(h * (1 + 3 * w));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows.set([x * 4, y * 4, 128], y * (1 + 3 * w) + 1 + 3 * x);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", zlib.deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

let session;
let exitCode = 0;
try {
  if (!CODE_SERVER || !VSIX) throw new Error("CODE_SERVER and VSIX are required");
  session = await start({ root, userData, workspace, ...dirs }, CODE_SERVER, VSIX, { width: 1600, height: 900 });
  const { page, quickOpen } = session;

  const shownIn = async (k) => {
    if (k.image) {
      for (const f of page.frames()) {
        if (
          await f
            .evaluate(() => !!document.querySelector("img") && document.querySelector("img").complete && document.querySelector("img").naturalWidth > 0)
            .catch(() => false)
        )
          return true;
      }
      return false;
    }
    if (!k.tome) {
      const t = await page.$eval(".editor-instance .view-lines", (e) => e.textContent).catch(() => "");
      return t.includes(k.expect);
    }
    for (const f of page.frames()) {
      const t = await f.$eval("#lines", (e) => e.textContent).catch(() => "");
      if (t.replace(/\u00a0/g, " ").includes(k.expect)) return true;
    }
    return false;
  };
  const editorOpen = async () => (await page.$$(".tabs-container .tab")).length > 0;

  // Where a Tome open's time goes: when the webview's outer frame (VS Code's) and its inner
  // frame (the page Tome's HTML is in) started loading, when editor.js had arrived, and when
  // the inner page's DOMContentLoaded ended; ms after Enter, from the frames' own clocks.
  const phases = {};
  async function breakdown(t0) {
    for (const f of page.frames()) {
      if (!(await f.$("#lines").catch(() => null))) continue;
      const inner = await f.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0];
        const script = performance.getEntriesByType("resource").find((e) => /editor\.js/.test(e.name));
        return {
          origin: performance.timeOrigin,
          script: script ? script.responseEnd : null,
          dom: nav ? nav.domContentLoadedEventEnd : null,
          nav: nav ? nav.toJSON() : null,
        };
      });
      const outer = f.parentFrame() ? await f.parentFrame().evaluate(() => performance.timeOrigin) : null;
      const rel = (x) => (x === null ? null : x - t0);
      if (process.env.NAV) console.log(JSON.stringify(inner.nav));
      return {
        "outer frame starts": rel(outer),
        "inner frame starts": rel(inner.origin),
        "editor.js arrived": inner.script === null ? null : rel(inner.origin + inner.script),
        "DOMContentLoaded done": inner.dom === null ? null : rel(inner.origin + inner.dom),
      };
    }
    return null;
  }

  async function once(k, record = false) {
    await quickOpen(k.name, false);
    const t0 = now();
    await page.keyboard.press("Enter");
    await until(() => shownIn(k), `${k.name} shown`, 60000, 5);
    const ms = now() - t0;
    if (record && k.tome) {
      const b = await breakdown(t0);
      for (const [phase, at] of Object.entries(b ?? {})) if (at !== null) (phases[`${k.name}: ${phase}`] ??= []).push(at);
      (phases[`${k.name}: first rows seen`] ??= []).push(ms);
    }
    await sleep(300);
    await page.keyboard.press("Control+w");
    await until(async () => !(await editorOpen()), `${k.name} closed`, 10000);
    await sleep(500);
    return ms;
  }

  // One warm-up round (code-server loads the editors' code, the extension starts its server).
  for (const k of Object.values(kinds)) await once(k);
  const results = Object.fromEntries(Object.keys(kinds).map((n) => [n, []]));
  for (let run = 0; run < RUNS; run++) {
    const names = Object.keys(kinds);
    const order = run % 2 ? names.reverse() : names;
    const row = [];
    for (const n of order) {
      const ms = await once(kinds[n], true);
      results[n].push(ms);
      row.push(`${n} ${ms.toFixed(0)} ms`);
    }
    console.log(`# run ${run + 1}: ${row.join(", ")}`);
  }
  // The host's `tome/open` times, from the extension's log.
  const opens = [];
  for (const f of fs.readdirSync(path.join(userData, "logs"), { recursive: true }).filter((f) => /Tome\.log$/.test(String(f)))) {
    for (const m of fs.readFileSync(path.join(userData, "logs", String(f)), "utf8").matchAll(/tome\/open (\S+): (\d+) ms/g)) {
      opens.push({ file: path.basename(m[1]), ms: Number(m[2]) });
    }
  }
  const summary = {};
  console.log("| open to first rows | median | min | max |");
  console.log("| --- | --- | --- | --- |");
  for (const [n, xs] of Object.entries(results)) {
    summary[n] = { median: Number(median(xs).toFixed(0)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)), runs: xs.length };
    console.log(`| ${n} | ${summary[n].median} ms | ${summary[n].min} ms | ${summary[n].max} ms |`);
  }
  console.log("| Tome's open, after Enter (medians) | ms |");
  console.log("| --- | --- |");
  for (const [phase, xs] of Object.entries(phases)) console.log(`| ${phase} | ${median(xs).toFixed(0)} |`);
  summary.phases = Object.fromEntries(Object.entries(phases).map(([p, xs]) => [p, Number(median(xs).toFixed(0))]));
  for (const file of ["small.log", "big.log"]) {
    const xs = opens.filter((o) => o.file === file).map((o) => o.ms);
    if (xs.length) console.log(`# the extension's tome/open of ${file}: median ${median(xs)} ms (${xs.length} opens)`);
  }
  console.log(`# json ${JSON.stringify({ summary, opens })}`);
} catch (e) {
  await session?.page.screenshot({ path: path.join(root, "failed.png") }).catch(() => undefined);
  console.error(`benchmark failed: ${e && e.stack ? e.stack : e} (screenshot: ${path.join(root, "failed.png")})`);
  console.error(`(code-server log: ${path.join(root, "code-server.log")})`);
  exitCode = 1;
} finally {
  await session?.close();
  if (!exitCode && !process.env.KEEP) fs.rmSync(root, { recursive: true, force: true });
}
process.exit(exitCode);
