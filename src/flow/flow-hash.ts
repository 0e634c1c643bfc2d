import type { DecodedPacket } from '../decode/types.js';

/*
 * Symmetric 5-tuple hash: each endpoint (address words + port) is hashed on its own and the
 * two results are combined in sorted order, so both directions of a flow get the same value
 * without building a canonical key. The endpoint hashes are independent (the CPU computes
 * them in parallel); one final avalanche spreads the low bits that index the flow table.
 *
 * Values stay signed 32-bit inside the hot path: V8 keeps those unboxed, while unsigned
 * values of 2^31 and above become heap numbers.
 */

function endpointHash(words: Uint32Array, wordCount: number, port: number): number {
  let h = Math.imul(port ^ 0x2545f491, 0x9e3779b1);
  for (let i = 0; i < wordCount; i++) {
    h = Math.imul(h ^ words[i]!, 0x85ebca6b);
    h ^= h >>> 16;
  }
  return h;
}

/** Signed 32-bit form of symmetricFlowHash, used by the flow table. */
export function flowHash32(pkt: DecodedPacket): number {
  const wordCount = pkt.ipVersion === 6 ? 4 : 1;
  const a = endpointHash(pkt.src, wordCount, pkt.srcPort);
  const b = endpointHash(pkt.dst, wordCount, pkt.dstPort);
  let h = Math.imul((a < b ? a : b) ^ ((pkt.ipVersion << 8) | pkt.protocol), 0xcc9e2d51);
  h = (h ^ (h >>> 15)) + (a < b ? b : a);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Which of `count` shards a flow belongs to, from its flowHash32: shard 0 takes
 * `firstShare` of the hash space (by default an equal part), the others equal parts of the
 * rest. Takes the high bits (the hash's place in [0, 1)), because the flow table indexes
 * its buckets with the low bits: a shard chosen by the low bits would leave half of each
 * shard's buckets empty.
 */
export function shardOfHash(hash32: number, count: number, firstShare = 1 / count): number {
  const u = (hash32 >>> 0) / 0x1_0000_0000;
  if (u < firstShare) return 0;
  return Math.min(count - 1, 1 + Math.floor(((u - firstShare) / (1 - firstShare)) * (count - 1)));
}

/** Unsigned 32-bit hash of the flow tuple, equal for both directions. IPv4 packets use
 *  only the first address word (the decoder may leave stale values in the others). */
export function symmetricFlowHash(pkt: DecodedPacket): number {
  return flowHash32(pkt) >>> 0;
}
