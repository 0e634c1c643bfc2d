/** TCP sequence arithmetic: sequence numbers are unsigned 32-bit and wrap around. */

/** Signed distance a - b modulo 2^32 (positive when a lies ahead of b). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** a + n modulo 2^32, as an unsigned value. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
