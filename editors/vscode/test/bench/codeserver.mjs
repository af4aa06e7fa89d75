// What the benchmarks in this folder share: a code-server with the packaged extension, its own
// home, settings and workspace in a temporary directory, a headless Chromium page on it, and
// Quick Open. Not a test: the benchmarks print figures.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { launchChromium } from "../shared.mjs";

export const sleep = (n) => new Promise((r) => setTimeout(r, n));
/** The machine's wall clock in ms, comparable with a page's `timeOrigin + now()`. */
export const now = () => performance.timeOrigin + performance.now();

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Polls `fn` every `every` ms until it returns something truthy, which it returns. */
export async function until(fn, what, timeout = 30000, every = 50) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = String(e);
    }
    await sleep(every);
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

/**
 * A temporary directory with `workspace/` (where the caller puts files), a home, user data
 * with `settings` (over the quiet defaults below) and Tome's state directory.
 */
export function makeRoot(prefix, settings = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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
  fs.writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify({
      "files.autoSave": "off",
      "workbench.startupEditor": "none",
      "workbench.tips.enabled": false,
      "workbench.enableExperiments": false,
      "security.workspace.trust.enabled": false,
      "telemetry.telemetryLevel": "off",
      "extensions.autoCheckUpdates": false,
      "extensions.autoUpdate": false,
      "update.mode": "none",
      "chat.commandCenter.enabled": false,
      ...settings,
    }),
  );
  return { root, home, userData, extDir, workspace, env };
}

/**
 * Installs `vsix` and starts code-server on the root's workspace, then Chromium on it.
 * Returns `{ page, quickOpen, close }`; `close()` stops both.
 */
export async function start(dirs, codeServerBin, vsix, viewport = { width: 2560, height: 900 }) {
  const { root, userData, extDir, workspace, env } = dirs;
  const common = ["--user-data-dir", userData, "--extensions-dir", extDir];
  execFileSync(codeServerBin, ["--install-extension", vsix, ...common], { env, stdio: ["ignore", "ignore", "inherit"] });
  const port = await freePort();
  const log = fs.openSync(path.join(root, "code-server.log"), "w");
  const codeServer = spawn(
    codeServerBin,
    ["--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", ...common, workspace],
    { env, stdio: ["ignore", log, log], detached: true },
  );
  let browser;
  const close = async () => {
    await browser?.close().catch(() => undefined);
    try {
      process.kill(-codeServer.pid, "SIGTERM");
    } catch {
      /* gone */
    }
    await sleep(300);
  };
  try {
    const base = `http://127.0.0.1:${port}`;
    await until(async () => (await fetch(`${base}/healthz`)).ok, "code-server", 60000);
    browser = await launchChromium();
    const page = await (await browser.newContext({ viewport })).newPage();
    await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
    /** Quick Open with `name` typed and its row listed; `enter: false` leaves Enter unpressed. */
    const quickOpen = async (name, enter = true) => {
      await until(async () => {
        await page.keyboard.press("Control+p");
        return !!(await page.waitForSelector(".quick-input-widget:not([style*='display: none']) input", { timeout: 3000 }).catch(() => null));
      }, "quick open");
      await page.keyboard.type(name);
      // (the row Enter takes: right after typing, the recently opened files may still be listed)
      await until(async () => !!(await page.$(`.quick-input-list .monaco-list-row.focused[aria-label*='${name}']`)), `${name} first in Quick Open`);
      if (enter) await page.keyboard.press("Enter");
    };
    return { page, quickOpen, close };
  } catch (e) {
    await close();
    throw e;
  }
}
