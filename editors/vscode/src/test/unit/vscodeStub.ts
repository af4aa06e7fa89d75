// The part of the `vscode` API that the extension uses, for unit tests outside VS Code. It
// records what the extension shows (messages, progress, status bar, clipboard, commands) so
// tests can check it, and answers prompts from `answers`.
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
    readonly query = "",
  ) {}
  get path(): string {
    return this.fsPath;
  }
  static file(p: string): Uri {
    return new Uri("file", p);
  }
  static from(c: { scheme: string; path?: string; query?: string }): Uri {
    return new Uri(c.scheme, c.path ?? "", c.query ?? "");
  }
  static parse(s: string): Uri {
    return s.startsWith("file://") ? new Uri("file", decodeURIComponent(s.slice(7))) : new Uri(s.split(":")[0], s);
  }
  static joinPath(u: Uri, ...parts: string[]): Uri {
    return new Uri(u.scheme, path.join(u.fsPath, ...parts));
  }
  toString(): string {
    return this.scheme === "file" ? `file://${this.fsPath}` : `${this.scheme}:${this.fsPath}${this.query ? `?${this.query}` : ""}`;
  }
}

export class CancellationTokenSource {
  private listeners = new Set<() => void>();
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: (l: () => void) => {
      this.listeners.add(l);
      return { dispose: () => this.listeners.delete(l) };
    },
  };
  cancel(): void {
    this.token.isCancellationRequested = true;
    for (const l of this.listeners) l();
  }
  dispose(): void {}
}

export class CancellationError extends Error {
  constructor() {
    super("Canceled");
  }
}

export class TabInputCustom {
  constructor(
    readonly uri: Uri,
    readonly viewType: string,
  ) {}
}

export class TabInputText {
  constructor(readonly uri: Uri) {}
}

export enum FileType {
  File = 1,
  Directory = 2,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export class ThemeColor {
  constructor(readonly id: string) {}
}
export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}
export enum ConfigurationTarget {
  Global = 1,
}

/** Answers to the next prompts (showWarningMessage…), in order; undefined = dismissed. */
export const answers: (string | undefined)[] = [];
/** Answers to the next save dialogs, in order (paths); undefined = cancelled. */
export const saveDialogAnswers: (string | undefined)[] = [];
/** Every save dialog shown, with its options. */
export const saveDialogs: { defaultUri?: Uri; saveLabel?: string; title?: string }[] = [];
/** Every message shown, with its kind and buttons. */
export const messages: { kind: "warning" | "error" | "info"; text: string; items: string[]; modal?: boolean; detail?: string }[] = [];
/** Every withProgress call: its options, the reports made, and whether it has ended. */
export const progress: { location: ProgressLocation; title: string; reports: { increment?: number; message?: string }[]; done: boolean }[] = [];
/** Commands run through `executeCommand`. */
export const executed: { command: string; args: unknown[] }[] = [];
export const settings: Record<string, unknown> = {};

export class StatusBarItem {
  text = "";
  name = "";
  command: string | undefined = undefined;
  tooltip = "";
  backgroundColor: ThemeColor | undefined = undefined;
  visible = false;
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.visible = false;
  }
}
export const statusBarItems: StatusBarItem[] = [];
/** Every Quick Pick shown: its items and options; `quickPickAnswers` choose (in order), else it is dismissed. */
export const quickPicks: { items: unknown[]; options: unknown }[] = [];
export const quickPickAnswers: ((items: unknown[]) => unknown)[] = [];

function show(kind: "warning" | "error" | "info") {
  return async (text: string, ...rest: (string | { modal?: boolean; detail?: string })[]): Promise<string | undefined> => {
    const options = typeof rest[0] === "object" ? rest[0] : undefined;
    const items = rest.filter((r): r is string => typeof r === "string");
    messages.push({ kind, text, items, modal: options?.modal, detail: options?.detail });
    return answers.shift();
  };
}

export const window = {
  showWarningMessage: show("warning"),
  showErrorMessage: show("error"),
  showInformationMessage: show("info"),
  async withProgress<T>(
    options: { location: ProgressLocation; title: string },
    task: (p: { report(v: { increment?: number; message?: string }): void }) => Promise<T>,
  ): Promise<T> {
    const entry = { location: options.location, title: options.title, reports: [] as { increment?: number; message?: string }[], done: false };
    progress.push(entry);
    try {
      return await task({ report: (v) => void entry.reports.push(v) });
    } finally {
      entry.done = true;
    }
  },
  async showQuickPick(items: unknown[] | Promise<unknown[]>, options?: unknown): Promise<unknown> {
    const list = await items;
    quickPicks.push({ items: list, options });
    return quickPickAnswers.shift()?.(list);
  },
  createStatusBarItem(): StatusBarItem {
    const item = new StatusBarItem();
    statusBarItems.push(item);
    return item;
  },
  createOutputChannel: () => ({ appendLine: () => undefined, dispose: () => undefined }),
  registerCustomEditorProvider: (viewType: string, provider: unknown) => {
    providers.set(viewType, provider);
    return { dispose: () => providers.delete(viewType) };
  },
  showOpenDialog: async () => undefined,
  showSaveDialog: async (options: { defaultUri?: Uri; saveLabel?: string; title?: string }): Promise<Uri | undefined> => {
    saveDialogs.push(options);
    const answer = saveDialogAnswers.shift();
    return answer === undefined ? undefined : Uri.file(answer);
  },
  activeTextEditor: undefined,
  tabGroups: {
    activeTabGroup: { activeTab: undefined as { input: unknown } | undefined },
    all: [] as { tabs: unknown[] }[],
    onDidChangeTabs: () => ({ dispose() {} }),
  },
};
export const providers = new Map<string, unknown>();

const commandHandlers = new Map<string, (...args: unknown[]) => unknown>();
export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown) {
    commandHandlers.set(id, handler);
    return { dispose: () => commandHandlers.delete(id) };
  },
  async executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
    executed.push({ command, args });
    return commandHandlers.get(command)?.(...args);
  },
};

const configListeners = new Set<(e: { affectsConfiguration(section: string, scope?: unknown): boolean }) => void>();
/** Tells the listeners that the settings `keys` changed (`settings` already holds the new values). */
export function changeSettings(keys: string[]): void {
  const e = { affectsConfiguration: (section: string) => keys.some((k) => k === section || k.startsWith(section + ".")) };
  for (const fn of [...configListeners]) fn(e);
}

/** What `workspace.save(uri)` does here (VS Code would call the provider's save). */
export const hooks: { save?: (uri: Uri) => Promise<unknown> } = {};

export const workspace = {
  fs: {
    writeFile: (u: Uri, data: Uint8Array) => fs.writeFile(u.fsPath, data),
    readFile: (u: Uri) => fs.readFile(u.fsPath),
    delete: (u: Uri) => fs.rm(u.fsPath, { force: true }),
  },
  getConfiguration(section: string) {
    return {
      get: <T>(key: string, def?: T): T | undefined => (`${section}.${key}` in settings ? (settings[`${section}.${key}`] as T) : def),
      update: async (key: string, value: unknown) => void (settings[`${section}.${key}`] = value),
      inspect: <T>(key: string): { defaultValue?: T; globalValue?: T } | undefined =>
        `${section}.${key}` in settings ? { globalValue: settings[`${section}.${key}`] as T } : undefined,
    };
  },
  onDidChangeConfiguration: (fn: (e: { affectsConfiguration(section: string, scope?: unknown): boolean }) => void) => {
    configListeners.add(fn);
    return { dispose: () => void configListeners.delete(fn) };
  },
  save: async (uri: Uri) => hooks.save?.(uri),
};

let clipboardText = "";
export const env = {
  clipboard: {
    readText: async () => clipboardText,
    writeText: async (t: string) => void (clipboardText = t),
  },
};

/** Forgets what earlier tests recorded. */
export function reset(): void {
  answers.length = 0;
  saveDialogAnswers.length = 0;
  saveDialogs.length = 0;
  messages.length = 0;
  progress.length = 0;
  executed.length = 0;
  statusBarItems.length = 0;
  quickPicks.length = 0;
  quickPickAnswers.length = 0;
  clipboardText = "";
}

/** Makes `require("vscode")` return this module. */
export function install(): void {
  const M = Module as unknown as { _resolveFilename: (req: string, ...rest: unknown[]) => string };
  const orig = M._resolveFilename;
  M._resolveFilename = function (req: string, ...rest: unknown[]) {
    return req === "vscode" ? __filename : orig.call(this, req, ...rest);
  };
}
