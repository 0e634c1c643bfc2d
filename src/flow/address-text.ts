import { formatIp } from '../decode/address.js';

/**
 * Address strings for new flows, cached: many flows share an endpoint (one pool, one
 * scanner, one victim), and each shared string saves its bytes for the lifetime of every
 * such flow. Direct-mapped, so a lookup is one probe and the cache never grows.
 */
const SIZE = 4096;
/** Version word, then four address words, per entry. */
const STRIDE = 5;

export class AddressTextCache {
  private readonly keys = new Uint32Array(SIZE * STRIDE);
  private readonly texts: (string | undefined)[] = new Array<string | undefined>(SIZE).fill(undefined);

  /** Text of the address in words[offset .. offset + 4) (IPv4 uses the first word). */
  text(version: 4 | 6, words: Uint32Array, offset: number): string {
    const count = version === 6 ? 4 : 1;
    let h: number = version;
    for (let i = 0; i < count; i++) {
      h = Math.imul(h ^ words[offset + i]!, 0x9e3779b1);
      h ^= h >>> 16;
    }
    const entry = h & (SIZE - 1);
    const key = entry * STRIDE;
    const cached = this.texts[entry];
    if (cached !== undefined && this.keys[key] === version && this.sameWords(key + 1, words, offset, count)) return cached;

    const text = formatIp(version, words.subarray(offset, offset + count));
    this.keys[key] = version;
    for (let i = 0; i < 4; i++) this.keys[key + 1 + i] = i < count ? words[offset + i]! : 0;
    this.texts[entry] = text;
    return text;
  }

  private sameWords(at: number, words: Uint32Array, offset: number, count: number): boolean {
    for (let i = 0; i < count; i++) if (this.keys[at + i] !== words[offset + i]) return false;
    return true;
  }
}
