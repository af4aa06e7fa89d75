// The find input's history, as VS Code's: patterns searched for (newest last, no duplicates,
// at most `max`); Up/Down in the input walk it, Down past the newest gives an empty input. Pure.

export class FindHistory {
  private items: string[] = [];
  /** Where Up/Down stand: items.length means "past the newest" (the text being typed). */
  private at = 0;

  constructor(private readonly max = 50) {}

  get entries(): readonly string[] {
    return this.items;
  }

  /** Records a pattern searched for (moved to the end if already there); resets the walk. */
  add(pattern: string): void {
    if (pattern === "") return;
    const i = this.items.indexOf(pattern);
    if (i >= 0) this.items.splice(i, 1);
    this.items.push(pattern);
    while (this.items.length > this.max) this.items.shift();
    this.at = this.items.length;
  }

  /** Up: the entry before the current one (null at the oldest). `current` is recorded first. */
  previous(current: string): string | null {
    if (current !== "" && this.items[this.at] !== current) {
      this.add(current);
      this.at = this.items.length - 1;
    }
    if (this.at <= 0) return null;
    this.at--;
    return this.items[this.at];
  }

  /** Down: the entry after the current one; past the newest, "" (null when already there). */
  next(): string | null {
    if (this.at >= this.items.length) return null;
    this.at++;
    return this.at === this.items.length ? "" : this.items[this.at];
  }
}
