// "Tome: Filter Lines…": asks for a pattern (filterQuery.ts), starts a filter on the server
// (`tome/filter` of the active Tome editor's document, or of its filter when the active editor
// is a filter view: a nested filter), and has it opened beside the source while the scan runs.
// The progress UI lasts until the scan ends. No `vscode` import: its dependencies are passed in
// (faked in unit tests).

import type { FilterInfo, FilterQuery } from "./protocol";
import { filterLabel, parseFilter, DEFAULT_OPTIONS, type FilterOptions } from "./filterQuery";
import { FilterSession } from "./filterSession";
import { RpcError } from "./rpc";
import type { DocSession } from "./session";

export const FILTER_PROMPT =
  "Lines matching (VS Code's find: any case, plain text). Flags first: -r regex, -c match case, -w whole word, -v not matching; join terms with && or ||, !term negates.";

export interface FilterCommandDeps {
  /** The active Tome editor's session (a FilterSession for a filter view); undefined when none. */
  active(): DocSession | undefined;
  /** Asks for the filter (an input box); undefined when dismissed. */
  ask(): Thenable<{ text: string; options: FilterOptions } | undefined>;
  error(message: string): void;
  /** Runs `task` under a progress UI fed by `$/progress` on `token`. */
  progress(token: string, title: string, task: () => Promise<void>): Promise<void>;
  /**
   * Opens the view of a filter of `root` (the document whose lines it holds); `query` is the
   * whole filter's (a nested one's joined with its parents' by AND), to make it again.
   */
  open(root: DocSession, info: FilterInfo, label: string, query: FilterQuery): Promise<void>;
}

/** Ctrl+F in a filter view: the same input, for a filter of the view's lines. */
export const FIND_IN_FILTER_PROMPT = `Find in this filter view: the view's lines that also match (a nested filter). ${FILTER_PROMPT}`;

let tokenSeq = 1;

/** Runs the command; resolves once the view is opened (or nothing was done). */
export async function filterLines(d: FilterCommandDeps): Promise<FilterInfo | undefined> {
  const from = d.active();
  if (!from) return undefined;
  const asked = await d.ask();
  if (!asked || asked.text.trim() === "") return undefined;
  const parsed = parseFilter(asked.text, asked.options);
  if ("error" in parsed) {
    d.error(`Tome: ${parsed.error}`);
    return undefined;
  }
  const nested = from instanceof FilterSession;
  const root = nested ? from.source : from;
  const own = filterLabel(asked.text, asked.options);
  const label = nested ? `${from.label} › ${own}` : own;
  let info: FilterInfo;
  try {
    info = await start(d, root, nested ? { filter: from.filterId } : { doc: root.doc }, parsed.query, label);
  } catch (e) {
    d.error(`Tome: ${e instanceof RpcError ? e.message : String(e)}`);
    return undefined;
  }
  const whole = nested && from.query ? { and: [from.query, parsed.query] } : parsed.query;
  await d.open(root, info, label, whole);
  return info;
}

/**
 * Sends `tome/filter`; resolves with its reply (the scan under way). The progress UI stays up
 * until the scan ends (`tome/filterWait`, which fails harmlessly if the view was closed first).
 */
function start(d: FilterCommandDeps, root: DocSession, target: { doc: number } | { filter: number }, query: FilterQuery, label: string): Promise<FilterInfo> {
  const token = `tome/filter/client/${tokenSeq++}`;
  return new Promise<FilterInfo>((resolve, reject) => {
    void d.progress(token, `Tome: filtering ${label}`, async () => {
      let info: FilterInfo;
      try {
        info = await root.server.request("tome/filter", { ...target, query, workDoneToken: token });
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      resolve(info);
      if (!info.complete) await root.server.request("tome/filterWait", { filter: info.filter }).catch(() => undefined);
    });
  });
}

export { DEFAULT_OPTIONS };
