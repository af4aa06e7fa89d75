// Benchmark (not a test): how fast typed keys reach the screen in code-server, in Tome's editor
// and in VS Code's own editor, on copies of one small file, in the same run. Two figures per
// editor: key-to-screen for single keys (a key pressed, then a pause), and the time for a burst
// of 100 characters typed at once to be on screen. Rounds alternate which editor goes first.
//
// A key's time runs from just before Playwright sends it (Node's clock) to the animation frame
// after the page's text first holds it (a MutationObserver in the page, then
// requestAnimationFrame: the frame about to be painted). Both clocks are the machine's wall
// clock (timeOrigin + now), so the webview's iframe and Node compare directly. The automation's
// own overhead (one CDP round trip per key) is in both editors' figures.
//
// VS Code's editor runs with word-based suggestions off (so its figures are not slowed by the
// suggest widget; that makes the comparison stricter for Tome). `small.txt` opens in VS Code's
// editor, `small.log` in Tome's (`workbench.editorAssociations`), side by side.
//
// With SAVE_SIZE (e.g. 1G), then also in Tome on a generated file of that size: single keys
// typed into it before a save, and while its save (Ctrl+S, after one edit) runs; the save's
// duration is read from the extension's log ("tome/save …: done in N ms").
//
// Env: CODE_SERVER, VSIX (required), TOME_BIN, CHROMIUM, ROUNDS (default 3), SINGLES (keys per
// round, default 20), BURSTS (per round, default 3), SAVE_SIZE (default none). Prints a table
// and one JSON line (`# json`).

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { makeRoot, median, now, sleep, start, until } from "./codeserver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.resolve(here, "../..");
const BIN = path.resolve(process.env.TOME_BIN ?? path.resolve(ext, "../../target/release/tome"));
const CODE_SERVER = process.env.CODE_SERVER;
const VSIX = process.env.VSIX;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SINGLES = Number(process.env.SINGLES ?? 20);
const BURSTS = Number(process.env.BURSTS ?? 3);
const SAVE_SIZE = process.env.SAVE_SIZE ?? "";
const BURST = "thequickbrownfoxjumpsoverthelazydog".repeat(3).slice(0, 100);

const { root, userData, workspace, ...dirs } = makeRoot("tome-bench-typing-", {
  "tome.serverPath": BIN,
  "workbench.editorAssociations": { "*.log": "tome.largeFile" },
  "editor.quickSuggestions": { other: "off", comments: "off", strings: "off" },
  "editor.wordBasedSuggestions": "off",
  "editor.suggestOnTriggerCharacters": false,
});
// One small file, two copies: each line starts with a unique tag the checks look for.
const lines = [];
for (let i = 1; i <= 200; i++) lines.push(`L${String(i).padStart(4, "0")}-alpha-beta-gamma ${"x".repeat(i % 30)} end`);
const text = lines.join("\n") + "\n";
fs.writeFileSync(path.join(workspace, "small.txt"), text);
fs.writeFileSync(path.join(workspace, "small.log"), text);
if (SAVE_SIZE) execFileSync(BIN, ["gen", path.join(workspace, "big.log"), "--size", SAVE_SIZE], { stdio: ["ignore", "ignore", "inherit"] });
// In-page probe: `__arm(s)` starts watching `sel` for text holding `s`; `__seen()` resolves
// with the wall-clock time of the animation frame after it first did.
const PROBE = (sel) => {
  const el = document.querySelector(sel);
  let want = null;
  let resolveSeen;
  let seen;
  const test = () => {
    if (want !== null && el.textContent.replace(/\u00a0/g, " ").includes(want)) {
      want = null;
      requestAnimationFrame(() => resolveSeen(performance.timeOrigin + performance.now()));
    }
  };
  new MutationObserver(test).observe(el, { childList: true, subtree: true, characterData: true });
  window.__arm = (s) => {
    want = s;
    seen = new Promise((r) => (resolveSeen = r));
    test();
  };
  // Rejects after 10 s, with what the page shows (a key that went elsewhere).
  window.__seen = () =>
    Promise.race([
      seen,
      new Promise((_, no) => setTimeout(() => no(new Error(`never saw ${JSON.stringify(want)} in ${JSON.stringify(el.textContent.slice(0, 300))}`)), 10000)),
    ]);
};

let session;
let exitCode = 0;
try {
  if (!CODE_SERVER || !VSIX) throw new Error("CODE_SERVER and VSIX are required");
  session = await start({ root, userData, workspace, ...dirs }, CODE_SERVER, VSIX);
  const { page, quickOpen } = session;

  // VS Code's editor on small.txt (opened first: it stays in its own editor group tab).
  await quickOpen("small.txt");
  await until(async () => (await page.$eval(".editor-instance .view-lines", (e) => e.textContent).catch(() => "")).includes("L0001-alpha"), "small.txt shown");
  await page.evaluate(PROBE, ".editor-instance .view-lines");
  // Tome on small.log, in a second group so both stay open (alternating costs no reopen); the
  // page is wide enough for each half to show a line plus a burst without scrolling sideways.
  await page.keyboard.press("Control+\\");
  await quickOpen("small.log");
  const frame = await until(async () => {
    for (const f of page.frames()) if (await f.$("#lines").catch(() => null)) return f;
    return null;
  }, "the Tome webview");
  await until(async () => (await frame.$eval("#lines", (e) => e.textContent)).includes("L0001-alpha"), "small.log shown in Tome");
  await frame.evaluate(PROBE, "#lines");

  const editors = {
    vscode: {
      ctx: page,
      focus: async () => {
        await page.click(".editor-instance .view-lines", { position: { x: 300, y: 5 } });
      },
    },
    tome: {
      ctx: frame,
      focus: async () => {
        await frame.click("#lines", { position: { x: 300, y: 5 } });
      },
    },
  };

  /** Types on the line whose text starts with `tag` (the cursor is at its start). */
  async function single(ed, ch, expect) {
    await ed.ctx.evaluate((s) => window.__arm(s), expect);
    const t0 = now();
    await page.keyboard.press(ch);
    const t1 = await ed.ctx.evaluate(() => window.__seen());
    return t1 - t0;
  }
  async function burst(ed, expect) {
    await ed.ctx.evaluate((s) => window.__arm(s), expect);
    const t0 = now();
    await page.keyboard.type(BURST);
    const t1 = await ed.ctx.evaluate(() => window.__seen());
    return t1 - t0;
  }
  async function toLine(n) {
    await page.keyboard.press("Control+Home");
    for (let i = 1; i < n; i++) await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Home");
    await sleep(300);
  }

  const results = { vscode: { single: [], burst: [] }, tome: { single: [], burst: [] } };
  const perRound = [];
  const LETTERS = "kqzjvwxyhgfdsamnbcrt";
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ["tome", "vscode"] : ["vscode", "tome"];
    const r = {};
    for (const name of order) {
      const ed = editors[name];
      await ed.focus();
      const first = round * (BURSTS + 1) + 1;
      await toLine(first);
      const tag = `L${String(first).padStart(4, "0")}-`;
      const s = [];
      let typed = "";
      for (let i = 0; i < SINGLES; i++) {
        const ch = LETTERS[i % LETTERS.length];
        typed += ch;
        s.push(await single(ed, ch, typed + tag));
        await sleep(120);
      }
      const b = [];
      for (let k = 1; k <= BURSTS; k++) {
        await page.keyboard.press("ArrowDown");
        await page.keyboard.press("Home");
        await sleep(300);
        // The burst's end and the line's old start: also when the view scrolled sideways.
        b.push(await burst(ed, BURST.slice(-30) + `L${String(first + k).padStart(4, "0")}-`));
        await sleep(300);
      }
      results[name].single.push(...s);
      results[name].burst.push(...b);
      r[name] = { single: median(s), burst: median(b) };
    }
    perRound.push(r);
    console.log(
      `# round ${round + 1}: single ${r.tome.single.toFixed(1)} / ${r.vscode.single.toFixed(1)} ms, burst ${r.tome.burst.toFixed(0)} / ${r.vscode.burst.toFixed(0)} ms (Tome / VS Code)`,
    );
  }
  const summary = {};
  for (const k of ["single", "burst"]) {
    const t = median(results.tome[k]);
    const v = median(results.vscode[k]);
    summary[k] = { tome: Number(t.toFixed(1)), vscode: Number(v.toFixed(1)), ratio: Number((t / v).toFixed(2)), samples: results.tome[k].length };
  }
  console.log(`| measure | Tome | VS Code | ratio |`);
  console.log(`| --- | --- | --- | --- |`);
  console.log(
    `| single key, key-to-screen median (${summary.single.samples} keys each) | ${summary.single.tome} ms | ${summary.single.vscode} ms | ${summary.single.ratio}x |`,
  );
  console.log(
    `| 100-character burst on screen, median (${summary.burst.samples} bursts each) | ${summary.burst.tome} ms | ${summary.burst.vscode} ms | ${summary.burst.ratio}x |`,
  );
  if (SAVE_SIZE) summary.save = await duringSave();
  console.log(`# json ${JSON.stringify({ summary, perRound })}`);

  /** Single keys in Tome on the big file: before its save, then while the save runs. */
  async function duringSave() {
    const head = fs.readFileSync(path.join(workspace, "big.log")).subarray(0, 24).toString();
    await editors.tome.focus(); // Quick Open then opens big.log in Tome's group
    await quickOpen("big.log");
    const big = await until(
      async () => {
        for (const f of page.frames()) if ((await f.$eval("#lines", (e) => e.textContent).catch(() => "")).includes(head)) return f;
        return null;
      },
      "big.log in Tome",
      60000,
    );
    await big.evaluate(PROBE, "#lines");
    const ed = { ctx: big };
    await big.click("#lines", { position: { x: 300, y: 5 } });
    await page.keyboard.press("Control+Home");
    await sleep(300);
    let typed = "";
    const key = async (i) => {
      const ch = LETTERS[i % LETTERS.length];
      typed += ch;
      return single(ed, ch, typed + head.slice(0, 10));
    };
    const before = [];
    for (let i = 0; i < 10; i++) {
      before.push(await key(i));
      await sleep(60);
    }
    await sleep(500);
    const saveStart = now();
    await page.keyboard.press("Control+s");
    const keys = [];
    for (let i = 10; i < 40; i++) {
      const t0 = now();
      keys.push({ t0, ms: await key(i) });
      await sleep(60);
    }
    // The save's duration, from the extension's log (the output channel is written to a file).
    let saveMs = null;
    for (let tries = 0; tries < 100 && saveMs === null; tries++) {
      const logs = fs.readdirSync(path.join(userData, "logs"), { recursive: true }).filter((f) => /Tome\.log$/.test(String(f)));
      for (const f of logs) {
        const m = [...fs.readFileSync(path.join(userData, "logs", String(f)), "utf8").matchAll(/tome\/save .*: done in (\d+) ms/g)].at(-1);
        if (m) saveMs = Number(m[1]);
      }
      if (saveMs === null) await sleep(200);
    }
    const during = keys.filter((k) => saveMs !== null && k.t0 < saveStart + saveMs).map((k) => k.ms);
    const r = {
      size: SAVE_SIZE,
      saveMs,
      before: Number(median(before).toFixed(1)),
      during: during.length ? Number(median(during).toFixed(1)) : null,
      duringKeys: during.length,
    };
    console.log(
      `| Tome, ${SAVE_SIZE} file: single key before its save / while it saves (${r.duringKeys} keys; the save took ${saveMs} ms) | ${r.before} ms / ${r.during} ms | | |`,
    );
    return r;
  }
} catch (e) {
  console.error(`benchmark failed: ${e && e.stack ? e.stack : e}`);
  console.error(`(code-server log: ${path.join(root, "code-server.log")})`);
  exitCode = 1;
} finally {
  await session?.close();
  if (!exitCode && !process.env.KEEP) fs.rmSync(root, { recursive: true, force: true });
}
process.exit(exitCode);
