// What the browser harness (test/browser) and the code-server test (test/e2e) share: how
// Chromium is started here, and facts about the generated file read straight from disk.
import * as fs from "node:fs";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps trying the closed network.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

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
  for (let pos = 0; ; ) {
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
