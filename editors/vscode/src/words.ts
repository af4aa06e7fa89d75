// VS Code's word rules, for Ctrl+Left/Right and Ctrl+Backspace/Delete: a line is cut into words,
// each a run of regular characters or a run of separators (`editor.wordSeparators`), with spaces
// and tabs between them. Ctrl+Right goes to the end of the next word, Ctrl+Left to the start of
// the previous one, skipping a single separator that is glued to a word (`(beta`: Ctrl+Right
// from before `(` stops after `beta`); Ctrl+Backspace/Delete first delete a run of two or more
// blanks by itself. The same rules as VS Code's WordOperations (cursorWordLeft,
// cursorWordEndRight, deleteWordLeft, deleteWordRight). Pure logic (columns in UTF-16 units of
// one line's text), shared by the webview and the unit tests.

export const DEFAULT_WORD_SEPARATORS = "`~!@#$%^&*()-=+[{]}\\|;:'\",.<>/?";

const enum Cls {
  Regular,
  Separator,
  Blank,
}

const enum WordType {
  None,
  Regular,
  Separator,
}

export interface Word {
  start: number;
  end: number;
  separator: boolean;
  /**
   * Whether the character next to the word on the side the search came from is a regular one:
   * after it for `nextWord`, before it for `previousWord` (VS Code's `nextCharClass`, which is
   * the character where its scan stopped). False at the line's ends.
   */
  nextRegular: boolean;
}

export class WordRules {
  private seps: Set<number>;
  constructor(separators = DEFAULT_WORD_SEPARATORS) {
    this.seps = new Set([...separators].map((c) => c.charCodeAt(0)));
  }

  private cls(code: number): Cls {
    if (code === 32 || code === 9) return Cls.Blank;
    return this.seps.has(code) ? Cls.Separator : Cls.Regular;
  }

  private word(text: string, type: WordType, start: number, end: number, stoppedAt: number): Word {
    const stop = stoppedAt >= 0 && stoppedAt < text.length && this.cls(text.charCodeAt(stoppedAt)) === Cls.Regular;
    return { start, end, separator: type === WordType.Separator, nextRegular: stop };
  }

  private startOf(text: string, type: WordType, from: number): number {
    const want = type === WordType.Regular ? Cls.Regular : Cls.Separator;
    let i = from;
    while (i >= 0 && this.cls(text.charCodeAt(i)) === want) i--;
    return i + 1;
  }

  private endOf(text: string, type: WordType, from: number): number {
    const want = type === WordType.Regular ? Cls.Regular : Cls.Separator;
    let i = from;
    while (i < text.length && this.cls(text.charCodeAt(i)) === want) i++;
    return i;
  }

  /** The word at or after column `col` (one that ends after it), or null. */
  nextWord(text: string, col: number): Word | null {
    let type = WordType.None;
    for (let i = col; i < text.length; i++) {
      const c = this.cls(text.charCodeAt(i));
      if (c === Cls.Regular) {
        if (type === WordType.Separator) return this.word(text, type, this.startOf(text, type, i - 1), i, i);
        type = WordType.Regular;
      } else if (c === Cls.Separator) {
        if (type === WordType.Regular) return this.word(text, type, this.startOf(text, type, i - 1), i, i);
        type = WordType.Separator;
      } else if (type !== WordType.None) return this.word(text, type, this.startOf(text, type, i - 1), i, i);
    }
    return type === WordType.None ? null : this.word(text, type, this.startOf(text, type, text.length - 1), text.length, text.length);
  }

  /** The word before column `col` (one that starts before it), or null. */
  previousWord(text: string, col: number): Word | null {
    let type = WordType.None;
    for (let i = col - 1; i >= 0; i--) {
      const c = this.cls(text.charCodeAt(i));
      if (c === Cls.Regular) {
        if (type === WordType.Separator) return this.word(text, type, i + 1, this.endOf(text, type, i + 1), i);
        type = WordType.Regular;
      } else if (c === Cls.Separator) {
        if (type === WordType.Regular) return this.word(text, type, i + 1, this.endOf(text, type, i + 1), i);
        type = WordType.Separator;
      } else if (type !== WordType.None) return this.word(text, type, i + 1, this.endOf(text, type, i + 1), i);
    }
    return type === WordType.None ? null : this.word(text, type, 0, this.endOf(text, type, 0), -1);
  }

  /** Ctrl+Right within a line: the column it goes to (the line's end when no word follows). */
  wordEndRight(text: string, col: number): number {
    let w = this.nextWord(text, col);
    if (w && w.separator && w.end - w.start === 1 && w.nextRegular) w = this.nextWord(text, w.end);
    return w ? w.end : text.length;
  }

  /** Ctrl+Left within a line: the column it goes to (0 when no word comes before). */
  wordStartLeft(text: string, col: number): number {
    let w = this.previousWord(text, col);
    if (w && w.separator && w.end - w.start === 1 && w.nextRegular) w = this.previousWord(text, w.start);
    return w ? w.start : 0;
  }

  /** Ctrl+Backspace within a line (col > 0): the column the deletion starts at. */
  deleteLeftFrom(text: string, col: number): number {
    let i = col - 1;
    while (i >= 0 && this.cls(text.charCodeAt(i)) === Cls.Blank) i--;
    if (i + 1 < col - 1) return i + 1; // two or more blanks: those alone
    const w = this.previousWord(text, col);
    return w ? w.start : 0;
  }

  /** Ctrl+Delete within a line (col < length): the column the deletion ends at. */
  deleteRightTo(text: string, col: number): number {
    let i = col;
    while (i < text.length && this.cls(text.charCodeAt(i)) === Cls.Blank) i++;
    if (col + 1 < i) return i;
    const w = this.nextWord(text, col);
    return w ? w.end : text.length;
  }

  /** The word (regular characters) touching column `col`, for Ctrl+D with nothing selected. */
  wordAt(text: string, col: number): { start: number; end: number } | null {
    const regular = (i: number): boolean => i >= 0 && i < text.length && this.cls(text.charCodeAt(i)) === Cls.Regular;
    let at = col;
    if (!regular(at)) at = col - 1;
    if (!regular(at)) return null;
    return { start: this.startOf(text, WordType.Regular, at), end: this.endOf(text, WordType.Regular, at) };
  }
}

/** Column of the first character that is not a space or a tab (the length if there is none). */
export function firstNonBlank(text: string): number {
  let i = 0;
  while (i < text.length && (text[i] === " " || text[i] === "\t")) i++;
  return i;
}

/** Visible column of UTF-16 column `col` (tabs to the next multiple of `tabSize`). */
export function visibleColumn(text: string, col: number, tabSize: number): number {
  let v = 0;
  for (let i = 0; i < col && i < text.length; i++) v = text[i] === "\t" ? v + tabSize - (v % tabSize) : v + 1;
  return v + Math.max(0, col - text.length);
}

/** The UTF-16 column nearest to visible column `v` (as VS Code places a cursor moved up or down). */
export function columnAt(text: string, v: number, tabSize: number): number {
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const next = text[i] === "\t" ? w + tabSize - (w % tabSize) : w + 1;
    if (next > v) return v - w < next - v ? i : i + 1;
    w = next;
  }
  return text.length;
}

/** Smart Home: to the first non-blank, or to column 0 when already there (or the line is blank). */
export function smartHome(text: string, col: number): number {
  const f = firstNonBlank(text);
  return f === text.length || col === f ? 0 : f;
}
