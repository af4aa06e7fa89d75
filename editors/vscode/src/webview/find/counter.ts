// "N of M" over a huge document: the matches are counted by the server chunk by chunk
// (`tome/search` mode "all" over byte ranges, a page at a time), so the count grows while the
// search goes on and what is counted so far can be shown. Pure: this module plans the
// requests and takes their replies; find.ts sends them.
//
// A match never spans more than 64 KiB (docs/protocol.md), so a chunk's request reaches
// OVERLAP past the chunk's end and counts the matches that start before it; the next chunk
// starts where the last counted match ended (or at the chunk's end), as one search would.

import type { Offsets } from "../../protocol";

export const OVERLAP = 64 * 1024;
/** Matches per page asked for (the server's maximum). */
export const PAGE = 10000;

export interface ChunkRequest {
  offsets: Offsets;
  /** Matches starting here or after belong to the next chunk. */
  stopBefore: number;
}

export interface CountedChunk {
  start: number;
  /** Where the next chunk starts. */
  end: number;
  count: number;
}

export class MatchCounter {
  readonly chunks: CountedChunk[] = [];
  total = 0;
  done = false;
  /** Gave up counting match by match (over `cap` matches): the total comes from `finish`. */
  capped = false;
  private next: number;
  private current: (CountedChunk & { stop: number }) | null = null;

  constructor(
    readonly scope: Offsets,
    readonly chunkBytes: number,
    readonly cap = 200_000,
  ) {
    this.next = scope.start;
    if (scope.start >= scope.end) this.next = scope.end;
  }

  /** The request to send next, or null when done or capped. */
  request(): ChunkRequest | null {
    if (this.done || this.capped) return null;
    const c = this.current ?? { start: this.next, end: this.next, count: 0, stop: Math.min(this.scope.end, this.next + this.chunkBytes) };
    this.current = c;
    const chunkEnd = c.stop;
    const stopBefore = chunkEnd >= this.scope.end ? Number.MAX_SAFE_INTEGER : chunkEnd;
    return { offsets: { start: this.next, end: Math.min(this.scope.end, chunkEnd + OVERLAP) }, stopBefore };
  }

  /**
   * The reply to `req`: its matches (in order) and `resumeAt`. Returns the matches counted
   * (those starting before `stopBefore`), e.g. for the ruler's buckets.
   */
  record(req: ChunkRequest, matches: readonly Offsets[], resumeAt: number | null): Offsets[] {
    const c = this.current!;
    const counted = matches.filter((m) => m.start < req.stopBefore);
    c.count += counted.length;
    this.total += counted.length;
    const lastEnd = counted.length ? counted[counted.length - 1].end : req.offsets.start;
    if (resumeAt !== null && counted.length === matches.length) {
      this.next = Math.max(resumeAt, lastEnd); // same chunk, next page
    } else {
      const chunkEnd = Math.min(req.stopBefore, this.scope.end);
      this.next = Math.max(chunkEnd, lastEnd);
      this.chunks.push({ start: c.start, end: this.next, count: c.count });
      this.current = null;
      if (this.next >= this.scope.end) this.done = true;
    }
    if (!this.done && this.total >= this.cap) this.capped = true;
    return counted;
  }

  /** The total from a count of the whole scope (after `capped`). */
  finish(total: number): void {
    this.total = total;
    this.done = true;
  }

  /** Share of the scope counted so far, 0..1. */
  get fraction(): number {
    if (this.done) return 1;
    const span = this.scope.end - this.scope.start;
    return span <= 0 ? 1 : Math.min(1, (this.next - this.scope.start) / span);
  }

  /**
   * Matches counted before the chunk holding `offset`, and where that chunk starts; null when
   * counting has not passed `offset` yet. The matches between `start` and `offset` are still to
   * be counted (one request over a chunk at most).
   */
  locate(offset: number): { before: number; start: number } | null {
    let before = 0;
    for (const c of this.chunks) {
      if (offset < c.end) return { before, start: c.start };
      before += c.count;
    }
    return null;
  }
}

/** The widget's count: "No results", "? of 12+ (40%)", "3 of 12". */
export function countLabel(n: number | null, c: Pick<MatchCounter, "total" | "done" | "fraction"> | null): string {
  if (!c) return n === null ? "" : `${n} of ?`;
  if (c.done && c.total === 0) return "No results";
  const m = c.done ? String(c.total) : `${c.total}+ (${Math.floor(c.fraction * 100)}%)`;
  return `${n ?? "?"} of ${m}`;
}
