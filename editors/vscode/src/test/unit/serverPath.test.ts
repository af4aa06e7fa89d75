// Which binary the extension starts: setting → bundled → PATH, and what the error names.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ServerNotFoundError, bundledServerPath, isExecutableFile, resolveServerPath, type ResolveInput } from "../../serverPath";

const EXT = "/ext/tome-0.1.0";
const BUNDLED = path.join(EXT, "server", "tome");

/** A resolve input where exactly `present` are executable files. */
function input(configured: string | undefined, present: string[], PATH = "/usr/local/bin:/usr/bin"): ResolveInput {
  const set = new Set(present);
  return { configured, extensionPath: EXT, platform: "linux", env: { PATH, HOME: "/home/u" }, isExecutable: (p) => set.has(p) };
}

function notFound(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ServerNotFoundError, `a ServerNotFoundError, got ${String(e)}`);
    return e.tried;
  }
  assert.fail("expected ServerNotFoundError");
}

test("the setting wins over the bundled binary and PATH", () => {
  const r = resolveServerPath(input("/opt/tome/bin/tome", ["/opt/tome/bin/tome", BUNDLED, "/usr/bin/tome"]));
  assert.deepEqual(r, { path: "/opt/tome/bin/tome", source: "setting" });
});

test("a set path that is not there is an error naming it, with no fallback to another tome", () => {
  const tried = notFound(() => resolveServerPath(input("/opt/missing/tome", [BUNDLED, "/usr/bin/tome"])));
  assert.equal(tried.length, 1);
  assert.match(tried[0], /tome\.serverPath = \/opt\/missing\/tome \(not an executable file\)/);
});

test("a bare name in the setting is looked up on PATH; ~/ is the home directory", () => {
  assert.deepEqual(resolveServerPath(input("tome-dev", [BUNDLED, "/usr/bin/tome-dev"])), { path: "/usr/bin/tome-dev", source: "setting" });
  assert.deepEqual(resolveServerPath(input("~/bin/tome", ["/home/u/bin/tome"])), { path: "/home/u/bin/tome", source: "setting" });
  const tried = notFound(() => resolveServerPath(input("tome-dev", [BUNDLED])));
  assert.match(tried[0], /tome-dev \(not found on PATH = \/usr\/local\/bin:\/usr\/bin\)/);
});

test("a blank setting counts as not set", () => {
  assert.deepEqual(resolveServerPath(input("  ", [BUNDLED])), { path: BUNDLED, source: "bundled" });
});

test("without a setting the bundled binary wins over PATH", () => {
  assert.deepEqual(resolveServerPath(input(undefined, [BUNDLED, "/usr/bin/tome"])), { path: BUNDLED, source: "bundled" });
  assert.deepEqual(resolveServerPath(input("", [BUNDLED])), { path: BUNDLED, source: "bundled" });
});

test("without a setting or a bundled binary, the first tome on PATH", () => {
  const r = resolveServerPath(input(undefined, ["/usr/bin/tome", "/usr/local/bin/tome"]));
  assert.deepEqual(r, { path: "/usr/local/bin/tome", source: "PATH" });
});

test("nothing anywhere: the error lists the three places in order", () => {
  const tried = notFound(() => resolveServerPath(input(undefined, [], "/a:/b")));
  assert.equal(tried.length, 3);
  assert.match(tried[0], /tome\.serverPath \(not set\)/);
  assert.ok(tried[1].includes(BUNDLED), tried[1]);
  assert.match(tried[2], /tome on PATH = \/a:\/b \(not found\)/);
  const tried2 = notFound(() => resolveServerPath(input(undefined, [], "")));
  assert.match(tried2[2], /PATH = \(empty\)/);
});

test("Windows: tome.exe, PATH split on ;", () => {
  const exe = bundledServerPath(EXT, "win32");
  assert.ok(exe.endsWith("tome.exe"));
  const r = resolveServerPath({
    configured: undefined,
    extensionPath: EXT,
    platform: "win32",
    env: { Path: "C:\\x;C:\\tools" },
    isExecutable: (p) => p === path.join("C:\\tools", "tome.exe"),
  });
  assert.equal(r.source, "PATH");
});

test("real files: the executable bit and directories count", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-serverpath-"));
  try {
    const ext = path.join(dir, "ext");
    fs.mkdirSync(path.join(ext, "server"), { recursive: true });
    const bundled = bundledServerPath(ext, "linux");
    fs.writeFileSync(bundled, "#!/bin/sh\n");
    fs.chmodSync(bundled, 0o644);
    assert.equal(isExecutableFile(bundled), false, "not executable");
    const binDir = path.join(dir, "bin");
    fs.mkdirSync(path.join(binDir, "tome"), { recursive: true }); // a directory named tome
    const real = { configured: undefined, extensionPath: ext, platform: "linux" as const, env: { PATH: binDir } };
    notFound(() => resolveServerPath(real));
    fs.chmodSync(bundled, 0o755);
    assert.deepEqual(resolveServerPath(real), { path: bundled, source: "bundled" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Remote setups (README, "Remote machines"): the extension host that runs Tome must be the one
// beside the files (Remote-SSH, WSL, dev containers, code-server), never the UI's: `tome serve`
// opens paths of its own machine. `workspace` says so to VS Code.
test("the manifest runs the extension where the workspace is", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "package.json"), "utf8")) as { extensionKind?: string[] };
  assert.deepEqual(manifest.extensionKind, ["workspace"]);
});
