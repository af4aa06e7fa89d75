// Packages the extension as a platform-specific .vsix that carries the `tome` binary, as
// rust-analyzer's extension does: the binary is copied to server/tome (server/tome.exe on
// Windows), where src/serverPath.ts looks for it, then `vsce package --target <platform>`.
// VS Code installs such a package only on its platform (and the Marketplace serves each
// platform its own), so the binary always matches the machine. `--allow-star-activation`: the
// extension activates at startup ("*") to see every tab open (src/autoOpen.ts); activating
// starts no server and reads no file.
//
// Usage: node scripts/package.mjs [--out FILE] [--target TARGET] [other vsce options]
// Env: TOME_BIN: the binary to bundle (default ../../target/release/tome). TARGET defaults to
// this machine's (linux-x64, linux-arm64, alpine-x64, darwin-arm64, win32-x64, ...); the
// binary's ELF header must match a Linux target.

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ext = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const die = (msg) => {
  console.error(`package: ${msg}`);
  process.exit(1);
};

/** vsce's name for this machine's platform. */
function hostTarget() {
  const arch = { x64: "x64", arm64: "arm64", arm: "armhf" }[process.arch];
  if (!arch) die(`no VS Code target for arch ${process.arch}; pass --target`);
  if (process.platform === "linux") {
    // musl (Alpine) has no glibc version in Node's report.
    const musl = !process.report?.getReport().header.glibcVersionRuntime;
    return `${musl ? "alpine" : "linux"}-${arch}`;
  }
  if (process.platform === "darwin" || process.platform === "win32") return `${process.platform}-${arch}`;
  return die(`no VS Code target for platform ${process.platform}; pass --target`);
}

/** Refuses a Linux binary built for another CPU than `target` (a mistake nothing else would catch before a user's first open). */
function checkElf(binary, target) {
  const head = Buffer.alloc(20);
  const fd = fs.openSync(binary, "r");
  fs.readSync(fd, head, 0, 20, 0);
  fs.closeSync(fd);
  if (head.readUInt32BE(0) !== 0x7f454c46) {
    if (/^(linux|alpine)-/.test(target)) die(`${binary} is not an ELF binary, but the target is ${target}`);
    return;
  }
  const machine = head.readUInt16LE(18);
  const want = { x64: 62, arm64: 183, armhf: 40 }[target.split("-")[1]];
  if (want !== undefined && machine !== want) die(`${binary} is for ELF machine ${machine}, not ${target} (${want})`);
}

const args = process.argv.slice(2);
const ti = args.findIndex((a) => a === "--target" || a === "-t");
const target = ti >= 0 ? args.splice(ti, 2)[1] : hostTarget();
const binary = path.resolve(process.env.TOME_BIN ?? path.join(ext, "../../target/release/tome"));
if (!fs.existsSync(binary)) die(`no binary to bundle at ${binary} (build it with \`cargo build --release -p tome\`, or set TOME_BIN)`);
checkElf(binary, target);

const serverDir = path.join(ext, "server");
const bundled = path.join(serverDir, target.startsWith("win32-") ? "tome.exe" : "tome");
fs.rmSync(serverDir, { recursive: true, force: true });
fs.mkdirSync(serverDir);
fs.copyFileSync(binary, bundled);
fs.chmodSync(bundled, 0o755); // vsce keeps the mode in the zip; VS Code's installer restores it
try {
  const vsce = path.join(ext, "node_modules/@vscode/vsce/vsce");
  execFileSync(
    process.execPath,
    [vsce, "package", "--no-dependencies", "--allow-missing-repository", "--skip-license", "--allow-star-activation", "--target", target, ...args],
    {
      cwd: ext,
      stdio: "inherit",
    },
  );
} finally {
  fs.rmSync(serverDir, { recursive: true, force: true });
}
