// The part of the `vscode` API that src/editor.ts uses, for unit tests outside VS Code.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import Module from "node:module";

export class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  readonly event = (l: (e: T) => void): { dispose(): void } => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(p: string): Uri {
    return new Uri("file", p);
  }
  static parse(s: string): Uri {
    return s.startsWith("file://") ? new Uri("file", decodeURIComponent(s.slice(7))) : new Uri(s.split(":")[0], s);
  }
  static joinPath(u: Uri, ...parts: string[]): Uri {
    return new Uri(u.scheme, path.join(u.fsPath, ...parts));
  }
  toString(): string {
    return `file://${this.fsPath}`;
  }
}

export const answers: (string | undefined)[] = [];
export const messages: string[] = [];
export const window = {
  async showWarningMessage(msg: string): Promise<string | undefined> {
    messages.push(msg);
    return answers.shift();
  },
};
export const workspace = {
  fs: {
    writeFile: (u: Uri, data: Uint8Array) => fs.writeFile(u.fsPath, data),
    readFile: (u: Uri) => fs.readFile(u.fsPath),
    delete: (u: Uri) => fs.rm(u.fsPath, { force: true }),
  },
};

/** Makes `require("vscode")` return this module. */
export function install(): void {
  const M = Module as unknown as { _resolveFilename: (req: string, ...rest: unknown[]) => string };
  const orig = M._resolveFilename;
  M._resolveFilename = function (req: string, ...rest: unknown[]) {
    return req === "vscode" ? __filename : orig.call(this, req, ...rest);
  };
}
