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
import { Checks, assert, launchChromium, matchingLines } from "../shared.mjs";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.resolve(here, "../..");
const { TomeServer } = require(path.join(ext, "out/rpc.js"));
const { DocSession } = require(path.join(ext, "out/session.js"));
const { renderHtml, makeNonce } = require(path.join(ext, "out/webviewHtml.js"));
const wrap = require(path.join(ext, "out/wrap.js"));

const BIN = process.env.TOME_BIN ?? path.resolve(ext, "../../target/release/tome");
const SIZE = process.env.TOME_TEST_SIZE ?? "200M";

const checks = new Checks();
const check = (name, fn) => checks.check(name, fn);
const t0 = Date.now();
const ms = (since) => `${Date.now() - since} ms`;
const sleep = (n) => new Promise((r) => setTimeout(r, n));

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
  // The clipboard the extension would give (vscode.env.clipboard): the test reads it back.
  let clipboard = "";
  // Requests the session sends, by method (a check counts the reads during typing).
  const relayed = {};
  const counting = {
    request: (method, params, signal) => {
      relayed[method] = (relayed[method] ?? 0) + 1;
      return server.request(method, params, signal);
    },
  };
  const session = new DocSession(counting, info, { clipboard: { writeText: async (t) => void (clipboard = t) } });
  // What the extension does on tome/didChangeOnDisk "appended" (src/editor.ts onDiskChange).
  server.connection.on("notification", async (method, params) => {
    if (method !== "tome/didChangeOnDisk" || params.change !== "appended") return;
    const i = await session.refreshInfo();
    session.broadcast({ type: "diskChange", change: params.change, message: params.message, info: i, follow: true });
  });
  // What the extension does with the index's $/progress (src/extension.ts): the views are told.
  server.connection.on("progress", (token, value) => {
    if (token !== info.indexProgressToken) return;
    void session.indexProgress(value.kind === "end" ? null : (value.percentage ?? 0)).catch(() => undefined);
  });
  const serverLines = async (first, count) => (await server.request("tome/viewport", { doc: info.doc, first, count })).lines;

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
  browser = await launchChromium();
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

  const rows = () => page.$$eval(".row", (els) => els.map((e) => ({ ln: e.querySelector(".ln").textContent, tx: e.querySelector(".tx").textContent })));
  const dataset = (key) => page.evaluate((k) => document.body.dataset[k], key);
  const statusText = () => page.$eval("#status", (e) => e.textContent);
  /** Lines [first, first + count) of the file as it is on disk, read here (not through Tome). */
  const fileLines = (first, count) => {
    const fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(32 << 20);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    fs.closeSync(fd);
    const all = buf.subarray(0, n).toString("utf8").split("\n");
    assert(all.length > first + count, "read enough of the file");
    return all.slice(first, first + count);
  };
  const goTo = async (line) => {
    await page.keyboard.press("Control+g");
    await page.waitForSelector("#goto:not([hidden])");
    await page.keyboard.type(String(line));
    await page.keyboard.press("Enter");
    await until(async () => (await dataset("cursor")) === `${line - 1}:0`, `cursor on line ${line}`);
  };

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

  await check("Shift+arrows and Shift+PageDown select beyond the screen; Ctrl+C copies it from the server", async () => {
    await goTo(1001);
    const page1 = (await rows()).length - 1; // PageDown moves by a screen less one line
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    for (let i = 0; i < 4; i++) await page.keyboard.press("Shift+PageDown");
    await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Shift+End");
    const endLine = 1000 + 4 * page1 + 1;
    const lines = fileLines(1000, endLine - 1000 + 1);
    const sel = `1000:3-${endLine}:${lines.at(-1).length}`;
    await until(async () => (await dataset("selection")) === sel, `the selection ${sel}`);
    const shown = (await rows()).map((r) => Number(r.ln) - 1);
    assert(!shown.includes(1000), `the selection's start (line 1001) is off screen (rows ${shown[0] + 1}…)`);
    const painted = await page.$$eval(".sel", (e) => e.length);
    assert(painted === shown.filter((l) => l <= endLine).length, `every selected row on screen is painted (${painted})`);
    const expected = [lines[0].slice(3), ...lines.slice(1)].join("\n");
    clipboard = "";
    await page.keyboard.press("Control+c");
    await until(async () => clipboard.length > 0, "the clipboard written");
    assert(clipboard === expected, `clipboard: ${clipboard.length} characters, expected ${expected.length}`);
    await until(async () => (await statusText()).includes(`copied ${expected.length} characters`), "the status says what was copied");
  });

  await check("Ctrl+A selects the whole file; copying 200 MiB is refused with a clear message", async () => {
    clipboard = "untouched";
    await page.keyboard.press("Control+a");
    await until(async () => (await dataset("selection")) === `0:0-${lineCount - 1}:0`, "everything selected");
    await page.keyboard.press("Control+c");
    await until(async () => /at most 64\.0 MiB/.test(await statusText()), "the refusal in the status");
    assert(clipboard === "untouched", "the clipboard is left alone");
    await page.keyboard.press("Escape");
    await until(async () => (await dataset("selection")) === "", "Escape drops the selection");
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
    const v0 = (await server.request("tome/info", { doc: info.doc })).version;
    await page.keyboard.type("HELLO ");
    await until(async () => (await serverLines(target - 1, 1))[0].text.startsWith("HELLO "), "HELLO on the server");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Enter");
    await until(async () => {
      const l = await serverLines(target - 1, 2);
      return l[0].text === "HELLO" && l[1].text === before && l;
    }, "split line on the server");
    const i = await server.request("tome/info", { doc: info.doc });
    assert(i.dirty && i.version === v0 + 8, `dirty ${i.dirty}, version ${i.version} (8 edits after ${v0})`);
    // The screen shows it too.
    const r = await until(
      async () => {
        const x = await rows();
        const k = x.findIndex((row) => row.ln === String(target));
        return k >= 0 && x[k].tx === "HELLO" && x[k + 1].tx.startsWith(before.slice(0, 20)) && x;
      },
      "HELLO on screen",
      3000,
    ).catch(async (e) => {
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

  await check("typing a burst reads nothing back: edits pipelined, no tome/viewport (local echo)", async () => {
    await goTo(4001);
    const before = (await serverLines(4000, 1))[0].text;
    await sleep(300);
    for (const k of Object.keys(relayed)) delete relayed[k];
    const text = "pipelined-" + "x".repeat(40);
    await page.keyboard.type(text);
    await page.keyboard.press("Enter");
    await page.keyboard.press("Backspace"); // joins the lines again (a cut line: the window is narrower)
    await until(async () => (await serverLines(4000, 1))[0].text === text + before, "the burst on the server");
    await until(async () => (await rows()).find((r) => r.ln === "4001")?.tx.startsWith(text), "the burst on screen");
    await sleep(300); // anything read back after the last edit's reply would show now
    assert(relayed["tome/edit"] === text.length + 2, `edits: ${JSON.stringify(relayed)}`);
    assert(!relayed["tome/viewport"], `lines read back while typing: ${JSON.stringify(relayed)}`);
  });

  await check("Ctrl+F finds, counts and goes to a match", async () => {
    // "N of M" once counted ("?" for N while no match is current).
    const countText = (n) => (n === 0 ? /^No results$/ : new RegExp(`^(\\?|[0-9]+) of ${n}$`));
    const label = () => page.$eval("#find-count", (e) => e.textContent);
    const current = async () => Number((await page.$$eval(".row.current .ln", (e) => e.map((x) => x.textContent)))[0]);
    const literal = matchingLines(file, /seq=123456 /g);
    assert(literal.length > 0, "the pattern occurs in the file");
    await page.keyboard.press("Control+f");
    await page.waitForSelector("#find:not([hidden])");
    await page.keyboard.type("seq=123456 ");
    // Incremental, as VS Code: typing moves to the first match after the cursor.
    await until(async () => (await current()) === literal[0], `match line ${literal[0]} current while typing`);
    await until(async () => countText(literal.length).test(await label()), String(countText(literal.length)));
    assert(literal.length === 1, "one match: Enter wraps to it");
    await page.keyboard.press("Enter");
    await until(async () => (await current()) === literal[0], `match line ${literal[0]} current`);
    const shown = await page.$eval("#match", (e) => e.style.display);
    assert(shown === "block", "match highlighted");
    await until(async () => (await label()) === `1 of ${literal.length}`, `1 of ${literal.length}`);
    // Regex and case.
    const sensitive = matchingLines(file, /SEQ=12345[0-9] /g);
    const insensitive = matchingLines(file, /SEQ=12345[0-9] /gi);
    assert(insensitive.length > 3, "several matches to step through");
    await page.fill("#find-input", "SEQ=12345[0-9] ");
    await page.check("#find-regex");
    await page.check("#find-case");
    await until(async () => countText(sensitive.length).test(await label()), `${countText(sensitive.length)} (case-sensitive)`);
    await page.uncheck("#find-case");
    await until(async () => countText(insensitive.length).test(await label()), String(countText(insensitive.length)));
    // Each change of the options moved to the first match after where the cursor was when the
    // widget opened (before all of them); Enter twice goes two further, Shift+Enter back.
    await until(async () => (await current()) === insensitive[0], `first match (line ${insensitive[0]}) after the toggles`);
    await page.press("#find-input", "Enter");
    await page.press("#find-input", "Enter");
    await until(async () => (await current()) === insensitive[2], `next match (line ${insensitive[2]})`);
    await page.press("#find-input", "Shift+Enter");
    await until(async () => (await current()) === insensitive[1], `previous match (line ${insensitive[1]})`);
  });

  await check("Replace All changes the server's document", async () => {
    await page.uncheck("#find-regex");
    await page.check("#find-case");
    await page.fill("#find-input", "HLLO");
    // Ctrl+H in the find box shows the replace row and moves there.
    assert(await page.$eval("#replace-row", (e) => e.hidden), "the replace row is hidden after Ctrl+F");
    await page.keyboard.press("Control+h");
    await until(() => page.evaluate(() => document.activeElement?.id === "replace-input"), "the replace box focused");
    await page.fill("#replace-input", "BYE");
    await page.click("#replace-all");
    await until(async () => (await page.$eval("#find", (e) => e.dataset.replaced)) === "1", "replaced 1");
    const l = (await serverLines(target - 1, 1))[0].text;
    assert(l.startsWith("BYE2026-"), `line ${target}: ${l}`);
    await page.keyboard.press("Escape");
  });

  await check("Shift+click extends the selection; typing replaces it with one edit", async () => {
    await goTo(2001);
    const before = fileLines(2000, 8);
    const at = async (line, x) => {
      const box = await page.$(`.row[data-line="${line}"] .tx`);
      const b = await box.boundingBox();
      return { x: b.x + x, y: b.y + b.height / 2 };
    };
    const cw = await page.$eval(".row .tx", (e) => e.getBoundingClientRect().width / Math.max(1, e.textContent.length));
    const a = await at(2001, cw * 5 + 1);
    await page.mouse.click(a.x, a.y);
    await until(async () => (await dataset("cursor")) === "2001:5", "click put the cursor at 2002:5");
    const b = await at(2005, cw * 10 + 1);
    await page.keyboard.down("Shift");
    await page.mouse.click(b.x, b.y);
    await page.keyboard.up("Shift");
    await until(async () => (await dataset("selection")) === "2001:5-2005:10", "Shift+click selection");
    const v = (await server.request("tome/info", { doc: info.doc })).version;
    await page.keyboard.type("Z");
    const want = before[1].slice(0, 5) + "Z" + before[5].slice(10);
    await until(async () => (await serverLines(2001, 1))[0].text === want, "the selection replaced on the server");
    const after = await server.request("tome/info", { doc: info.doc });
    assert(after.version === v + 1, `one edit: version ${v} → ${after.version}`);
    assert((await serverLines(2002, 1))[0].text === before[6], "the lines after move up");
  });

  await check("Ctrl+X cuts a multi-line selection in one edit; paste puts it back", async () => {
    await goTo(3001);
    const before = (await serverLines(3000, 6)).map((l) => l.text);
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Shift+ArrowDown");
    await until(async () => (await dataset("selection")) === "3000:1-3003:1", "selection");
    const v = (await server.request("tome/info", { doc: info.doc })).version;
    clipboard = "";
    await page.keyboard.press("Control+x");
    const cutText = [before[0].slice(1), before[1], before[2], before[3].slice(0, 1)].join("\n");
    await until(async () => (await serverLines(3000, 1))[0].text === before[0][0] + before[3].slice(1), "cut on the server");
    assert(clipboard === cutText, `clipboard after cut: ${JSON.stringify(clipboard.slice(0, 80))}`);
    assert((await server.request("tome/info", { doc: info.doc })).version === v + 1, "the cut is one edit");
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.setData("text/plain", text);
      document.getElementById("input").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    }, clipboard);
    await until(async () => JSON.stringify((await serverLines(3000, 6)).map((l) => l.text)) === JSON.stringify(before), "pasted back as it was");
    await until(async () => (await dataset("cursor")) === "3003:1", "the cursor after the pasted text");
  });

  await check("a reloaded webview comes back at the same place", async () => {
    const before = await page.evaluate(() => document.body.dataset.cursor);
    const top = (await rows())[0].ln;
    await page.reload();
    await until(async () => {
      const r = await rows();
      return r.length && r[0].ln === top;
    }, `top line ${top} after reload`).catch(async (e) => {
      console.log(
        "# after reload:",
        JSON.stringify((await rows()).slice(0, 2)),
        await statusText(),
        JSON.stringify(await page.evaluate(() => sessionStorage.getItem("tome-state"))),
      );
      throw e;
    });
    const after = await page.evaluate(() => document.body.dataset.cursor);
    assert(after === before, `cursor ${after} vs ${before}`);
  });

  await check("follow mode: lines appended to the file show up at the end", async () => {
    await page.evaluate(() => window.postMessage({ type: "follow", on: true }, "*")); // what Tome: Follow End posts
    const n = (await server.request("tome/info", { doc: info.doc })).lineCount.known;
    await until(async () => (await rows()).at(-1)?.ln === String(n), `the last line ${n} on screen`);
    assert((await dataset("following")) === "true", "following");
    const added = ["tail line one", "tail line two", "tail line three"];
    fs.appendFileSync(file, added.join("\n") + "\n");
    const r = await until(
      async () => {
        const x = await rows();
        return x.at(-1)?.ln === String(n + 3) && x;
      },
      `line ${n + 3} on screen`,
    );
    assert(JSON.stringify(r.slice(-4, -1).map((x) => x.tx)) === JSON.stringify(added), `appended lines: ${JSON.stringify(r.slice(-4))}`);
    await page.keyboard.press("ArrowUp");
    await until(async () => (await dataset("following")) === "false", "a key stops following");
  });

  await check("editor.* appearance settings apply at once: font, line height, cursor, whitespace", async () => {
    const look = () =>
      page.evaluate(() => {
        const lines = getComputedStyle(document.getElementById("lines"));
        const row = document.querySelector(".row");
        const cursor = document.getElementById("cursor");
        return {
          fontSize: lines.fontSize,
          fontFamily: lines.fontFamily,
          letterSpacing: lines.letterSpacing,
          rowHeight: row.getBoundingClientRect().height,
          rows: document.querySelectorAll(".row").length,
          cursorWidth: cursor.getBoundingClientRect().width,
          cursorBg: getComputedStyle(cursor).backgroundColor,
          marks: document.querySelectorAll("#ws .wsm").length,
          tabMarks: document.querySelectorAll("#ws .wsm.tab").length,
          dots: [...document.querySelectorAll("#ws .wsm")].map((m) => m.textContent).join(""),
          blinking: document.getElementById("editor").dataset.cursorBlinking,
        };
      });
    await page.keyboard.press("Control+Home");
    await until(async () => (await dataset("cursor")) === "0:0", "cursor at the start");
    const before = await look();
    const base = { wordSeparators: "`~!@#$%^&*()-=+[{]}\\|;:'\",.<>/?", tabSize: 4, insertSpaces: true };
    const appearance = {
      fontFamily: "monospace",
      fontSize: 20,
      fontWeight: "normal",
      lineHeight: 0,
      letterSpacing: 1,
      renderWhitespace: "all",
      cursorStyle: "block",
      cursorBlinking: "solid",
      cursorWidth: 0,
    };
    session.broadcast({ type: "editorSettings", settings: { ...base, appearance } });
    const after = await until(async () => {
      const l = await look();
      return l.fontSize === "20px" && l.rowHeight === 27 && l.rows < before.rows && l.marks > 0 && l;
    }, "font size 20px, rows 27px (20 × 1.35), fewer rows, whitespace marks");
    assert(after.letterSpacing === "1px", `letter spacing ${after.letterSpacing}`);
    const charWidth = await page.evaluate(() => {
      const p = document.createElement("span");
      p.textContent = "0".repeat(100);
      document.querySelector(".row .tx").appendChild(p);
      const w = p.getBoundingClientRect().width / 100;
      p.remove();
      return w;
    });
    // A block cursor covers one character (at the cursor or, at a line's end, a typical one).
    assert(Math.abs(after.cursorWidth - charWidth) < 1.5, `block cursor ${after.cursorWidth}px, a character ${charWidth}px`);
    // Every space of the rows on screen is marked (one dot each), in the screen's rows.
    const spaces = await page.evaluate(() => [...document.querySelectorAll(".row .tx")].reduce((n, e) => n + (e.textContent.match(/ /g)?.length ?? 0), 0));
    assert(after.dots.replace(/\u2192/g, "").length === spaces, `${after.dots.length} dots for ${spaces} spaces`);
    await page.screenshot({ path: path.join(process.env.TOME_SCREENSHOTS ?? dir, "appearance.png") }).catch(() => undefined);
    // Back to VS Code's defaults: line cursor 2px, whitespace only in selections (none here).
    session.broadcast({
      type: "editorSettings",
      settings: { ...base, appearance: { ...appearance, fontSize: 14, letterSpacing: 0, renderWhitespace: "selection", cursorStyle: "line", cursorBlinking: "blink" } },
    });
    const back = await until(async () => {
      const l = await look();
      return l.fontSize === "14px" && l.rowHeight === 19 && l;
    }, "back to 14px");
    assert(back.cursorWidth === 2 && back.marks === 0 && back.blinking === "blink", JSON.stringify(back));
  });

  await check("word wrap: rows as wrap.ts lays them out; Ctrl+G, a click on a wrapped row, Shift+Down and the selection painted per row", async () => {
    const W = 30;
    await post({ type: "wrap", wrap: { ...wrap.DEFAULT_WRAP, wordWrap: "wordWrapColumn", wordWrapColumn: W } });
    await until(async () => (await dataset("wrapColumn")) === String(W), "wrapping at 30");
    await goTo(3001);
    const byLine = await until(async () => {
      const els = await page.$$eval(".row", (es) =>
        es.map((e) => ({ line: e.dataset.line, ln: e.querySelector(".ln").textContent, tx: e.querySelector(".tx").textContent })),
      );
      const m = new Map();
      for (const r of els) m.set(r.line, [...(m.get(r.line) ?? []), r]);
      return m.size > 1 && m.size < els.length && m;
    }, "wrapped rows");
    const want = (await serverLines(3000, 4)).map((l) => l.text); // the document (edited above), from the server
    const classes = new wrap.BreakClasses(wrap.DEFAULT_WRAP.breakBefore, wrap.DEFAULT_WRAP.breakAfter);
    for (const [line, rs] of byLine) {
      const text = rs.map((r) => r.tx).join("");
      const n = Number(line);
      if (n >= 3000 && n < 3004) assert(text === want[n - 3000], `line ${n + 1}'s rows joined: ${JSON.stringify(text)}`);
      const b = [0, ...wrap.wordBreaks(text, W, 4, classes), text.length];
      const expected = b.slice(1).map((e, i) => text.slice(b[i], e));
      if (rs.length === expected.length)
        assert(JSON.stringify(rs.map((r) => r.tx)) === JSON.stringify(expected), `line ${n + 1}'s rows: ${JSON.stringify(rs.map((r) => r.tx))}`);
      else assert(rs[0].ln !== "" || rs.length < expected.length, `line ${n + 1}: ${rs.length} rows, want ${expected.length}`); // cut by the screen's edge
      assert(
        rs.slice(1).every((r) => r.ln === ""),
        "the number on a line's first row only",
      );
    }
    // A click in the second row of line 3001, on its 4th character.
    const second = byLine.get("3000")[1];
    const rowStart = byLine.get("3000")[0].tx.length;
    const box = await page.$$(`.row[data-line="3000"] .tx`);
    const p = await box[1].evaluate((tx) => {
      const r = document.createRange();
      r.setStart(tx.firstChild, 3);
      r.setEnd(tx.firstChild, 4);
      const b = r.getBoundingClientRect();
      return { x: b.left + b.width / 2 - 1, y: b.top + b.height / 2 };
    });
    await page.mouse.click(p.x, p.y);
    await until(async () => (await dataset("cursor")) === `3000:${rowStart + 3}`, `the click at 3000:${rowStart + 3} (row ${JSON.stringify(second.tx)})`);
    // Shift+Down twice: two rows further (the goal column kept), the selection painted on each row it covers.
    await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Shift+ArrowDown");
    await until(async () => (await dataset("selection"))?.startsWith(`3000:${rowStart + 3}-`), "a selection");
    const boxes = await page.$$eval("#selection .sel", (es) => es.map((e) => Math.round(parseFloat(e.style.top))));
    assert(boxes.length === 3 && new Set(boxes).size === 3, `one box per row: ${JSON.stringify(boxes)}`);
    await page.keyboard.press("Escape");
    // Alt+click on the second row adds a cursor drawn on that row (not on the line's first).
    await page.keyboard.down("Alt");
    await page.mouse.click(p.x, p.y);
    await page.keyboard.up("Alt");
    const extra = await until(() => page.$eval("#extra .extra-cursor", (e) => parseFloat(e.style.top)).catch(() => null), "a secondary cursor");
    const rowTop = await page.$$eval('.row[data-line="3000"]', (es) => es[1].offsetTop); // the rows were drawn again: query them anew
    assert(Math.abs(extra - rowTop) < 1, `the secondary cursor on its row: top ${extra}, row ${rowTop}`);
    await page.keyboard.press("Escape");
    await page.keyboard.press("Escape");
    // editor.renderWhitespace and cursorStyle on wrapped rows. "all": every space of the rows on
    // screen marked, on its row; "trailing": no mark on a row its line continues after (VS Code
    // draws trailing whitespace per view line, none on a wrapped one); a block cursor on a
    // continuation row covers its character there.
    const looks = (renderWhitespace, cursorStyle = "block", cursorBlinking = "solid") => ({
      type: "editorSettings",
      settings: {
        wordSeparators: "`~!@#$%^&*()-=+[{]}\\|;:'\",.<>/?",
        tabSize: 4,
        insertSpaces: true,
        appearance: {
          fontFamily: "monospace",
          fontSize: 14,
          fontWeight: "normal",
          lineHeight: 0,
          letterSpacing: 0,
          renderWhitespace,
          cursorStyle,
          cursorBlinking,
          cursorWidth: 0,
        },
      },
    });
    const marksByRow = () =>
      page.evaluate(() => {
        const rows = [...document.querySelectorAll(".row")].map((e, i, all) => ({
          top: e.getBoundingClientRect().top,
          text: e.querySelector(".tx").textContent,
          continues: !!all[i + 1] && all[i + 1].dataset.line === e.dataset.line,
        }));
        const marks = [...document.querySelectorAll("#ws .wsm")].map((m) => ({ top: m.getBoundingClientRect().top, dots: m.textContent.replace(/\u2192/g, "").length }));
        return { rows, marks };
      });
    session.broadcast(looks("all"));
    const all = await until(async () => {
      const m = await marksByRow();
      return m.marks.length > 0 && m;
    }, "whitespace marks on the wrapped rows");
    for (const [i, r] of all.rows.entries()) {
      const dots = all.marks.filter((m) => Math.abs(m.top - r.top) < 2).reduce((n, m) => n + m.dots, 0);
      assert(dots === (r.text.match(/ /g)?.length ?? 0), `row ${i} ${JSON.stringify(r.text)}: ${dots} dots`);
    }
    assert(
      all.rows.some((r) => r.continues && r.text.endsWith(" ")),
      "a wrapped row ends with a space (the trailing case below means something)",
    );
    session.broadcast(looks("trailing"));
    const trailing = await until(async () => {
      const m = await marksByRow();
      return m.marks.length !== all.marks.length && m;
    }, "trailing marks only");
    for (const m of trailing.marks) {
      const r = trailing.rows.find((x) => Math.abs(m.top - x.top) < 2);
      assert(r && !r.continues, `a trailing mark on a row its line continues after: ${JSON.stringify(r?.text)}`);
    }
    await page.mouse.click(p.x, p.y);
    await until(async () => (await dataset("cursor")) === `3000:${rowStart + 3}`, "the cursor on the continuation row");
    const block = await page.evaluate(() => {
      const c = document.getElementById("cursor").getBoundingClientRect();
      const rows = [...document.querySelectorAll('.row[data-line="3000"]')];
      return { top: c.top, width: c.width, text: document.getElementById("cursor").textContent, rowTop: rows[1].getBoundingClientRect().top };
    });
    assert(Math.abs(block.top - block.rowTop) < 1, `the block cursor on its row: ${JSON.stringify(block)}`);
    assert(block.text === second.tx[3] && block.width > 2, `the block cursor shows the character under it: ${JSON.stringify(block)}`);
    session.broadcast(looks("selection", "line", "blink")); // as the check before left them
    await post({ type: "wrap", wrap: wrap.DEFAULT_WRAP });
    await until(async () => (await dataset("wrapColumn")) === "0", "no wrapping");
    await until(async () => {
      const r = await rows();
      return r.length > 3 && r.every((x) => x.ln !== "");
    }, "one row per line again");
  });

  await check("no errors in the page", async () => {
    assert(pageErrors.length === 0, pageErrors.join("\n"));
    const status = await page.$eval("#status", (e) => e.textContent);
    assert(!/error/i.test(status), `status: ${status}`);
  });
} catch (e) {
  checks.fail("harness", e);
} finally {
  await browser?.close().catch(() => undefined);
  httpServer?.close();
  await server?.stop().catch(() => undefined);
  if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`# browser test took ${ms(t0)}`);
checks.finish();
