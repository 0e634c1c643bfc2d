import type { DecodedPacket } from '../decode/types.js';
import { AddressTextCache } from './address-text.js';
import type { ReorderBuffer } from './reorder-buffer.js';
import { Flow } from './types.js';

/*
 * Storage for the flow table, struct-of-arrays style: keys, hash chains, recency links,
 * timestamps and TCP sequence state live in typed arrays indexed by slot (about 140 bytes
 * per flow), so lookups create no garbage and a flood of handshakes stays cheap.
 *
 * The Flow object the handler sees (≈ 400 bytes on 64-bit Node with its four small arrays,
 * plus address strings) is built only when first needed: when payload is delivered or a
 * callback is due. Until then its packet and byte counts are kept here, so a flood of
 * handshakes or one-packet UDP flows costs no objects at all. Arrays start small and double
 * up to the maximum.
 */

/** Recency lists. Flows that never carried payload are kept apart so that eviction can take
 *  them first: a flood of handshakes then cannot push out flows that carry data. */
export const LIST_TCP_QUIET = 0;
export const LIST_UDP_QUIET = 1;
export const LIST_TCP_DATA = 2;
export const LIST_UDP_DATA = 3;
/** Closed TCP flows kept as tombstones so late packets do not open a new flow. */
export const LIST_CLOSED = 4;
const LIST_COUNT = 5;
const NO_LIST = 255;

/** Per-direction state bits (dirState, indexed slot * 2 + direction). */
export const DIR_SEQ_KNOWN = 1;
export const DIR_FIN_SEEN = 2;
export const DIR_DATA_SEEN = 4;
/** Out-of-order data is held in `reorderBuffers` (checked before any Map lookup). */
const DIR_HAS_REORDER = 8;

/** Per-slot flag bits. */
const SLOT_SAW_SYN = 1;
/** The handler let the flow go (letGo): no Flow object is kept for it. */
const SLOT_LET_GO = 2;

const INITIAL_CAPACITY = 1024;
/** Side 0 address words, then side 1 (IPv4 uses the first word of each). */
const WORDS_PER_SLOT = 8;

export class FlowSlots {
  capacity = 0;
  /** Capture second of the packet being processed, for touch(). The table sets it per
   *  packet: passing the time as an argument would box a double on every call. */
  clockSecond = 0;
  /** Next expected sequence number and DIR_* bits, indexed slot * 2 + direction. */
  nextSeq = new Uint32Array(0);
  dirState = new Uint8Array(0);
  /** Capture time of the latest packet (for tombstones: of the closing packet). */
  lastSeen = new Float64Array(0);
  /** Flow objects, once built (null before, and again once the flow has ended). */
  readonly flows: (Flow | null)[] = [];

  private readonly heads = new Int32Array(LIST_COUNT).fill(-1);
  private readonly tails = new Int32Array(LIST_COUNT).fill(-1);
  private mask = 0;
  private buckets = new Int32Array(0);
  private hashes = new Int32Array(0);
  private chain = new Int32Array(0);
  private keyWords = new Uint32Array(0);
  /** Side 0 port, side 1 port. */
  private keyPorts = new Uint16Array(0);
  /** ipVersion << 8 | protocol. */
  private keyKind = new Uint16Array(0);
  private listOf = new Uint8Array(0);
  private prev = new Int32Array(0);
  /** Recency successor; for free slots, the next free slot. */
  private next = new Int32Array(0);
  private freeHead = -1;
  /** Slot of the latest find() or allocate(), or -1 (see findRecent). */
  private recent = -1;
  private flowIds = new Float64Array(0);
  private firstSeen = new Float64Array(0);
  /** Packets and payload bytes per direction while the Flow object is not built. */
  private quietPackets = new Float64Array(0);
  private quietBytes = new Float64Array(0);
  private slotFlags = new Uint8Array(0);
  /** Capture second at which the slot last moved within its recency list. */
  private movedSecond = new Uint32Array(0);
  private readonly reorderBuffers = new Map<number, ReorderBuffer>();
  private readonly addressText = new AddressTextCache();
  private nextFlowId = 1;

  constructor(readonly maxCapacity: number) {
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
    for (let slot = this.buckets[hash & this.mask]!; slot >= 0; slot = this.chain[slot]!) {
      if (this.hashes[slot] !== hash || this.keyKind[slot] !== kind) continue;
      const found = this.match(slot, pkt, kind);
      if (found >= 0) {
        this.recent = slot;
        return found;
      }
    }
    return -1;
  }

  /** find() for the flow of the previous packet only, without a hash: packets come in
   *  trains (a transfer's segments, a request and its answer), so a third or more of them
   *  belong to the flow just seen, whose key is still in cache. -1 when it is another. */
  findRecent(pkt: DecodedPacket): number {
    const slot = this.recent;
    if (slot < 0) return -1;
    const kind = (pkt.ipVersion << 8) | pkt.protocol;
    return this.keyKind[slot] === kind ? this.match(slot, pkt, kind) : -1;
  }

  /** slot << 1 | direction when the packet's tuple is the slot's (of the same kind), or -1. */
  private match(slot: number, pkt: DecodedPacket, kind: number): number {
    const { srcPort, dstPort, src, dst } = pkt;
    const words = this.keyWords;
    const port0 = this.keyPorts[slot * 2]!;
    const port1 = this.keyPorts[slot * 2 + 1]!;
    const side0 = slot * WORDS_PER_SLOT;
    const side1 = side0 + 4;
    if (kind >>> 8 === 4) {
      if (srcPort === port0 && dstPort === port1 && words[side0] === src[0] && words[side1] === dst[0]) return slot << 1;
      if (srcPort === port1 && dstPort === port0 && words[side1] === src[0] && words[side0] === dst[0]) return (slot << 1) | 1;
    } else {
      if (srcPort === port0 && dstPort === port1 && this.sameIpv6(side0, src) && this.sameIpv6(side1, dst)) return slot << 1;
      if (srcPort === port1 && dstPort === port0 && this.sameIpv6(side1, src) && this.sameIpv6(side0, dst)) return (slot << 1) | 1;
    }
    return -1;
  }

  /** Takes a free slot for the packet's tuple (the caller checks `full` first). */
  allocate(pkt: DecodedPacket, hash: number, sourceIsSide0: boolean, tsMicros: number, list: number): number {
    if (this.freeHead < 0) this.grow(Math.min(this.maxCapacity, this.capacity * 2));
    const slot = this.freeHead;
    if (slot < 0) throw new Error('flow slots exhausted');
    this.freeHead = this.next[slot]!;

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

    this.flowIds[slot] = this.nextFlowId++;
    this.firstSeen[slot] = tsMicros;
    this.lastSeen[slot] = tsMicros;
    this.movedSecond[slot] = Math.floor(tsMicros * 1e-6);
    this.slotFlags[slot] = 0;
    for (let index = slot * 2; index <= slot * 2 + 1; index++) {
      this.nextSeq[index] = 0;
      this.dirState[index] = 0;
      this.quietPackets[index] = 0;
      this.quietBytes[index] = 0;
    }
    this.flows[slot] = null;
    this.link(slot, list);
    this.recent = slot;
    return slot;
  }

  /** Forgets a slot: key, list membership, Flow and buffers (the caller settles stats). */
  release(slot: number): void {
    if (this.recent === slot) this.recent = -1;
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
    this.setReorder(slot * 2, null);
    this.setReorder(slot * 2 + 1, null);
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
  }

  /** The Flow of a slot, built now if this is the first time it is needed. */
  flowAt(slot: number): Flow {
    const existing = this.flows[slot];
    if (existing) return existing;
    const kind = this.keyKind[slot]!;
    const version = (kind >>> 8) as 4 | 6;
    const base = slot * WORDS_PER_SLOT;
    const flow = new Flow(
      this.flowIds[slot]!,
      version,
      kind & 0xff,
      [this.addressText.text(version, this.keyWords, base), this.addressText.text(version, this.keyWords, base + 4)],
      [this.keyPorts[slot * 2]!, this.keyPorts[slot * 2 + 1]!],
      this.firstSeen[slot]!,
    );
    flow.lastSeenMicros = this.lastSeen[slot]!;
    flow.packets[0] = this.quietPackets[slot * 2]!;
    flow.packets[1] = this.quietPackets[slot * 2 + 1]!;
    flow.bytes[0] = this.quietBytes[slot * 2]!;
    flow.bytes[1] = this.quietBytes[slot * 2 + 1]!;
    flow.sawSyn = (this.slotFlags[slot]! & SLOT_SAW_SYN) !== 0;
    if (this.slotFlags[slot]! & SLOT_LET_GO) flow.inspect = false;
    this.flows[slot] = flow;
    return flow;
  }

  /**
   * Drops the Flow of a flow the handler has let go of (inspect off, no app state): its
   * counts move back into the arrays, so a flow nobody inspects any more costs its slot
   * only, whatever its length. Should a callback need a Flow again (its end), one is built
   * with the same id and counts, and inspect off.
   */
  letGo(slot: number): void {
    const flow = this.flows[slot];
    if (!flow) {
      this.slotFlags[slot]! |= SLOT_LET_GO;
      return;
    }
    this.quietPackets[slot * 2] = flow.packets[0];
    this.quietPackets[slot * 2 + 1] = flow.packets[1];
    this.quietBytes[slot * 2] = flow.bytes[0];
    this.quietBytes[slot * 2 + 1] = flow.bytes[1];
    this.slotFlags[slot]! |= flow.sawSyn ? SLOT_LET_GO | SLOT_SAW_SYN : SLOT_LET_GO;
    this.flows[slot] = null;
  }

  protocol(slot: number): number {
    return this.keyKind[slot]! & 0xff;
  }

  isLetGo(slot: number): boolean {
    return (this.slotFlags[slot]! & SLOT_LET_GO) !== 0;
  }

  /** Counts a packet of a flow whose Flow object is not built. */
  countQuietPacket(slot: number, dir: number, payloadBytes: number): void {
    this.quietPackets[slot * 2 + dir]++;
    this.quietBytes[slot * 2 + dir] += payloadBytes;
  }

  markSawSyn(slot: number): void {
    const flow = this.flows[slot];
    if (flow) flow.sawSyn = true;
    else this.slotFlags[slot]! |= SLOT_SAW_SYN;
  }

  /** Out-of-order data of one direction (index = slot * 2 + direction), or null. */
  reorderAt(index: number): ReorderBuffer | null {
    return this.dirState[index]! & DIR_HAS_REORDER ? this.reorderBuffers.get(index)! : null;
  }

  setReorder(index: number, buffer: ReorderBuffer | null): void {
    if (buffer) {
      this.reorderBuffers.set(index, buffer);
      this.dirState[index]! |= DIR_HAS_REORDER;
    } else if (this.dirState[index]! & DIR_HAS_REORDER) {
      this.reorderBuffers.delete(index);
      this.dirState[index]! &= ~DIR_HAS_REORDER;
    }
  }

  list(slot: number): number {
    return this.listOf[slot]!;
  }

  /**
   * Moves the slot to the recent end of `list` (which may differ from its current one).
   * Within a list a slot moves at most once per second of capture time: relinking touches
   * two neighbouring slots, which at large tables costs cache misses on every packet. Lists
   * are therefore ordered by the second of the last move, and expiry and eviction order are
   * exact to within one second.
   */
  touch(slot: number, list: number): void {
    const second = this.clockSecond;
    if (this.listOf[slot] === list && this.movedSecond[slot] === second) return;
    this.moveTo(slot, list, second);
  }

  /** touch() at another time than the current packet's. */
  touchAt(slot: number, list: number, tsMicros: number): void {
    const second = Math.floor(tsMicros * 1e-6);
    if (this.listOf[slot] === list && this.movedSecond[slot] === second) return;
    this.moveTo(slot, list, second);
  }

  private moveTo(slot: number, list: number, second: number): void {
    this.movedSecond[slot] = second;
    this.unlink(slot);
    this.link(slot, list);
  }

  /** The next more recently used slot of the same list, or -1. */
  newer(slot: number): number {
    return this.next[slot]!;
  }

  /** Whether either direction holds out-of-order data. */
  holdsBuffers(slot: number): boolean {
    return ((this.dirState[slot * 2]! | this.dirState[slot * 2 + 1]!) & DIR_HAS_REORDER) !== 0;
  }

  /** Forgets every slot at once (capacity is kept): what release() of each would leave. */
  clear(): void {
    this.buckets.fill(-1);
    this.heads.fill(-1);
    this.tails.fill(-1);
    this.listOf.fill(NO_LIST);
    this.flows.fill(null);
    for (const index of this.reorderBuffers.keys()) this.dirState[index]! &= ~DIR_HAS_REORDER;
    this.reorderBuffers.clear();
    this.freeHead = -1;
    for (let slot = this.capacity - 1; slot >= 0; slot--) {
      this.next[slot] = this.freeHead;
      this.freeHead = slot;
    }
    this.recent = -1;
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

  private sameIpv6(base: number, words: Uint32Array): boolean {
    const key = this.keyWords;
    return key[base] === words[0] && key[base + 1] === words[1] && key[base + 2] === words[2] && key[base + 3] === words[3];
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
    this.lastSeen = resized(this.lastSeen, newCapacity);
    this.flowIds = resized(this.flowIds, newCapacity);
    this.firstSeen = resized(this.firstSeen, newCapacity);
    this.quietPackets = resized(this.quietPackets, newCapacity * 2);
    this.quietBytes = resized(this.quietBytes, newCapacity * 2);
    this.slotFlags = resized(this.slotFlags, newCapacity);
    this.movedSecond = resized(this.movedSecond, newCapacity);
    for (let slot = old; slot < newCapacity; slot++) this.flows.push(null);
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
      if (this.listOf[slot] === NO_LIST) continue;
      const bucket = this.hashes[slot]! & this.mask;
      this.chain[slot] = this.buckets[bucket]!;
      this.buckets[bucket] = slot;
    }
  }
}

type NumberArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

function resized<T extends NumberArray>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}
