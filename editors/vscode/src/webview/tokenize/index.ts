// The tokenizer of a format (sniff.ts), over one line's visible text.

import { tokenizeCsv } from "./csv";
import { tokenizeJson } from "./json";
import { tokenizeLog } from "./log";
import type { Format } from "./sniff";
import type { Token } from "./token";

export function tokenize(format: Format, text: string): Token[] {
  switch (format.kind) {
    case "log":
      return tokenizeLog(text);
    case "json":
      return tokenizeJson(text);
    case "csv":
      return tokenizeCsv(text, format.separator);
    case "plain":
      return [];
  }
}
