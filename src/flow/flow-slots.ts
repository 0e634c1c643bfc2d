import type { DecodedPacket } from '../decode/types.js';
import type { ReorderBuffer } from './reorder-buffer.js';
import type { Flow } from './types.js';

/*
 * Storage for the flow table, struct-of-arrays style: per-flow keys, hash chains, LRU links
 * and TCP sequence state live in typed arrays indexed by slot, so a flow costs its Flow
 * object plus roughly 90 bytes here, and lookups touch no per-packet garbage. Arrays start
 * small and double up to the table's maximum.
 */

/** Recency lists. Flows that never carried payload are kept apart so that eviction can take
 *  them first: a flood of handshakes then cannot push out flows that carry data. */
export const LIST_TCP_QUIET = 0;
export const LIST_UDP_QUIET = 1;
export const LIST_TCP_DATA = 2;
export const LIST_UDP_DATA = 3;
/** Closed TCP flows kept as tombstones so late packets do not open a new flow. */
export const LIST_CLOSED = 4;
export const LIST_COUNT = 5;
const NO_LIST = 255;

const INITIAL_CAPACITY = 1024;
/** Side 0 address words, then side 1 (IPv4 uses the first word of each). */
const WORDS_PER_SLOT = 8;

export class FlowSlots {
  capacity: number;
  /** Slots in use (live flows and tombstones). */
  used = 0;
  /** Next expected sequence number and DirectionState bits, indexed slot * 2 + direction. */
  nextSeq: Uint32Array;
  dirState: Uint8Array;
  /** The Flow of each used slot. */
  readonly flows: (Flow | null)[];
  /** Out-of-order data, indexed slot * 2 + direction; null while there is none. */
  readonly reorder: (ReorderBuffer | null)[];
  private readonly heads = new Int32Array(LIST_COUNT).fill(-1);
  private readonly tails = new Int32Array(LIST_COUNT).fill(-1);

  private mask: number;
  private buckets: Int32Array;
  private hashes: Uint32Array;
  private chain: Int32Array;
  private keyWords: Uint32Array;
  /** Side 0 port, side 1 port. */
  private keyPorts: Uint16Array;
  /** ipVersion << 8 | protocol. */
  private keyKind: Uint16Array;
  private listOf: Uint8Array;
  private prev: Int32Array;
  /** LRU successor; for free slots, the next free slot. */
  private next: Int32Array;
  private freeHead = -1;

  constructor(readonly maxCapacity: number) {
    this.capacity = 0;
    this.mask = 0;
    this.buckets = new Int32Array(0);
    this.hashes = new Uint32Array(0);
    this.chain = new Int32Array(0);
    this.keyWords = new Uint32Array(0);
    this.keyPorts = new Uint16Array(0);
    this.keyKind = new Uint16Array(0);
    this.listOf = new Uint8Array(0);
    this.prev = new Int32Array(0);
    this.next = new Int32Array(0);
    this.nextSeq = new Uint32Array(0);
    this.dirState = new Uint8Array(0);
    this.flows = [];
    this.reorder = [];
    this.grow(Math.min(maxCapacity, INITIAL_CAPACITY));
  }

  /** No free slot and no room to grow: the caller must free one first. */
  get full(): boolean {
    return this.freeHead < 0 && this.capacity >= this.maxCapacity;
  }

  /** Finds the flow of a packet: returns slot << 1 | direction (0 when the sender is side 0),
   *  or -1. */
  find(pkt: DecodedPacket, hash: number): number {
    const kind = (pkt.ipVersion << 8) | pkt.protocol;
    const wordCount = pkt.ipVersion === 6 ? 4 : 1;
    const { srcPort, dstPort, src, dst } = pkt;
    for (let slot = this.buckets[hash & this.mask]!; slot >= 0; slot = this.chain[slot]!) {
      if (this.hashes[slot] !== hash || this.keyKind[slot] !== kind) continue;
      const port0 = this.keyPorts[slot * 2]!;
      const port1 = this.keyPorts[slot * 2 + 1]!;
      const side0 = slot * WORDS_PER_SLOT;
      const side1 = side0 + 4;
      if (srcPort === port0 && dstPort === port1 && this.sameWords(side0, src, wordCount) && this.sameWords(side1, dst, wordCount)) {
        return slot << 1;
      }
      if (srcPort === port1 && dstPort === port0 && this.sameWords(side1, src, wordCount) && this.sameWords(side0, dst, wordCount)) {
        return (slot << 1) | 1;
      }
    }
    return -1;
  }

  /** Takes a free slot for the packet's tuple (the caller checks `full` first). */
  allocate(pkt: DecodedPacket, hash: number, sourceIsSide0: boolean, flow: Flow, list: number): number {
    if (this.freeHead < 0) this.grow(Math.min(this.maxCapacity, this.capacity * 2));
    const slot = this.freeHead;
    if (slot < 0) throw new Error('flow slots exhausted');
    this.freeHead = this.next[slot]!;
    this.used++;

    const wordCount = pkt.ipVersion === 6 ? 4 : 1;
    const side0 = sourceIsSide0 ? pkt.src : pkt.dst;
    const side1 = sourceIsSide0 ? pkt.dst : pkt.src;
    const base = slot * WORDS_PER_SLOT;
    for (let i = 0; i < 4; i++) {
      this.keyWords[base + i] = i < wordCount ? side0[i]! : 0;
      this.keyWords[base + 4 + i] = i < wordCount ? side1[i]! : 0;
    }
    this.keyPorts[slot * 2] = sourceIsSide0 ? pkt.srcPort : pkt.dstPort;
    this.keyPorts[slot * 2 + 1] = sourceIsSide0 ? pkt.dstPort : pkt.srcPort;
    this.keyKind[slot] = (pkt.ipVersion << 8) | pkt.protocol;
    this.hashes[slot] = hash;
    const bucket = hash & this.mask;
    this.chain[slot] = this.buckets[bucket]!;
    this.buckets[bucket] = slot;

    this.nextSeq[slot * 2] = 0;
    this.nextSeq[slot * 2 + 1] = 0;
    this.dirState[slot * 2] = 0;
    this.dirState[slot * 2 + 1] = 0;
    this.flows[slot] = flow;
    this.link(slot, list);
    return slot;
  }

  /** Forgets a slot: its key, list membership, flow and buffers (the caller settles stats). */
  release(slot: number): void {
    this.unlink(slot);
    const bucket = this.hashes[slot]! & this.mask;
    if (this.buckets[bucket] === slot) {
      this.buckets[bucket] = this.chain[slot]!;
    } else {
      let at = this.buckets[bucket]!;
      while (this.chain[at] !== slot) at = this.chain[at]!;
      this.chain[at] = this.chain[slot]!;
    }
    this.flows[slot] = null;
    this.reorder[slot * 2] = null;
    this.reorder[slot * 2 + 1] = null;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
    this.used--;
  }

  list(slot: number): number {
    return this.listOf[slot]!;
  }

  /** Marks the slot as most recently used, in `list` (which may differ from its current one). */
  touch(slot: number, list: number): void {
    if (this.listOf[slot] === list && this.tails[list] === slot) return;
    this.unlink(slot);
    this.link(slot, list);
  }

  /** Least recently used slot of a list, or -1. */
  oldest(list: number): number {
    return this.heads[list]!;
  }

  private link(slot: number, list: number): void {
    const tail = this.tails[list]!;
    this.prev[slot] = tail;
    this.next[slot] = -1;
    if (tail >= 0) this.next[tail] = slot;
    else this.heads[list] = slot;
    this.tails[list] = slot;
    this.listOf[slot] = list;
  }

  private unlink(slot: number): void {
    const list = this.listOf[slot]!;
    const before = this.prev[slot]!;
    const after = this.next[slot]!;
    if (before >= 0) this.next[before] = after;
    else this.heads[list] = after;
    if (after >= 0) this.prev[after] = before;
    else this.tails[list] = before;
    this.listOf[slot] = NO_LIST;
  }

  private sameWords(base: number, words: Uint32Array, count: number): boolean {
    for (let i = 0; i < count; i++) if (this.keyWords[base + i] !== words[i]) return false;
    return true;
  }

  private grow(newCapacity: number): void {
    const old = this.capacity;
    if (newCapacity <= old) return;
    this.capacity = newCapacity;
    this.hashes = resized(this.hashes, newCapacity);
    this.chain = resized(this.chain, newCapacity);
    this.keyWords = resized(this.keyWords, newCapacity * WORDS_PER_SLOT);
    this.keyPorts = resized(this.keyPorts, newCapacity * 2);
    this.keyKind = resized(this.keyKind, newCapacity);
    this.listOf = resized(this.listOf, newCapacity);
    this.prev = resized(this.prev, newCapacity);
    this.next = resized(this.next, newCapacity);
    this.nextSeq = resized(this.nextSeq, newCapacity * 2);
    this.dirState = resized(this.dirState, newCapacity * 2);
    for (let slot = old; slot < newCapacity; slot++) {
      this.flows.push(null);
      this.reorder.push(null, null);
    }
    this.listOf.fill(NO_LIST, old);
    // Free slots are handed out lowest first.
    for (let slot = newCapacity - 1; slot >= old; slot--) {
      this.next[slot] = this.freeHead;
      this.freeHead = slot;
    }
    this.rehash();
  }

  /** Bucket array at load factor <= 0.5, rebuilt from the stored hashes. */
  private rehash(): void {
    let size = 2;
    while (size < this.capacity * 2) size *= 2;
    this.mask = size - 1;
    this.buckets = new Int32Array(size).fill(-1);
    for (let slot = 0; slot < this.capacity; slot++) {
      if (this.flows[slot] === null) continue;
      const bucket = this.hashes[slot]! & this.mask;
      this.chain[slot] = this.buckets[bucket]!;
      this.buckets[bucket] = slot;
    }
  }
}

function resized<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}
