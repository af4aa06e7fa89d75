// Which `tome` binary to start: the `tome.serverPath` setting when set, else the binary bundled
// in the platform-specific .vsix (`server/tome`), else `tome` on PATH. Pure Node, with the file
// system check injected, so the unit tests can try every case without touching the machine.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Where the binary was found: the setting, the .vsix, or a directory on PATH. */
export type ServerSource = "setting" | "bundled" | "PATH";

export interface ResolvedServer {
  path: string;
  source: ServerSource;
}

export interface ResolveInput {
  /** `tome.serverPath` as set (empty or blank: not set). */
  configured: string | undefined;
  /** The extension's directory (`context.extensionPath`). */
  extensionPath: string;
  /** `process.platform`: decides the `.exe` suffix and PATH's separator. */
  platform: NodeJS.Platform;
  /** The extension host's environment (PATH, and PATHEXT is not needed: we look for tome(.exe) only). */
  env: NodeJS.ProcessEnv;
  /** Whether `p` is a file this process may execute. Injected for tests. */
  isExecutable?: (p: string) => boolean;
}

/** No binary was found; `tried` says where, one entry per place, in order. */
export class ServerNotFoundError extends Error {
  constructor(readonly tried: string[]) {
    super(`Cannot find the Tome server. Tried: ${tried.join("; ")}. Set "tome.serverPath" to the \`tome\` binary, or install the .vsix made for this platform.`);
    this.name = "ServerNotFoundError";
  }
}

/** The bundled binary's path inside the extension (where scripts/package.mjs puts it). */
export function bundledServerPath(extensionPath: string, platform: NodeJS.Platform): string {
  return path.join(extensionPath, "server", platform === "win32" ? "tome.exe" : "tome");
}

export function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves the binary in the order setting → bundled → PATH.
 *
 * A set `tome.serverPath` is the user's explicit choice: when it names nothing executable the
 * error says so rather than silently starting another `tome` (whose version may differ). A
 * value without a path separator (`tome`, `tome-nightly`) is looked up on PATH, as a shell would.
 */
export function resolveServerPath(input: ResolveInput): ResolvedServer {
  const isExecutable = input.isExecutable ?? isExecutableFile;
  const configured = input.configured?.trim();
  const exe = input.platform === "win32" ? "tome.exe" : "tome";
  const pathDirs = (input.env.PATH ?? input.env.Path ?? "").split(input.platform === "win32" ? ";" : ":").filter((d) => d !== "");
  const onPath = (name: string): string | undefined => pathDirs.map((d) => path.join(d, name)).find(isExecutable);

  if (configured) {
    const expanded = configured.startsWith("~/") ? path.join(input.env.HOME ?? os.homedir(), configured.slice(2)) : configured;
    if (/[\\/]/.test(expanded)) {
      if (isExecutable(expanded)) return { path: expanded, source: "setting" };
      throw new ServerNotFoundError([`tome.serverPath = ${configured} (not an executable file)`]);
    }
    const found = onPath(expanded);
    if (found) return { path: found, source: "setting" };
    throw new ServerNotFoundError([`tome.serverPath = ${configured} (not found on PATH = ${pathDirs.join(input.platform === "win32" ? ";" : ":") || "(empty)"})`]);
  }

  const bundled = bundledServerPath(input.extensionPath, input.platform);
  if (isExecutable(bundled)) return { path: bundled, source: "bundled" };
  const found = onPath(exe);
  if (found) return { path: found, source: "PATH" };
  throw new ServerNotFoundError([
    "tome.serverPath (not set)",
    `the bundled ${bundled} (missing or not executable: this .vsix carries no binary for this platform)`,
    `${exe} on PATH = ${pathDirs.join(input.platform === "win32" ? ";" : ":") || "(empty)"} (not found)`,
  ]);
}
