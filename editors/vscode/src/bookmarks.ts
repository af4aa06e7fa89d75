// Bookmarks in a Tome editor: Tome: Toggle Bookmark, Next Bookmark, Previous Bookmark, List
// Bookmarks. They are the server's (`tome/setBookmark`, `tome/deleteBookmark`, `tome/bookmarks`,
// docs/protocol.md): moved with every edit, kept in its state directory for the file on disk,
// and offered again when the file is reopened, in this or a later window (dropped if another
// program changed the file). This editor names those it makes "1", "2", … (the lowest free
// number); bookmarks other clients made (Neovim's `mA`…`mZ`) are shown and visited too. The
// webview marks their lines in the gutter (`{ type: "bookmarks" }`).
import type { Bookmark, BookmarksResult, HostMessage, Position, Requester } from "./protocol";

/** What the commands need of the active Tome editor (faked in unit tests). */
export interface BookmarkTarget {
  doc: number;
  server: Requester;
  /** The cursor, as the webview last reported it. */
  cursor: Position | undefined;
  /** Posts to the active webview. */
  post(m: HostMessage): void;
  /** Marks the lines of `bookmarks` in the gutter of every webview of the document. */
  show(bookmarks: Bookmark[]): void;
}

/** The lines holding bookmarks, sorted, each once (bookmarks past the index have none yet). */
export function linesOf(bookmarks: Bookmark[]): number[] {
  const lines = bookmarks.flatMap((b) => (b.position ? [b.position.line] : []));
  return [...new Set(lines)].sort((a, b) => a - b);
}

/** The lowest number not used as a name. */
export function freeName(bookmarks: Bookmark[]): string {
  const used = new Set(bookmarks.map((b) => b.name));
  for (let i = 1; ; i++) if (!used.has(String(i))) return String(i);
}

/** The bookmark after (`dir` 1) or before (-1) line `line`, wrapping around; undefined if none is placed. */
export function neighbour(bookmarks: Bookmark[], line: number, dir: 1 | -1): Bookmark | undefined {
  const placed = bookmarks.filter((b) => b.position).sort((a, b) => a.offset - b.offset);
  if (dir === 1) return placed.find((b) => b.position!.line > line) ?? placed[0];
  return [...placed].reverse().find((b) => b.position!.line < line) ?? placed[placed.length - 1];
}

/** The document's bookmarks; also refreshes the gutter. */
export async function listBookmarks(t: BookmarkTarget): Promise<Bookmark[]> {
  const r = await t.server.request("tome/bookmarks", { doc: t.doc });
  t.show(r.bookmarks);
  return r.bookmarks;
}

/** Tome: Toggle Bookmark: deletes the bookmarks on the cursor's line, or sets one at its start. */
export async function toggleBookmark(t: BookmarkTarget): Promise<BookmarksResult> {
  const line = t.cursor?.line ?? 0;
  const all = await listBookmarks(t);
  const here = all.filter((b) => b.position?.line === line);
  let r: BookmarksResult | undefined;
  for (const b of here) r = await t.server.request("tome/deleteBookmark", { doc: t.doc, name: b.name });
  if (!r) r = await t.server.request("tome/setBookmark", { doc: t.doc, name: freeName(all), position: { line, character: 0 } });
  t.show(r.bookmarks);
  return r;
}

/** Goes to bookmark `b` (the start of its line). */
export function goToBookmark(t: BookmarkTarget, b: Bookmark): void {
  t.post({ type: "gotoOffset", offset: b.offset, line: b.position?.line ?? null });
}

/** Tome: Next Bookmark (`dir` 1) and Tome: Previous Bookmark (-1). */
export async function stepBookmark(t: BookmarkTarget, dir: 1 | -1): Promise<Bookmark | undefined> {
  const b = neighbour(await listBookmarks(t), t.cursor?.line ?? 0, dir);
  if (b) goToBookmark(t, b);
  return b;
}
