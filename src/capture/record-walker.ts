/**
 * Feeds stream chunks to a record parser without joining chunks. Records that lie inside a
 * chunk are parsed in place; only a record cut by a chunk boundary is assembled in a
 * reusable carry buffer, and only its own bytes are copied there.
 */
export interface RecordParser {
  /**
   * Set whenever parse() stops before `end` without eof: how many bytes, counted from the
   * stop offset, it needs to make progress. Always more than it was given.
   */
  need: number;
  /** True while the parser scans forward for the next plausible record. */
  readonly resyncing: boolean;
  /** Lookahead that lets a resync scan test a candidate in place (longest record + next header). */
  readonly resyncWindow: number;
  /**
   * Consumes complete records from buf[start, end) and returns the offset where it stopped.
   * With eof set it must consume everything (flagging truncation itself).
   */
  parse(buf: Buffer, start: number, end: number, eof: boolean): number;
}

const MIN_CARRY_BYTES = 64 * 1024;

export class RecordWalker {
  private carry: Buffer = Buffer.alloc(0);
  private carryLen = 0;

  constructor(private readonly parser: RecordParser) {}

  /** Size of the carry buffer, the walker's only memory that depends on the input. */
  get carryCapacity(): number {
    return this.carry.length;
  }

  push(chunk: Buffer): void {
    const parser = this.parser;
    let pos = 0;
    while (this.carryLen > 0) {
      const held = this.carryLen;
      let want = parser.need - held;
      // A resync scan tests one candidate per byte; giving it a whole window at once keeps the
      // carry from being shifted once per byte.
      if (parser.resyncing && want < parser.resyncWindow) want = parser.resyncWindow;
      const take = Math.min(want, chunk.length - pos);
      if (take > 0) {
        this.append(chunk, pos, take);
        pos += take;
      }
      if (this.carryLen < parser.need) return; // the chunk ran out first
      const used = parser.parse(this.carry, 0, this.carryLen, false);
      if (used >= held) {
        // All bytes from earlier chunks are consumed; the rest of the carry is still in this
        // chunk, so continue there.
        pos -= this.carryLen - used;
        this.carryLen = 0;
      } else {
        if (used === 0 && parser.need <= this.carryLen) throw new Error('capture parser made no progress');
        this.carry.copyWithin(0, used, this.carryLen);
        this.carryLen -= used;
      }
    }
    const stop = parser.parse(chunk, pos, chunk.length, false);
    if (stop < chunk.length) this.append(chunk, stop, chunk.length - stop);
  }

  /** The input is over: the parser consumes what is left (and notes a truncated record). */
  end(): void {
    this.parser.parse(this.carry, 0, this.carryLen, true);
    this.carryLen = 0;
  }

  private append(src: Buffer, from: number, count: number): void {
    const needed = this.carryLen + count;
    if (needed > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(this.carry.length * 2, needed * 2), MIN_CARRY_BYTES));
      this.carry.copy(grown, 0, 0, this.carryLen);
      this.carry = grown;
    }
    src.copy(this.carry, this.carryLen, from, from + count);
    this.carryLen = needed;
  }
}
