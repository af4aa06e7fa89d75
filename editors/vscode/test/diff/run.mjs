// Differential test: the same keystroke script applied in code-server to a small file in VS Code's
// own text editor (the oracle) and to a copy of it in Tome's editor; both are saved with Ctrl+S
// and the saved bytes must be identical. One case per file in test/diff/cases (`NN-name.keys`);
// test/diff/known.txt lists the cases known to differ, each with its reason: a listed case that
// matches is reported as XPASS and fails the run, so the list stays true.
//
// Case files: `#` lines are comments (the first one is the title); `| text` lines give the file's
// content (one line each; without them the default below), `noeol` drops its final line break;
// the other lines are steps, run in order in both editors:
//   type TEXT          types TEXT (\t, \n and \\ are unescaped)
//   press K1 K2*3 ...  presses Playwright keys (`Control+Shift+K`; Up, Down, Left, Right for the
//                      arrows); `*N` repeats a key N times
//   altclick LINE COL  Alt+Click at 1-based line LINE, 1-based column COL (adds a cursor)
// and one setting: `wrap N` runs the case with `editor.wordWrap: wordWrapColumn` at N columns
// in both editors (cases are grouped by it, each group in a code-server started with it).
// After Ctrl+Z/Ctrl+Y (undo and redo go through VS Code's command to the server) the Tome side
// waits for the webview's redraw before the next key: a key typed during the round trip is
// refused with the old epoch (a limit of the harness's speed, not of what is compared).
//
// Settings are the same in both editors (see SETTINGS): VS Code's suggestions, auto-closing
// brackets and quotes, auto-surround and auto-indent are off (features Tome does not claim),
// indentation is tabs of 4 columns with detection off.
//
// Env: CODE_SERVER, VSIX (required), TOME_BIN, CHROMIUM, CASES (a regex on case names),
// KEEP=1 keeps the temp dir. Prints one line per case and `N passed, M failed (K known
// differences)`; exits 1 on any failure or XPASS.

import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../shared.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.resolve(here, "../..");
const BIN = path.resolve(process.env.TOME_BIN ?? path.resolve(ext, "../../target/release/tome"));
const CODE_SERVER = process.env.CODE_SERVER;
const VSIX = process.env.VSIX;
const FILTER = new RegExp(process.env.CASES ?? ".");
const sleep = (n) => new Promise((r) => setTimeout(r, n));

export const DEFAULT_TEXT = [
  "function alpha(beta, gamma) {",
  "    const delta = beta + gamma;",
  "\treturn delta.toString();",
  "}",
  "foo_bar baz-qux  quux.corge(x)",
  "  indented line with  two  spaces",
  "foo bar foo baz foo",
  "last line",
  "",
].join("\n");

export const SETTINGS = {
  "files.autoSave": "off",
  "files.insertFinalNewline": false,
  "files.trimTrailingWhitespace": false,
  "workbench.editorAssociations": { "*.log": "tome.largeFile" },
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "chat.commandCenter.enabled": false,
  // Features of VS Code's editor that Tome does not claim: off in both.
  "editor.quickSuggestions": { other: "off", comments: "off", strings: "off" },
  "editor.wordBasedSuggestions": "off",
  "editor.suggestOnTriggerCharacters": false,
  "editor.acceptSuggestionOnEnter": "off",
  "editor.autoClosingBrackets": "never",
  "editor.autoClosingQuotes": "never",
  "editor.autoClosingDelete": "never",
  "editor.autoClosingOvertype": "never",
  "editor.autoSurround": "never",
  "editor.autoIndent": "none",
  "editor.formatOnType": false,
  "editor.trimAutoWhitespace": false,
  "editor.stickyScroll.enabled": false,
  "editor.minimap.enabled": false,
  // Indentation: the same in both (Tome reads these too).
  "editor.detectIndentation": false,
  "editor.insertSpaces": false,
  "editor.tabSize": 4,
};

/** Parses a case file: title, content, steps. */
export function parseCase(src) {
  const lines = src.split("\n");
  const content = [];
  const steps = [];
  let title = "";
  let eol = true;
  let wrap = null;
  for (const raw of lines) {
    const l = raw.replace(/\r$/, "");
    if (l.startsWith("#")) {
      if (!title) title = l.replace(/^#\s*/, "");
    } else if (l.startsWith("|")) content.push(l.slice(l.startsWith("| ") ? 2 : 1));
    else if (l.trim() === "noeol") eol = false;
    else if (/^wrap \d+$/.test(l.trim())) wrap = Number(l.trim().slice(5));
    else if (l.trim()) {
      const m = /^(\w+)\s*(.*)$/.exec(l.trim());
      if (!m || !["type", "press", "altclick"].includes(m[1])) throw new Error(`bad step: ${l}`);
      steps.push({ op: m[1], arg: m[1] === "type" ? l.replace(/^\s*type ?/, "").replace(/\\([tn\\])/g, (_, c) => ({ t: "\t", n: "\n", "\\": "\\" })[c]) : m[2] });
    }
  }
  const text = content.length ? content.join("\n") + (eol ? "\n" : "") : DEFAULT_TEXT;
  return { title, text, steps, wrap };
}

/** known.txt: `NAME reason` lines. */
export function parseKnown(src) {
  const m = new Map();
  for (const l of src.split("\n")) {
    if (!l.trim() || l.startsWith("#")) continue;
    const [name, ...why] = l.trim().split(/\s+/);
    m.set(name, why.join(" "));
  }
  return m;
}

async function until(fn, what, timeout = 20000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = String(e);
    }
    await sleep(40);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const show = (b) => JSON.stringify(b.toString("utf8"));

async function main() {
  if (!CODE_SERVER || !VSIX) throw new Error("CODE_SERVER and VSIX are required");
  const cases = fs
    .readdirSync(path.join(here, "cases"))
    .filter((f) => f.endsWith(".keys"))
    .sort()
    .map((f) => ({ name: f.replace(/\.keys$/, ""), ...parseCase(fs.readFileSync(path.join(here, "cases", f), "utf8")) }))
    .filter((c) => FILTER.test(c.name));
  const known = parseKnown(fs.readFileSync(path.join(here, "known.txt"), "utf8"));

  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vscode-diff-"));
  const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vscode-diff-artifacts-"));
  console.log(`# artifacts (screenshots of failed cases, logs): ${artifacts}`);
  const home = path.join(root, "home");
  const userData = path.join(root, "user-data");
  const extDir = path.join(root, "extensions");
  const workspace = path.join(root, "workspace");
  for (const d of [home, path.join(userData, "User"), extDir, workspace]) fs.mkdirSync(d, { recursive: true });
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_DATA_HOME: path.join(home, ".local/share"),
    XDG_CACHE_HOME: path.join(home, ".cache"),
    XDG_STATE_HOME: path.join(home, ".local/state"),
    TOME_STATE_DIR: path.join(root, "tome-state"),
  };
  const writeSettings = (wrap) =>
    fs.writeFileSync(
      path.join(userData, "User", "settings.json"),
      JSON.stringify({ ...SETTINGS, "tome.serverPath": BIN, ...(wrap ? { "editor.wordWrap": "wordWrapColumn", "editor.wordWrapColumn": wrap } : {}) }),
    );
  for (const c of cases) {
    fs.writeFileSync(path.join(workspace, `${c.name}.txt`), c.text);
    fs.writeFileSync(path.join(workspace, `${c.name}.log`), c.text);
  }

  let passed = 0;
  let failed = 0;
  let knownCount = 0;
  // Cases with `wrap N` run in a code-server of their own, started with that setting: VS Code
  // does not take a settings file written while it runs (code-server 4.100 saw no change in 30 s).
  const groups = [...new Set(cases.map((c) => c.wrap))].map((w) => cases.filter((c) => c.wrap === w));
  for (const group of groups) {
    writeSettings(group[0].wrap);
    let codeServer;
    let browser;
    try {
      const common = ["--user-data-dir", userData, "--extensions-dir", extDir];
      execFileSync(CODE_SERVER, ["--install-extension", VSIX, ...common], { env, stdio: ["ignore", "ignore", "inherit"] });
      const port = await freePort();
      const log = fs.openSync(path.join(artifacts, "code-server.log"), "w");
      codeServer = spawn(
        CODE_SERVER,
        ["--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", ...common, workspace],
        { env, stdio: ["ignore", log, log], detached: true },
      );
      const base = `http://127.0.0.1:${port}`;
      await until(async () => (await fetch(`${base}/healthz`)).ok, "code-server", 60000);
      browser = await launchChromium();
      const page = await (await browser.newContext({ viewport: { width: 1400, height: 800 } })).newPage();
      if (process.env.DEBUG) page.on("console", (m) => console.log(`# console: ${m.text()}`));
      await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
      await page.waitForSelector(".monaco-workbench", { timeout: 60000 });

      const activeTab = () => page.$(".editor-group-container.active .tabs-container .tab.active");
      const isDirty = async () => {
        const t = await activeTab();
        return t ? (await t.getAttribute("class")).split(/\s+/).includes("dirty") : null;
      };
      const quickOpen = async (name) => {
        await until(async () => {
          await page.keyboard.press("Control+p");
          return !!(await page.waitForSelector(".quick-input-widget:not([style*='display: none']) input", { timeout: 3000 }).catch(() => null));
        }, "quick open");
        await page.keyboard.type(name);
        // Enter opens the focused row: wait until it is this file (the list is filtered as typed).
        await until(async () => !!(await page.$(`.quick-input-list .monaco-list-row.focused[aria-label*='${name}']`)), `${name} focused in Quick Open`);
        await page.keyboard.press("Enter");
      };
      const tomeFrame = async () => {
        for (const f of page.frames()) if (await f.$("#lines").catch(() => null)) return f;
        return null;
      };
      const closeAll = async () => {
        await page.keyboard.press("Control+k");
        await page.keyboard.press("Control+w");
        // A case whose save failed leaves a dirty editor: do not save it.
        const dont = await page
          .waitForSelector('.dialog-buttons a:has-text("Don\'t Save"), .dialog-buttons button:has-text("Don\'t Save")', { timeout: 300 })
          .catch(() => null);
        if (dont) await dont.click();
        await until(async () => !(await activeTab()) && !(await tomeFrame()), "editors closed", 10000);
      };

      // A notification toast takes Escape from the editor (VS Code binds Escape to hiding toasts
      // above removing secondary cursors or closing the find widget), so a toast left over from
      // an earlier case would make a case's Escape do something else in one editor only. Before
      // each editor's keys, visible toasts are reported (they may tell of a real problem) and
      // closed by their own close buttons (a DOM click moves no focus).
      const closeToasts = async (where) => {
        const texts = await page.evaluate(() => {
          const toasts = [...document.querySelectorAll(".notifications-toasts .notification-toast-container")];
          const texts = toasts.map((t) => t.querySelector(".notification-list-item-message")?.textContent ?? "?");
          for (const t of toasts) t.querySelector(".codicon-notifications-clear")?.closest("a, .action-label, .monaco-button")?.click();
          return texts;
        });
        for (const t of texts) console.log(`# toast before ${where}: ${t}`);
        if (texts.length) await until(async () => !(await page.$(".notifications-toasts .notification-toast-container")), "toasts closed", 5000);
      };

      /** The page position of 1-based (line, col) in VS Code's editor or Tome's. */
      const vscodePoint = (line, col) =>
        page.evaluate(
          ([line, col]) => {
            const ed = document.querySelector(".editor-group-container.active .editor-instance .monaco-editor");
            const rows = [...ed.querySelectorAll(".view-lines .view-line")];
            const lh = rows[0].getBoundingClientRect().height;
            const top = ed.querySelector(".view-lines").getBoundingClientRect().top;
            const row = rows.find((r) => Math.abs(r.getBoundingClientRect().top - top - (line - 1) * lh) < 1);
            const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
            let left = col - 1;
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
              if (left <= n.length) {
                const r = document.createRange();
                r.setStart(n, left);
                r.setEnd(n, left);
                const b = r.getBoundingClientRect();
                return { x: b.left + 1, y: b.top + lh / 2 };
              }
              left -= n.length;
            }
            const b = row.getBoundingClientRect();
            return { x: b.right - 1, y: b.top + lh / 2 };
          },
          [line, col],
        );
      const tomePoint = async (frame, line, col) => {
        const p = await frame.evaluate(
          ([line, col]) => {
            const row = document.querySelector(`.row[data-line="${line - 1}"]`);
            const tx = row.querySelector(".tx");
            const n = tx.firstChild;
            const r = document.createRange();
            r.setStart(n, Math.min(col - 1, n.length));
            r.setEnd(n, Math.min(col - 1, n.length));
            const b = r.getBoundingClientRect();
            return { x: b.left + 1, y: b.top + row.getBoundingClientRect().height / 2 };
          },
          [line, col],
        );
        const box = await (await frame.frameElement()).boundingBox();
        return { x: box.x + p.x, y: box.y + p.y };
      };

      const run = async (steps, ed) => {
        for (const s of steps) {
          if (s.op === "type") await page.keyboard.type(s.arg);
          else if (s.op === "altclick") {
            const [line, col] = s.arg.split(/\s+/).map(Number);
            const p = ed.frame ? await tomePoint(ed.frame, line, col) : await vscodePoint(line, col);
            await page.mouse.click(p.x, p.y, { modifiers: ["Alt"] });
          } else {
            for (const k of s.arg.split(/\s+/)) {
              const [name, times] = k.split("*");
              const key = name.replace(/(^|\+)(Up|Down|Left|Right)$/, "$1Arrow$2");
              for (let i = 0; i < Number(times ?? 1); i++) {
                const undoKey = /^Control\+(Shift\+)?[zy]$/i.test(key);
                // VS Code's undo entry for an edit is made when the server answers it: let the
                // edits before an undo be answered first (a harness speed limit, as below).
                if (ed.frame && undoKey) await ed.settle(false, true);
                await page.keyboard.press(key);
                if (ed.frame && undoKey) await ed.settle(true);
              }
            }
          }
        }
        if (ed.frame) await ed.settle(false);
      };

      const save = async () => {
        await page.keyboard.press("Control+s");
        await until(async () => (await isDirty()) === false, "saved", 15000);
      };

      for (const c of group) {
        const t = Date.now();
        let result;
        try {
          // VS Code's editor on NAME.txt.
          await quickOpen(`${c.name}.txt`);
          await until(
            async () =>
              (await page.$(".editor-group-container.active .editor-instance .view-lines")) &&
              (await page.evaluate(() => document.activeElement?.tagName === "TEXTAREA")),
            `${c.name}.txt focused`,
          );
          if (c.wrap) {
            // The settings file is watched: wait until VS Code's editor shows more rows than lines.
            const lines = c.text.split("\n").length;
            await until(async () => (await page.$$(".editor-group-container.active .editor-instance .view-lines .view-line")).length > lines, "VS Code wrapping", 30000);
          }
          await closeToasts(`${c.name} in VS Code`);
          await run(c.steps, {});
          await save();
          await closeAll();
          // Tome's editor on NAME.log.
          await quickOpen(`${c.name}.log`);
          const frame = await until(tomeFrame, "the Tome webview");
          await until(async () => (await frame.$eval("body", (b) => b.dataset.cursor)) !== undefined && (await frame.$$(".row")).length > 0, "Tome's lines");
          await frame.click(".row .tx", { position: { x: 1, y: 3 } });
          if (c.wrap) await until(async () => (await frame.$eval("body", (b) => b.dataset.wrapColumn)) === String(c.wrap), `Tome wrapping at ${c.wrap}`);
          const settle = async (afterUndo, beforeUndo = false) => {
            if (afterUndo) await sleep(300);
            if (beforeUndo) await sleep(200);
            await until(async () => await frame.evaluate(() => !window.tomeBusy).catch(() => false), "Tome idle");
            await sleep(50);
          };
          await closeToasts(`${c.name} in Tome`);
          await run(c.steps, { frame, settle });
          await save();
          const want = fs.readFileSync(path.join(workspace, `${c.name}.txt`));
          const got = fs.readFileSync(path.join(workspace, `${c.name}.log`));
          const same = want.equals(got);
          if (!same) await page.screenshot({ path: path.join(artifacts, `${c.name}.png`) }).catch(() => undefined);
          await closeAll();
          result = same ? null : `VS Code ${show(want)}\n       Tome    ${show(got)}`;
        } catch (e) {
          await page.screenshot({ path: path.join(artifacts, `${c.name}-error.png`) }).catch(() => undefined);
          result = `error: ${e && e.stack ? e.stack : e}`;
          await closeAll().catch(() => undefined);
        }
        const ms = Date.now() - t;
        const why = known.get(c.name);
        if (result === null && why === undefined) {
          passed++;
          console.log(`ok    ${c.name} (${ms} ms)`);
        } else if (result === null) {
          failed++;
          console.log(`XPASS ${c.name}: listed in known.txt but the files match; take it off the list (${ms} ms)`);
        } else if (why !== undefined && !result.startsWith("error")) {
          knownCount++;
          console.log(`known ${c.name}: ${why} (${ms} ms)\n       ${result}`);
        } else {
          failed++;
          console.log(`FAIL  ${c.name} — ${c.title} (${ms} ms)\n       ${result}`);
        }
      }
    } catch (e) {
      failed++;
      console.log(`FAIL harness: ${e && e.stack ? e.stack : e}`);
    } finally {
      await browser?.close().catch(() => undefined);
      if (codeServer) {
        try {
          process.kill(-codeServer.pid, "SIGTERM");
          await new Promise((r) => setTimeout(r, 5000) && codeServer.once("exit", r)); // the next group reuses its profile
        } catch {
          /* gone */
        }
      }
    }
  }
  if (!process.env.KEEP) fs.rmSync(root, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed (${knownCount} known differences)`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
