/**
 * Deterministic randomness for synthetic captures: the same seed must give the same bytes
 * on every machine, so Math.random is never used in src/synth.
 */

/**
 * PRNG returning floats in [0, 1). A Weyl sequence (golden-ratio increment) fed through the
 * MurmurHash3 32-bit finaliser: tiny state, full 2^32 period, good enough mixing for test
 * data. Seeds are folded to 32 bits (high bits of large seeds are mixed in, not dropped).
 */
export function seededRandom(seed: number): () => number {
  let state = (Math.trunc(seed) ^ Math.trunc(seed / 0x1_0000_0000)) >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 0x1_0000_0000;
  };
}

/** Integer in [min, max] (both inclusive). */
export function randomInt(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

/** Uniform unsigned 32-bit integer. */
export function randomUint32(rand: () => number): number {
  return Math.floor(rand() * 0x1_0000_0000) >>> 0;
}
