// The encodings a Tome document can be reopened with, named as VS Code's own editor names them
// ("Western (Windows 1252)" in its Quick Pick, "Windows 1252" in its status bar), mapped to the
// WHATWG labels the server takes (`tome/reopenWithEncoding`) and names (`encoding` in
// `tome/info`: "windows-1252", "Shift_JIS"…). No `vscode` import: unit-tested as is.

export interface EncodingEntry {
  /** The WHATWG label sent to the server; also the name the server reports, ignoring case. */
  label: string;
  /** VS Code's long label, in its "Reopen with Encoding" Quick Pick. */
  long: string;
  /** VS Code's short label, in its status bar. */
  short: string;
}

/**
 * The encodings offered, in VS Code's order (UTF-8 and UTF-16 first, then by language). Left
 * out: UTF-32 (the server cannot edit it: -33022), and those WHATWG reads as another one
 * (ISO 8859-1 is windows-1252, ISO 8859-9 is windows-1254), and the DOS code pages WHATWG
 * lacks (CP 437, 850, 852, 865).
 */
export const ENCODINGS: readonly EncodingEntry[] = [
  { label: "utf-8", long: "UTF-8", short: "UTF-8" },
  { label: "utf-16le", long: "UTF-16 LE", short: "UTF-16 LE" },
  { label: "utf-16be", long: "UTF-16 BE", short: "UTF-16 BE" },
  { label: "windows-1252", long: "Western (Windows 1252)", short: "Windows 1252" },
  { label: "iso-8859-3", long: "Western (ISO 8859-3)", short: "ISO 8859-3" },
  { label: "iso-8859-15", long: "Western (ISO 8859-15)", short: "ISO 8859-15" },
  { label: "macintosh", long: "Western (Mac Roman)", short: "Mac Roman" },
  { label: "windows-1256", long: "Arabic (Windows 1256)", short: "Windows 1256" },
  { label: "iso-8859-6", long: "Arabic (ISO 8859-6)", short: "ISO 8859-6" },
  { label: "windows-1257", long: "Baltic (Windows 1257)", short: "Windows 1257" },
  { label: "iso-8859-4", long: "Baltic (ISO 8859-4)", short: "ISO 8859-4" },
  { label: "iso-8859-14", long: "Celtic (ISO 8859-14)", short: "ISO 8859-14" },
  { label: "windows-1250", long: "Central European (Windows 1250)", short: "Windows 1250" },
  { label: "iso-8859-2", long: "Central European (ISO 8859-2)", short: "ISO 8859-2" },
  { label: "windows-1251", long: "Cyrillic (Windows 1251)", short: "Windows 1251" },
  { label: "ibm866", long: "Cyrillic (CP 866)", short: "CP 866" },
  { label: "iso-8859-5", long: "Cyrillic (ISO 8859-5)", short: "ISO 8859-5" },
  { label: "koi8-r", long: "Cyrillic (KOI8-R)", short: "KOI8-R" },
  { label: "koi8-u", long: "Cyrillic (KOI8-U)", short: "KOI8-U" },
  { label: "iso-8859-13", long: "Estonian (ISO 8859-13)", short: "ISO 8859-13" },
  { label: "windows-1253", long: "Greek (Windows 1253)", short: "Windows 1253" },
  { label: "iso-8859-7", long: "Greek (ISO 8859-7)", short: "ISO 8859-7" },
  { label: "windows-1255", long: "Hebrew (Windows 1255)", short: "Windows 1255" },
  { label: "iso-8859-8", long: "Hebrew (ISO 8859-8)", short: "ISO 8859-8" },
  { label: "iso-8859-10", long: "Nordic (ISO 8859-10)", short: "ISO 8859-10" },
  { label: "iso-8859-16", long: "Romanian (ISO 8859-16)", short: "ISO 8859-16" },
  { label: "windows-1254", long: "Turkish (Windows 1254)", short: "Windows 1254" },
  { label: "windows-1258", long: "Vietnamese (Windows 1258)", short: "Windows 1258" },
  { label: "gbk", long: "Simplified Chinese (GBK)", short: "GBK" },
  { label: "gb18030", long: "Simplified Chinese (GB18030)", short: "GB18030" },
  { label: "big5", long: "Traditional Chinese (Big5)", short: "Big5" },
  { label: "shift_jis", long: "Japanese (Shift JIS)", short: "Shift JIS" },
  { label: "euc-jp", long: "Japanese (EUC-JP)", short: "EUC-JP" },
  { label: "euc-kr", long: "Korean (EUC-KR)", short: "EUC-KR" },
  { label: "windows-874", long: "Thai (Windows 874)", short: "Windows 874" },
];

/** The entry of the server's encoding name `name` ("Shift_JIS" → Japanese (Shift JIS)), if offered. */
export function findEncoding(name: string | undefined): EncodingEntry | undefined {
  const n = (name ?? "utf-8").toLowerCase();
  return ENCODINGS.find((e) => e.label === n);
}

/** The status bar's name of the server's encoding: "UTF-8", "UTF-8 with BOM", "Windows 1252", "Binary"… */
export function encodingShortLabel(name: string | undefined): string {
  if (name === "utf-8-bom") return "UTF-8 with BOM";
  if (name === "binary") return "Binary";
  return findEncoding(name)?.short ?? (name ?? "utf-8").toUpperCase();
}

export interface EncodingPick {
  /** VS Code's long label. */
  label: string;
  /** The WHATWG name, and "current" on the document's encoding (as VS Code marks it). */
  description: string;
  entry: EncodingEntry;
  current: boolean;
}

/**
 * The Quick Pick items of "Reopen with Encoding" for a document in `current` (the server's
 * name): VS Code's labels, the current one marked and listed first (the pick opens on it).
 * A UTF-8 file with a BOM is current on UTF-8 (reopening it as UTF-8 keeps the BOM).
 */
export function encodingPicks(current: string | undefined): EncodingPick[] {
  const cur = findEncoding(current === "utf-8-bom" ? "utf-8" : current);
  const items = ENCODINGS.map((entry) => ({
    label: entry.long,
    description: entry === cur ? `${entry.label} · current` : entry.label,
    entry,
    current: entry === cur,
  }));
  return [...items.filter((i) => i.current), ...items.filter((i) => !i.current)];
}

/** VS Code's message when a document with unsaved changes is asked to reopen with an encoding. */
export function dirtyReopenMessage(file: string): string {
  return `${file} has unsaved changes. Save or revert them before reopening the file with another encoding.`;
}

/** The marker of a compressed document in the status bar: "$(lock) gzip". */
export function compressionMarker(compression: string | undefined): string {
  return compression ? `$(lock) ${compression}` : "";
}
