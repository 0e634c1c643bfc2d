/**
 * The cheap first look at a DNS datagram, before any string is built: could it concern a
 * listed pool name? It walks the question and the CNAME targets of the answer section in
 * place (labels, compression pointers) and checks every suffix of each name against the
 * 32-bit hashes of the listed names (PoolIndex.nameHashes). Most DNS traffic names no pool,
 * and then costs this walk only; a hit (or a hash collision) goes on to the full parse in
 * dns-message.ts, which decides with strings.
 */
import { NAME_HASH_SEED, nameHashStep } from '../signatures/name-hash.js';
import { DNS_TYPE_CNAME } from './dns-message.js';

const MAX_LABELS = 128;
const MAX_POINTER_JUMPS = 16;
const MAX_NAME_BYTES = 255;
const MAX_ANSWERS = 64;

export const SCREEN_MALFORMED = 0;
export const SCREEN_NO_POOL = 1;
export const SCREEN_MAYBE_POOL = 2;

export class DnsScreen {
  private readonly labelAt = new Int32Array(MAX_LABELS);
  private readonly labelLength = new Uint8Array(MAX_LABELS);
  /** Offset just after the name last read by readName. */
  private after = 0;

  /**
   * SCREEN_MALFORMED when the datagram is not a standard DNS query or response with a
   * question, SCREEN_MAYBE_POOL when the question or a CNAME target has a suffix whose hash
   * is listed, else SCREEN_NO_POOL.
   */
  screen(buf: Buffer, start: number, end: number, hashes: ReadonlySet<number>): number {
    if (end - start < 12) return SCREEN_MALFORMED;
    const flags = (buf[start + 2]! << 8) | buf[start + 3]!;
    const qdCount = (buf[start + 4]! << 8) | buf[start + 5]!;
    const anCount = (buf[start + 6]! << 8) | buf[start + 7]!;
    if (((flags >> 11) & 0xf) !== 0 || qdCount === 0) return SCREEN_MALFORMED;
    let pos = start + 12;
    let maybe = false;
    for (let q = 0; q < qdCount; q++) {
      const hit = this.readName(buf, start, end, pos, q === 0 ? hashes : null);
      if (hit < 0 || this.after + 4 > end) return SCREEN_MALFORMED;
      if (hit > 0) maybe = true;
      pos = this.after + 4;
    }
    if (maybe) return SCREEN_MAYBE_POOL;
    if ((flags & 0x8000) === 0) return SCREEN_NO_POOL;
    for (let a = 0; a < anCount && a < MAX_ANSWERS; a++) {
      if (this.readName(buf, start, end, pos, null) < 0 || this.after + 10 > end) break;
      const p = this.after;
      const type = (buf[p]! << 8) | buf[p + 1]!;
      const rdLength = (buf[p + 8]! << 8) | buf[p + 9]!;
      const rd = p + 10;
      if (rd + rdLength > end) break;
      if (type === DNS_TYPE_CNAME && this.readName(buf, start, end, rd, hashes) > 0) return SCREEN_MAYBE_POOL;
      pos = rd + rdLength;
    }
    return SCREEN_NO_POOL;
  }

  /**
   * Walks the name at `pos`, setting `after`; with `hashes`, returns 1 when a suffix of
   * the name is listed, else 0; -1 when the name is malformed.
   */
  private readName(buf: Buffer, base: number, end: number, pos: number, hashes: ReadonlySet<number> | null): number {
    let labels = 0;
    let bytes = 0;
    let jumps = 0;
    this.after = -1;
    for (;;) {
      if (pos >= end) return -1;
      const len = buf[pos]!;
      if (len === 0) {
        if (this.after < 0) this.after = pos + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= end || ++jumps > MAX_POINTER_JUMPS) return -1;
        if (this.after < 0) this.after = pos + 2;
        pos = base + (((len & 0x3f) << 8) | buf[pos + 1]!);
        continue;
      }
      if ((len & 0xc0) !== 0 || pos + 1 + len > end || labels === MAX_LABELS) return -1;
      bytes += len + 1;
      if (bytes > MAX_NAME_BYTES) return -1;
      this.labelAt[labels] = pos + 1;
      this.labelLength[labels++] = len;
      pos += 1 + len;
    }
    if (hashes === null || hashes.size === 0) return 0;
    // Suffixes from the last label to the whole name, each checked as it completes.
    let h = NAME_HASH_SEED;
    for (let i = labels - 1; i >= 0; i--) {
      if (i < labels - 1) h = nameHashStep(h, 46); // '.'
      const at = this.labelAt[i]!;
      for (let j = at + this.labelLength[i]! - 1; j >= at; j--) h = nameHashStep(h, buf[j]!);
      if (hashes.has(h)) return 1;
    }
    return 0;
  }
}
