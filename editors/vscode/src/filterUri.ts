// The URI of a filter view's tab: `tome-filter:<source path> [<label>]?<query>`, with the
// query holding what re-creates the view after VS Code reopens the tab on its own (a window
// reload, a restart with hot exit): the source file, the label, and the server's query tree
// (for a filter of a filter, its parents' queries joined by AND: the same lines). `n` is a
// nonce of this extension host, by which a view just made finds its session (a filter id alone
// could be reused by the server of a later window). Pure, no `vscode` import.

import type { FilterQuery } from "./protocol";

export interface FilterSpec {
  /** The source file's path. */
  path: string;
  /** What the tab and status show: the query as typed (" › " between nested ones). */
  label: string;
  /** The server's query tree of the whole filter. */
  query: FilterQuery;
}

/** The parts of a `tome-filter:` URI: `path` and `query` (as vscode.Uri.from takes them). */
export function filterUriParts(spec: FilterSpec, nonce: string): { path: string; query: string } {
  const q = new URLSearchParams({ n: nonce, source: spec.path, label: spec.label, q: JSON.stringify(spec.query) });
  return { path: `${spec.path} [${spec.label}]`, query: q.toString() };
}

/** The nonce of a `tome-filter:` URI's query, if any. */
export function filterUriNonce(query: string): string | undefined {
  return new URLSearchParams(query).get("n") ?? undefined;
}

/** The spec a `tome-filter:` URI's query holds; null when it holds none (an older URI) or a malformed one. */
export function parseFilterUri(query: string): FilterSpec | null {
  const p = new URLSearchParams(query);
  const path = p.get("source");
  const label = p.get("label");
  const q = p.get("q");
  if (!path || label === null || !q) return null;
  try {
    const parsed: unknown = JSON.parse(q);
    if (!isQuery(parsed, 0)) return null;
    return { path, label, query: parsed };
  } catch {
    return null;
  }
}

/** A query tree as the server takes it (the server checks the patterns; this checks the shape). */
function isQuery(q: unknown, depth: number): q is FilterQuery {
  if (depth > 16 || typeof q !== "object" || q === null) return false;
  const o = q as Record<string, unknown>;
  if (typeof o.pattern === "string") return true;
  if (Array.isArray(o.and)) return o.and.every((x) => isQuery(x, depth + 1));
  if (Array.isArray(o.or)) return o.or.every((x) => isQuery(x, depth + 1));
  if ("not" in o) return isQuery(o.not, depth + 1);
  return false;
}
