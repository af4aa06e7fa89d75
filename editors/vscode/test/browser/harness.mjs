// Browser test: the real webview page (src/webviewHtml.ts + out/webview/editor.js +
// media/editor.css) in headless Chromium via playwright-core, its postMessage protocol relayed
// by the same DocSession the extension uses to a real `tome serve` on a generated file.
//
// Env: TOME_BIN (default ../../target/release/tome), TOME_TEST_SIZE (default 200M),
// CHROMIUM (default /usr/bin/chromium), KEEP=1 keeps the temp dir.
// Prints one line per check and a final `N passed, M failed`; exits 1 on any failure.

import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.resolve(here, "../..");
const { TomeServer } = require(path.join(ext, "out/rpc.js"));
const { DocSession } = require(path.join(ext, "out/session.js"));
const { renderHtml, makeNonce } = require(path.join(ext, "out/webviewHtml.js"));

const BIN = process.env.TOME_BIN ?? path.resolve(ext, "../../target/release/tome");
const SIZE = process.env.TOME_TEST_SIZE ?? "200M";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

let passed = 0;
let failed = 0;
const t0 = Date.now();
const ms = (since) => `${Date.now() - since} ms`;

async function check(name, fn) {
  const start = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${ms(start)})`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${ms(start)}): ${e && e.stack ? e.stack : e}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
async function until(fn, what, timeout = 15000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vscode-browser-"));
const file = path.join(dir, "big.log");
let server;
let browser;
let httpServer;
try {
  let start = Date.now();
  execFileSync(BIN, ["gen", file, "--size", SIZE], { stdio: ["ignore", "ignore", "inherit"] });
  console.log(`# generated ${SIZE} in ${ms(start)}`);

  server = await TomeServer.start(BIN, { env: { ...process.env, TOME_STATE_DIR: path.join(dir, "state") } });
  start = Date.now();
  const info = await server.request("tome/open", { path: file });
  console.log(`# tome/open answered in ${ms(start)} (index ${info.indexPercent}%)`);
  const session = new DocSession(server, info);
  const serverLines = async (first, count) =>
    (await server.request("tome/viewport", { doc: info.doc, first, count })).lines;

  // The page, served over http like the webview's resources.
  httpServer = http.createServer((req, res) => {
    const origin = `http://${req.headers.host}`;
    const send = (type, body) => {
      res.writeHead(200, { "content-type": type });
      res.end(body);
    };
    if (req.url === "/") {
      send("text/html", renderHtml({ scriptUri: "/editor.js", styleUri: "/editor.css", cspSource: origin, nonce: makeNonce() }));
    } else if (req.url === "/editor.js") send("text/javascript", fs.readFileSync(path.join(ext, "out/webview/editor.js")));
    else if (req.url === "/editor.css") send("text/css", fs.readFileSync(path.join(ext, "media/editor.css")));
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${httpServer.address().port}/`;

  start = Date.now();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  // What VS Code gives a webview: acquireVsCodeApi().postMessage → host; host → window message.
  const post = (m) => page.evaluate((msg) => window.postMessage(msg, "*"), m).catch(() => undefined);
  session.attach(post);
  await page.exposeFunction("__tomeHost", (m) => session.handle(m, post));
  await page.addInitScript(() => {
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__tomeHost(m),
      // VS Code keeps this state while it reloads a hidden webview; sessionStorage does here.
      getState: () => JSON.parse(sessionStorage.getItem("tome-state") ?? "null") ?? undefined,
      setState: (s) => sessionStorage.setItem("tome-state", JSON.stringify(s)),
    });
  });
  await page.goto(url);
  console.log(`# browser up and page loaded in ${ms(start)}`);

  const rows = () =>
    page.$$eval(".row", (els) => els.map((e) => ({ ln: e.querySelector(".ln").textContent, tx: e.querySelector(".tx").textContent })));

  await check("first lines are on screen with line numbers", async () => {
    const r = await until(async () => {
      const x = await rows();
      return x.length > 5 && x;
    }, "rows");
    const want = await serverLines(0, r.length);
    assert(r[0].ln === "1" && r[1].ln === "2", `line numbers ${r[0].ln}, ${r[1].ln}`);
    assert(/seq=0 /.test(r[0].tx), `first line: ${r[0].tx}`);
    for (let i = 0; i < r.length; i++) {
      assert(want[i].text.startsWith(r[i].tx.replace(/…$/, "")) || r[i].tx.startsWith(want[i].text), `row ${i}: ${r[i].tx} vs ${want[i].text}`);
    }
    const n = await page.$$eval(".row", (e) => e.length);
    assert(n < 60, `only visible lines rendered (${n})`);
  });

  await check("index completes and the scrollbar spans the file", async () => {
    await until(async () => (await server.request("tome/info", { doc: info.doc })).indexComplete, "index", 60000);
    const h = await page.$eval("#spacer", (e) => parseFloat(e.style.height));
    assert(h > 100000, `spacer height ${h}`);
  });

  let lineCount;
  await check("Ctrl+End scrolls to the end", async () => {
    const i = await server.request("tome/info", { doc: info.doc });
    lineCount = i.lineCount.known;
    await page.keyboard.press("Control+End");
    const r = await until(async () => {
      const x = await rows();
      return x.length && x[x.length - 1].ln === String(lineCount) && x;
    }, `last line ${lineCount}`);
    const want = await serverLines(lineCount - 2, 2);
    const secondLast = r[r.length - 2];
    assert(want[0].text.startsWith(secondLast.tx.replace(/…$/, "")), `second last: ${secondLast.tx} vs ${want[0].text}`);
    const pos = await page.$eval("#scroller", (e) => e.scrollTop / (e.scrollHeight - e.clientHeight));
    assert(pos > 0.99, `scrollbar at the end (${pos})`);
  });

  await check("dragging the scrollbar to the middle shows the middle lines", async () => {
    await page.$eval("#scroller", (e) => (e.scrollTop = (e.scrollHeight - e.clientHeight) / 2));
    const r = await until(async () => {
      const x = await rows();
      const n = Number(x[0]?.ln);
      return Math.abs(n - lineCount / 2) < 100 && x;
    }, "middle");
    const want = await serverLines(Number(r[0].ln) - 1, 1);
    assert(want[0].text.startsWith(r[0].tx.replace(/…$/, "")), `middle: ${r[0].tx}`);
  });

  const target = Math.min(1000000, Math.floor(lineCount / 2) + 17);
  await check(`Ctrl+G goes to line ${target}`, async () => {
    await page.keyboard.press("Control+g");
    await page.waitForSelector("#goto:not([hidden])");
    await page.keyboard.type(String(target));
    await page.keyboard.press("Enter");
    const r = await until(async () => {
      const x = await rows();
      return x.find((row) => row.ln === String(target)) && x;
    }, `line ${target} on screen`);
    const row = r.find((x) => x.ln === String(target));
    assert(row.tx.includes(`seq=${target - 1} `), `line ${target}: ${row.tx}`);
    const cur = await page.$eval(".row.current .ln", (e) => e.textContent);
    assert(cur === String(target), `current line ${cur}`);
  });

  await check("typing, Backspace and Enter edit the server's document", async () => {
    const before = (await serverLines(target - 1, 1))[0].text;
    await page.keyboard.type("HELLO ");
    await until(async () => (await serverLines(target - 1, 1))[0].text.startsWith("HELLO "), "HELLO on the server");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Enter");
    await until(async () => {
      const l = await serverLines(target - 1, 2);
      return l[0].text === "HELLO" && l[1].text === before && l;
    }, "split line on the server");
    const i = await server.request("tome/info", { doc: info.doc });
    assert(i.dirty && i.version === 8, `dirty ${i.dirty}, version ${i.version}`);
    // The screen shows it too.
    const r = await until(async () => {
      const x = await rows();
      const k = x.findIndex((row) => row.ln === String(target));
      return k >= 0 && x[k].tx === "HELLO" && x[k + 1].tx.startsWith(before.slice(0, 20)) && x;
    }, "HELLO on screen", 3000).catch(async (e) => {
      console.log(JSON.stringify((await rows()).filter((r) => Math.abs(Number(r.ln) - target) < 2)), await page.$eval("#status", (x) => x.textContent));
      throw e;
    });
    assert(r, "screen");
    const cursor = await page.evaluate(() => document.body.dataset.cursor);
    assert(cursor === `${target}:0`, `cursor ${cursor}`);
  });

  await check("Backspace at column 0 joins lines; arrows and Delete", async () => {
    const before = (await serverLines(target, 1))[0].text; // the line the cursor is on
    await page.keyboard.press("Backspace"); // joins with "HELLO"
    await until(async () => (await serverLines(target - 1, 1))[0].text === "HELLO" + before, "joined");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Delete"); // removes the E
    await until(async () => (await serverLines(target - 1, 1))[0].text === "HLLO" + before, "deleted E");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("PageDown");
    await until(async () => {
      const c = (await page.evaluate(() => document.body.dataset.cursor)).split(":").map(Number);
      return c[0] > target + 10;
    }, "PageDown moved the cursor");
  });

  await check("Ctrl+F finds, counts and goes to a match", async () => {
    await page.keyboard.press("Control+f");
    await page.waitForSelector("#find:not([hidden])");
    await page.keyboard.type("seq=123456 ");
    await until(async () => (await page.$eval("#find-count", (e) => e.textContent)) === "1 match", "1 match");
    await page.keyboard.press("Enter");
    await until(async () => (await page.$$eval(".row.current .ln", (e) => e.map((x) => x.textContent)))[0] === "123457", "match line current");
    const shown = await page.$eval("#match", (e) => e.style.display);
    assert(shown === "block", "match highlighted");
    // Regex and case.
    await page.fill("#find-input", "SEQ=12345[0-9] ");
    await page.check("#find-regex");
    await page.check("#find-case");
    await until(async () => (await page.$eval("#find-count", (e) => e.textContent)) === "0 matches", "0 matches (case-sensitive)");
    await page.uncheck("#find-case");
    await until(async () => (await page.$eval("#find-count", (e) => e.textContent)) === "10 matches", "10 matches");
    const current = async () => (await page.$$eval(".row.current .ln", (e) => e.map((x) => x.textContent)))[0];
    // From the cursor (on seq=123456): Enter finds it, Enter again the next, Shift+Enter goes back.
    await page.press("#find-input", "Enter");
    await page.press("#find-input", "Enter");
    await until(async () => (await current()) === "123458", "next match (line 123458)");
    await page.press("#find-input", "Shift+Enter");
    await page.press("#find-input", "Shift+Enter");
    await until(async () => (await current()) === "123456", "previous match (line 123456)");
  });

  await check("Replace All changes the server's document", async () => {
    await page.uncheck("#find-regex");
    await page.check("#find-case");
    await page.fill("#find-input", "HLLO");
    await page.fill("#replace-input", "BYE");
    await page.click("#replace-all");
    await until(async () => (await page.$eval("#find-count", (e) => e.textContent)) === "replaced 1", "replaced 1");
    const l = (await serverLines(target - 1, 1))[0].text;
    assert(l.startsWith("BYE2026-"), `line ${target}: ${l}`);
    await page.keyboard.press("Escape");
  });

  await check("a reloaded webview comes back at the same place", async () => {
    const before = await page.evaluate(() => document.body.dataset.cursor);
    const top = (await rows())[0].ln;
    await page.reload();
    await until(async () => {
      const r = await rows();
      return r.length && r[0].ln === top;
    }, `top line ${top} after reload`);
    const after = await page.evaluate(() => document.body.dataset.cursor);
    assert(after === before, `cursor ${after} vs ${before}`);
  });

  await check("no errors in the page", async () => {
    assert(pageErrors.length === 0, pageErrors.join("\n"));
    const status = await page.$eval("#status", (e) => e.textContent);
    assert(!/error/i.test(status), `status: ${status}`);
  });
} catch (e) {
  failed++;
  console.log(`FAIL harness: ${e && e.stack ? e.stack : e}`);
} finally {
  await browser?.close().catch(() => undefined);
  httpServer?.close();
  await server?.stop().catch(() => undefined);
  if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`# browser test took ${ms(t0)}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
