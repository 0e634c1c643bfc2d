/**
 * Longest-prefix match over IPv4 and IPv6 prefixes, built once and then queried. CIDR
 * prefixes are either disjoint or nested, so they flatten into a sorted list of boundaries
 * where the most specific prefix changes; a lookup is one binary search over those
 * boundaries (about 21 steps for a million prefixes), whatever the prefix lengths.
 * Building sorts the prefixes once and sweeps them with a stack of the open ones; all of
 * it in typed arrays (4 words per address), so a million prefixes stay small and quick
 * (scripts/bench-assets.ts times it).
 */

export interface PrefixMatch<T> {
  value: T;
  length: number;
}

/** Growable flat store of 4-word addresses. */
class Words {
  data = new Uint32Array(64);
  count = 0;

  push(w0: number, w1: number, w2: number, w3: number): void {
    if ((this.count + 1) * 4 > this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const b = this.count++ * 4;
    this.data[b] = w0;
    this.data[b + 1] = w1;
    this.data[b + 2] = w2;
    this.data[b + 3] = w3;
  }
}

/** Prefixes of one family as added. */
class Added<T> {
  readonly starts = new Words();
  readonly ends = new Words();
  readonly lengths: number[] = [];
  readonly values: T[] = [];
}

/** One family, flattened: boundary addresses (ascending) and, from each boundary on, the
 *  prefix in force (-1: none) with its value and length. */
interface Flat<T> {
  bounds: Uint32Array;
  entryAt: Int32Array;
  values: T[];
  lengths: Uint8Array;
}

const ONES = new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);

/** Filled with set(), then frozen by the first lookup (or size): building is one sort. */
export class PrefixTable<T> {
  private added: Record<4 | 6, Added<T>> | null = { 4: new Added(), 6: new Added() };
  private built: Record<4 | 6, Flat<T>> | null = null;
  private distinct = 0;

  /** Distinct prefixes (a prefix added twice counts once). */
  get size(): number {
    this.build();
    return this.distinct;
  }

  /** Adds a prefix; a later value for the same prefix replaces the earlier one.
   *  `words` holds the address in 32-bit words (IPv4: words[0], the rest zero). */
  set(version: 4 | 6, words: Uint32Array, length: number, value: T): void {
    if (!this.added) throw new Error('prefix table already built: add every prefix before the first lookup');
    const a = this.added[version];
    const start = maskWords(words, length);
    const net = maskWords(ONES, length);
    const host = version === 4 ? [~net[0]!, 0, 0, 0] : [~net[0]!, ~net[1]!, ~net[2]!, ~net[3]!];
    a.starts.push(start[0]!, start[1]!, start[2]!, start[3]!);
    a.ends.push((start[0]! | host[0]!) >>> 0, (start[1]! | host[1]!) >>> 0, (start[2]! | host[2]!) >>> 0, (start[3]! | host[3]!) >>> 0);
    a.lengths.push(length);
    a.values.push(value);
  }

  /** The value of the longest prefix holding the address, with that prefix's length. */
  lookup(version: 4 | 6, words: Uint32Array): PrefixMatch<T> | undefined {
    const flat = this.build()[version];
    const at = lastAtOrBelow(flat.bounds, words[0]!, words[1]!, words[2]!, words[3]!);
    if (at < 0) return undefined;
    const e = flat.entryAt[at]!;
    return e < 0 ? undefined : { value: flat.values[e]!, length: flat.lengths[e]! };
  }

  private build(): Record<4 | 6, Flat<T>> {
    if (!this.built) {
      const added = this.added!;
      this.built = { 4: flatten(added[4], 0), 6: flatten(added[6], 3) };
      this.distinct = this.built[4].values.length + this.built[6].values.length;
      this.added = null; // the flat form is all a lookup needs
    }
    return this.built;
  }
}

function compareAt(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  const x = i * 4;
  const y = j * 4;
  return a[x]! - b[y]! || a[x + 1]! - b[y + 1]! || a[x + 2]! - b[y + 2]! || a[x + 3]! - b[y + 3]!;
}

/** Sweeps prefixes in (start, outermost first) order; a stack holds the open ones.
 *  `lastWord` is the word holding the lowest address bit (0 for IPv4, 3 for IPv6). */
function flatten<T>(a: Added<T>, lastWord: number): Flat<T> {
  const starts = a.starts.data;
  const ends = a.ends.data;
  const n = a.values.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort(
    (i, j) => compareAt(starts, i, starts, j) || a.lengths[i]! - a.lengths[j]! || i - j,
  );
  // The same prefix twice: the later row (last in this order) wins.
  const kept: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const j = order[k + 1];
    if (j === undefined || compareAt(starts, i, starts, j) !== 0 || a.lengths[i] !== a.lengths[j]) kept.push(i);
  }
  const bounds = new Words();
  const owners: number[] = [];
  const emit = (w: Uint32Array, at: number, owner: number): void => {
    const last = bounds.count - 1;
    if (last >= 0 && compareAt(bounds.data, last, w, at) === 0) owners[last] = owner;
    else {
      bounds.push(w[at * 4]!, w[at * 4 + 1]!, w[at * 4 + 2]!, w[at * 4 + 3]!);
      owners.push(owner);
    }
  };
  const next = new Uint32Array(4);
  const stack: number[] = []; // indexes into kept
  /** Pops the prefixes ending before kept[k]'s start (all when k < 0); after each, its parent is in force again. */
  const close = (k: number): void => {
    while (stack.length > 0) {
      const top = kept[stack[stack.length - 1]!]!;
      if (k >= 0 && compareAt(ends, top, starts, kept[k]!) >= 0) return;
      stack.pop();
      if (increment(ends, top, lastWord, next)) emit(next, 0, stack.length > 0 ? stack[stack.length - 1]! : -1);
    }
  };
  for (let k = 0; k < kept.length; k++) {
    close(k);
    stack.push(k);
    emit(starts, kept[k]!, k);
  }
  close(-1);
  return {
    bounds: bounds.data.slice(0, bounds.count * 4),
    entryAt: Int32Array.from(owners),
    values: kept.map((i) => a.values[i]!),
    lengths: Uint8Array.from(kept.map((i) => a.lengths[i]!)),
  };
}

/** out = address i + 1; false past the last address of the family. */
function increment(w: Uint32Array, i: number, lastWord: number, out: Uint32Array): boolean {
  out.set(w.subarray(i * 4, i * 4 + 4));
  for (let k = lastWord; k >= 0; k--) {
    if (out[k] !== 0xffffffff) {
      out[k] = out[k]! + 1;
      return true;
    }
    out[k] = 0;
  }
  return false;
}

/** Index of the last boundary ≤ the address, or -1. */
function lastAtOrBelow(bounds: Uint32Array, w0: number, w1: number, w2: number, w3: number): number {
  let lo = 0;
  let hi = bounds.length / 4 - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const b = mid * 4;
    const c = bounds[b]! - w0 || bounds[b + 1]! - w1 || bounds[b + 2]! - w2 || bounds[b + 3]! - w3;
    if (c <= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The address with every bit after `length` cleared. */
export function maskWords(words: Uint32Array, length: number): Uint32Array {
  const out = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const keep = length - 32 * i;
    out[i] = keep <= 0 ? 0 : keep >= 32 ? words[i]! : (words[i]! & (0xffffffff << (32 - keep))) >>> 0;
  }
  return out;
}
