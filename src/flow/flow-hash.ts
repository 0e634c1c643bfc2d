import type { DecodedPacket } from '../decode/types.js';

/*
 * Symmetric 5-tuple hash: each endpoint (address words + port) is hashed on its own and the
 * two results are combined in sorted order, so both directions of a flow get the same value
 * without building a canonical key. Murmur3-style mixing keeps it cheap and well spread
 * (the low bits index the flow table, the whole value shards flows across workers).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixWord(h: number, word: number): number {
  let k = Math.imul(word, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function endpointHash(words: Uint32Array, wordCount: number, port: number): number {
  let h = mixWord(0x2545f491, port);
  for (let i = 0; i < wordCount; i++) h = mixWord(h, words[i]!);
  return avalanche(h);
}

/** Unsigned 32-bit hash of the flow tuple, equal for both directions. IPv4 packets use
 *  only the first address word (the decoder may leave stale values in the others). */
export function symmetricFlowHash(pkt: DecodedPacket): number {
  const wordCount = pkt.ipVersion === 6 ? 4 : 1;
  const a = endpointHash(pkt.src, wordCount, pkt.srcPort);
  const b = endpointHash(pkt.dst, wordCount, pkt.dstPort);
  let h = mixWord((pkt.ipVersion << 8) | pkt.protocol, a < b ? a : b);
  h = mixWord(h, a < b ? b : a);
  return avalanche(h);
}
