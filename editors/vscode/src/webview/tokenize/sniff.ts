// Which tokenizer a document gets: by its file name, else by its first lines. Pure.

export type Format = { kind: "log" } | { kind: "json" } | { kind: "csv"; separator: string } | { kind: "plain" };

const SEPARATORS = [",", "\t", ";", "|"];

/** The format of `path`, from its extension, or from `sample` (the first lines shown). */
export function sniffFormat(path: string, sample: readonly string[]): Format {
  const name = path.toLowerCase().replace(/\.(gz|bak|old|\d+)$/, "");
  const ext = name.slice(name.lastIndexOf(".") + 1);
  if (["json", "jsonl", "ndjson", "geojson", "har"].includes(ext)) return { kind: "json" };
  if (ext === "csv") return { kind: "csv", separator: csvSeparator(sample) ?? "," };
  if (ext === "tsv" || ext === "tab") return { kind: "csv", separator: "\t" };
  const lines = sample.filter((l) => l.trim() !== "").slice(0, 50);
  if (lines.length === 0) return { kind: "log" };
  const jsonish = lines.filter((l) => /^\s*[{[]/.test(l)).length;
  if (jsonish >= Math.ceil(lines.length * 0.6)) return { kind: "json" };
  const sep = lines.length >= 2 ? csvSeparator(lines) : null;
  if (sep) return { kind: "csv", separator: sep };
  return { kind: "log" };
}

/** A separator that every sample line has the same number (≥ 1) of, outside quotes. */
function csvSeparator(lines: readonly string[]): string | null {
  const sample = lines.filter((l) => l !== "").slice(0, 50);
  if (sample.length < 2) return null;
  for (const s of SEPARATORS) {
    const counts = sample.map((l) => fieldSeparators(l, s));
    if (counts[0] >= 1 && counts.every((c) => c === counts[0])) return s;
  }
  return null;
}

function fieldSeparators(line: string, sep: string): number {
  let n = 0;
  let quoted = false;
  for (const c of line.slice(0, 4096)) {
    if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) n++;
  }
  return n;
}
