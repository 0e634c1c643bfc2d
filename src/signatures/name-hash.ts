/**
 * 32-bit hashes of host names, built from the last character to the first, so the hash of
 * every suffix is a step on the way to the whole name. A name whose suffixes all miss the
 * hashes of the listed names cannot be listed; the string checks run only for the others.
 * Used on DNS wire names (detect/dns-screen.ts) and on SNI and HTTP Host text (PoolIndex).
 */
export const NAME_HASH_SEED = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** One step: the hash of `c` (an ASCII code, lower-cased here) prepended to `h`'s suffix. */
export function nameHashStep(h: number, c: number): number {
  return Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), FNV_PRIME);
}

/** The hash of a whole dotted name. */
export function reversedNameHash(name: string): number {
  let h = NAME_HASH_SEED;
  for (let i = name.length - 1; i >= 0; i--) h = nameHashStep(h, name.charCodeAt(i));
  return h;
}

/**
 * Whether a suffix of `text` (a host name as written: any case, an optional final dot) that
 * starts at a label hashes like one in `hashes`.
 */
export function anySuffixListed(text: string, hashes: ReadonlySet<number>): boolean {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 46) end--;
  let h = NAME_HASH_SEED;
  for (let i = end - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 46 && hashes.has(h)) return true;
    h = nameHashStep(h, c);
  }
  return hashes.has(h);
}
