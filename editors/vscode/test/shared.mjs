// What the browser harness (test/browser) and the code-server test (test/e2e) share: how
// Chromium is started here, facts about the generated file read straight from disk, and the
// checks with their `ok`/`FAIL` lines and final count.
import * as fs from "node:fs";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps trying the closed network.
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Named checks, each printed as `ok`/`FAIL` with its time, counted for the final `N passed, M failed`. */
export class Checks {
  passed = 0;
  failed = 0;

  /** `after(name)` runs after each check, passed or failed (e.g. a screenshot). */
  constructor(after = async () => undefined) {
    this.after = after;
  }

  async check(name, fn) {
    const start = Date.now();
    try {
      await fn();
      this.passed++;
      console.log(`ok   ${name} (${Date.now() - start} ms)`);
    } catch (e) {
      this.failed++;
      console.log(`FAIL ${name} (${Date.now() - start} ms): ${e && e.stack ? e.stack : e}`);
    }
    await this.after(name);
  }

  /** A failure outside any check (of the harness itself). */
  fail(what, e) {
    this.failed++;
    console.log(`FAIL ${what}: ${e && e.stack ? e.stack : e}`);
  }

  /** Prints `N passed, M failed` and exits, with 1 on any failure. */
  finish() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    process.exit(this.failed ? 1 : 0);
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Debian's Chromium, headless, through playwright-core. */
export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** 1-based numbers of the lines of `p` with a match of `re` (global), one entry per match. */
export function matchingLines(p, re) {
  const out = [];
  const fd = fs.openSync(p, "r");
  const buf = Buffer.alloc(8 << 20);
  let carry = "";
  let line = 0;
  for (let pos = 0; ;) {
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    const parts = (carry + buf.subarray(0, n).toString("latin1")).split("\n");
    carry = n === 0 ? "" : parts.pop();
    for (const l of parts) {
      line++;
      const found = l.match(re)?.length ?? 0;
      for (let i = 0; i < found; i++) out.push(line);
    }
    if (n === 0) break;
    pos += n;
  }
  fs.closeSync(fd);
  return out;
}
