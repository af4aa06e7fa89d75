// The input box of "Tome: Filter Lines…": the pattern, with the find widget's three toggles as
// buttons (Match Case, Match Whole Word, Use Regular Expression; their state in the title).
// The text's own flags (filterQuery.ts) turn them on too.

import * as vscode from "vscode";
import { DEFAULT_OPTIONS, type FilterOptions } from "./filterQuery";

/** The toggles as last used (a second filter starts where the first left them). */
let last: FilterOptions = { ...DEFAULT_OPTIONS };

const TOGGLES: { key: keyof FilterOptions; icon: string; name: string }[] = [
  { key: "caseSensitive", icon: "case-sensitive", name: "Match Case" },
  { key: "wholeWord", icon: "whole-word", name: "Match Whole Word" },
  { key: "regex", icon: "regex", name: "Use Regular Expression" },
];

/** Asks for the filter; undefined when dismissed. */
export function askFilter(prompt: string): Promise<{ text: string; options: FilterOptions } | undefined> {
  const options = { ...last };
  const box = vscode.window.createInputBox();
  box.prompt = prompt;
  box.placeholder = "ERROR && !healthcheck";
  // Kept when the focus moves: the editor takes the focus back as the command palette closes,
  // which would dismiss the box before anything is typed (Escape closes it).
  box.ignoreFocusOut = true;
  const show = (): void => {
    const on = TOGGLES.filter((t) => options[t.key]).map((t) => t.name);
    box.title = `Tome: Filter Lines${on.length ? ` (${on.join(", ")})` : ""}`;
    box.buttons = TOGGLES.map((t) => ({ iconPath: new vscode.ThemeIcon(t.icon), tooltip: `${t.name}: ${options[t.key] ? "on" : "off"}` }));
  };
  show();
  return new Promise((resolve) => {
    let done = false;
    box.onDidTriggerButton((b) => {
      const t = TOGGLES.find((x) => b.tooltip?.startsWith(x.name));
      if (t) options[t.key] = !options[t.key];
      show();
    });
    box.onDidAccept(() => {
      done = true;
      last = { ...options };
      resolve({ text: box.value, options });
      box.hide();
    });
    box.onDidHide(() => {
      if (!done) resolve(undefined);
      box.dispose();
    });
    box.show();
  });
}
