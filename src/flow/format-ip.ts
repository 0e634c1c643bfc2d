/*
 * Address text for Flow.addr, built once per flow. Results come from Array.join so V8 stores
 * them as flat strings: concatenation would leave rope (cons) strings that cost more memory
 * for the lifetime of the flow.
 */

const DECIMAL: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

function formatIpv4(value: number): string {
  return [
    DECIMAL[(value >>> 24) & 0xff],
    DECIMAL[(value >>> 16) & 0xff],
    DECIMAL[(value >>> 8) & 0xff],
    DECIMAL[value & 0xff],
  ].join('.');
}

/** RFC 5952: lowercase hex without leading zeros, the longest run of two or more zero
 *  groups (the first on a tie) written as '::', IPv4-mapped addresses as ::ffff:a.b.c.d. */
function formatIpv6(words: ArrayLike<number>): string {
  const w0 = words[0]! >>> 0;
  const w1 = words[1]! >>> 0;
  const w2 = words[2]! >>> 0;
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return ['::ffff:', formatIpv4(words[3]! >>> 0)].join('');

  const groups: number[] = [];
  for (let i = 0; i < 4; i++) {
    const word = words[i]! >>> 0;
    groups.push(word >>> 16, word & 0xffff);
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return [head, '::', tail].join('');
}

/** IPv4: words[0] holds the address as an unsigned number; IPv6: four big-endian words. */
export function formatIp(version: 4 | 6, words: ArrayLike<number>): string {
  return version === 4 ? formatIpv4(words[0]! >>> 0) : formatIpv6(words);
}
