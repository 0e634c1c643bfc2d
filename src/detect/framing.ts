/**
 * Byte-level helpers for the detection engine: bounded line assembly and the cheap gate
 * that decides whether a line is worth a JSON parse. Everything reads the Buffer in place.
 */

const QUOTE = 0x22;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a || b === 0x00;
}

/** First index in [start, end) that is not whitespace or NUL padding, or end. */
export function skipSpace(buf: Buffer, start: number, end: number): number {
  while (start < end && isSpace(buf[start]!)) start++;
  return start;
}

/** One past the last index in [start, end) that is not whitespace or NUL padding. */
export function trimEnd(buf: Buffer, start: number, end: number): number {
  while (end > start && isSpace(buf[end - 1]!)) end--;
  return end;
}

/**
 * Index of byte `b` in [start, end), or -1. Buffer.indexOf on `buf` itself would run on to
 * the end of the whole read chunk (1 MiB in replay) on every miss, so short ranges are
 * scanned here and long ones through a view bounded at `end`.
 */
export function indexOfByte(buf: Buffer, b: number, start: number, end: number): number {
  if (end - start <= 64) {
    for (let i = start; i < end; i++) if (buf[i] === b) return i;
    return -1;
  }
  const i = buf.subarray(start, end).indexOf(b);
  return i < 0 ? -1 : start + i;
}

/** buf at `at` holds the first `n` bytes of `word` (all of it by default), compared in place. */
function matchesAt(buf: Buffer, at: number, word: Uint8Array, n = word.length): boolean {
  if (at + n > buf.length) return false;
  for (let i = 0; i < n; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

const GATE_KEYS = ['"method"', '"result"'].map((k) => Buffer.from(k, 'latin1'));

/**
 * A JSON line is parsed only when it carries a "method" or "result" member: every mining
 * message does, and most other JSON-over-TCP (bulk documents, logs, metrics) does not.
 */
export function hasGateKey(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end - 7; i++) {
    if (buf[i] !== QUOTE) continue;
    const next = buf[i + 1];
    if (next === 0x6d /* m */ && matchesAt(buf, i, GATE_KEYS[0]!)) return true;
    if (next === 0x72 /* r */ && matchesAt(buf, i, GATE_KEYS[1]!)) return true;
  }
  return false;
}

/**
 * What all the carries of one engine may hold at once. Each carry is capped on its own, but
 * a flood of flows each sending the start of a line that never ends would otherwise pin
 * cap × 2 × the flow table's size (8 KiB × 2 × 262,144 = 4 GB); past the budget a carry
 * refuses to grow, its partial line is dropped and counted (DetectStats.carryRefused).
 */
export class CarryBudget {
  /** Bytes of carry buffers in use now. */
  held = 0;
  /** Given-back buffers by size class (log2 of the size), reused before allocating. */
  private readonly free: Buffer[][] = Array.from({ length: 32 }, () => []);
  private freeBytes = 0;

  constructor(
    readonly limit: number,
    private readonly counters: { carryRefused: number },
  ) {}

  /**
   * A buffer of `size` bytes rounded up to a power of two, counted against the budget; null
   * (and a refusal counted) when the budget has no room.
   */
  acquire(size: number): Buffer | null {
    const rounded = 2 ** Math.ceil(Math.log2(size));
    if (this.held + rounded > this.limit) {
      this.counters.carryRefused++;
      return null;
    }
    this.held += rounded;
    const spare = this.free[Math.log2(rounded)]!.pop();
    if (spare) {
      this.freeBytes -= rounded;
      return spare;
    }
    return Buffer.allocUnsafe(rounded);
  }

  /** Gives a buffer from acquire() back; small ones are kept for reuse (up to 4 MiB). */
  release(buf: Buffer): void {
    this.held -= buf.length;
    if (buf.length <= MAX_POOLED_CARRY && this.freeBytes + buf.length <= MAX_FREE_CARRY_BYTES) {
      this.free[Math.log2(buf.length)]!.push(buf);
      this.freeBytes += buf.length;
    }
  }
}

/** Carry buffers the budget keeps for reuse: up to this size each, this much in all. A
 *  carry holds a partial line for a segment or two, so buffers cycle fast. */
const MAX_POOLED_CARRY = 64 * 1024;
const MAX_FREE_CARRY_BYTES = 4 * 1024 * 1024;

/**
 * Growable, capped byte accumulator for a line or HTTP head split across segments. With a
 * budget its buffer is given back whenever it empties, so an engine's carries hold memory
 * only for partial lines; the owner clears it when it drops the flow's state.
 */
export class Carry {
  private data: Buffer | null = null;
  length = 0;
  /** The last refused append was refused by the budget, not by its cap. */
  refusedByBudget = false;

  constructor(private readonly budget: CarryBudget | null = null) {}

  /** Appends bytes; returns false (and keeps nothing) when `cap` or the budget would be exceeded. */
  append(buf: Buffer, start: number, end: number, cap: number): boolean {
    const n = end - start;
    if (this.length + n > cap) {
      this.refusedByBudget = false;
      this.clear();
      return false;
    }
    if (!this.data || this.data.length < this.length + n) {
      const size = Math.max(this.length + n, Math.min(cap, Math.max(256, (this.length + n) * 2)));
      const grown = this.budget ? this.budget.acquire(size) : Buffer.allocUnsafe(size);
      if (!grown) {
        this.refusedByBudget = true;
        this.clear();
        return false;
      }
      if (this.data) {
        this.data.copy(grown, 0, 0, this.length);
        this.budget?.release(this.data);
      }
      this.data = grown;
    }
    buf.copy(this.data, this.length, start, end);
    this.length += n;
    return true;
  }

  get buffer(): Buffer {
    return this.data ?? Buffer.alloc(0);
  }

  /** Drops the first `n` bytes held; the rest moves to the start. */
  discard(n: number): void {
    if (n <= 0) return; // nothing read yet (a message still incomplete): no copy
    if (n >= this.length) return this.clear();
    this.data!.copyWithin(0, n, this.length);
    this.length -= n;
  }

  clear(): void {
    this.length = 0;
    // Release large buffers so an idle flow holds no memory; budgeted ones always.
    if (this.data && (this.budget !== null || this.data.length > 4096)) {
      this.budget?.release(this.data);
      this.data = null;
    }
  }
}

const HTTP_TOKENS = ['GET ', 'POST ', 'PUT ', 'HEAD ', 'OPTIONS ', 'CONNECT ', 'HTTP/1.'].map((t) => Buffer.from(t, 'latin1'));

/** The stream at `start` begins an HTTP/1.x request or response. */
export function startsHttp(buf: Buffer, start: number, end: number): boolean {
  for (let k = 0; k < HTTP_TOKENS.length; k++) {
    const t = HTTP_TOKENS[k]!;
    // A first segment shorter than the token counts when it is a prefix of it: the HTTP
    // head parser then decides once the head is complete.
    const n = Math.min(t.length, end - start);
    if (n > 0 && matchesAt(buf, start, t, n)) return true;
  }
  return false;
}

/** Position of "\r\n\r\n" (or "\n\n") ending an HTTP head in [start, end), -1 if none; returns the index just past it. */
export function findHeadEnd(buf: Buffer, start: number, end: number): number {
  for (let i = indexOfByte(buf, 0x0a, start, end); i >= 0; i = indexOfByte(buf, 0x0a, i + 1, end)) {
    if (i + 1 < end && buf[i + 1] === 0x0a) return i + 2;
    if (i + 2 < end && buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}
