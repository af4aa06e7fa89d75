// Density over the whole document in a fixed number of buckets (the overview ruler's marks):
// memory is the bucket count whatever the number of matches or edits. Pure.

export class Buckets {
  readonly counts: Uint32Array;

  constructor(readonly size: number) {
    this.counts = new Uint32Array(size);
  }

  /** Adds `k` at `fraction` (0..1) of the document. */
  add(fraction: number, k = 1): void {
    const i = Math.min(this.size - 1, Math.max(0, Math.floor(fraction * this.size)));
    this.counts[i] += k;
  }

  clear(): void {
    this.counts.fill(0);
  }

  get max(): number {
    let m = 0;
    for (const c of this.counts) if (c > m) m = c;
    return m;
  }

  /** The non-empty buckets, as `[fraction from, fraction to, share of the fullest (0..1]]`. */
  marks(): Array<[number, number, number]> {
    const max = this.max;
    const out: Array<[number, number, number]> = [];
    if (max === 0) return out;
    this.counts.forEach((c, i) => {
      if (c) out.push([i / this.size, (i + 1) / this.size, c / max]);
    });
    return out;
  }
}
