/**
 * The resynchronisation both capture formats share: after a corrupt record header, scan
 * forward one byte at a time for the next position the format's own rule accepts
 * (judge()), counting what was skipped. Memory stays bounded: the scan needs at most one
 * candidate record of lookahead, which the walker provides through `need`.
 */
import { addWarning } from './stats.js';
import type { ReaderStats } from './types.js';

/** Verdicts of judge(); a positive verdict is the lookahead it still needs. */
export const ACCEPT = 0;
export const REJECT = -1;

export abstract class ResyncingParser {
  resyncing = false;
  /** Input offset of buf[0] in the current parse() call, for messages. */
  protected base = 0;
  private resyncStart = 0;

  protected constructor(
    protected readonly stats: ReaderStats,
    /** Bytes a candidate needs before judge() can look at it (a record header, a block frame). */
    private readonly candidateBytes: number,
    public need: number,
  ) {}

  /**
   * Applies the format's resync rule to a candidate at q: ACCEPT, REJECT, or (before the
   * end of input) the number of bytes from q it needs to decide.
   */
  protected abstract judge(buf: Buffer, q: number, end: number, eof: boolean): number;

  /** Counts a corrupt header at p, warns with `what`, and starts scanning from p + 1. */
  protected startResync(p: number, what: string): number {
    const stats = this.stats;
    stats.corruptRecords++;
    stats.resyncs++;
    addWarning(stats, `${what} at offset ${this.base + p}`);
    this.resyncing = true;
    this.resyncStart = this.base + p;
    stats.skippedBytes++;
    return p + 1;
  }

  /** Scans from p for the next acceptable candidate; returns where parsing continues. */
  protected scan(buf: Buffer, p: number, end: number, eof: boolean): number {
    const from = p;
    for (const last = end - this.candidateBytes; p <= last; p++) {
      const verdict = this.judge(buf, p, end, eof);
      if (verdict === REJECT) continue;
      if (verdict !== ACCEPT) {
        this.need = verdict;
        this.stats.skippedBytes += p - from;
        return p;
      }
      this.resyncing = false;
      this.stats.skippedBytes += p - from;
      addWarning(this.stats, `resynchronised at offset ${this.base + p} after skipping ${this.base + p - this.resyncStart} bytes`);
      return p;
    }
    if (eof) p = end;
    else this.need = this.candidateBytes;
    this.stats.skippedBytes += p - from;
    return p;
  }

  /** Whether an acceptable candidate starts anywhere in buf[from, end) at the end of input:
   *  then a record running past the end was damaged, not truncated. */
  protected acceptableFollows(buf: Buffer, from: number, end: number): boolean {
    for (let q = from; q <= end - this.candidateBytes; q++) if (this.judge(buf, q, end, true) === ACCEPT) return true;
    return false;
  }
}
