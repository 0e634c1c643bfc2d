import { type DecodedPacket, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_RST, TCP_SYN } from '../decode/types.js';
import { flowHash32 } from './flow-hash.js';
import { SWEEP_INTERVAL_MICROS, SweepClock } from './sweep-clock.js';
import {
  FlowSlots,
  LIST_CLOSED,
  LIST_TCP_DATA,
  LIST_TCP_QUIET,
  LIST_UDP_DATA,
  LIST_UDP_QUIET,
} from './flow-slots.js';
import { TCP_CLOSED_BY_FIN, TCP_OPEN, TcpReassembler } from './tcp-reassembler.js';
import { DATAGRAM_DELIVER, DATAGRAM_LET_GO, type Direction, type FlowEndReason, type FlowStats, type StreamHandler } from './types.js';

export { shardOfHash, symmetricFlowHash } from './flow-hash.js';

export interface FlowTableOptions {
  /** Flows (and tombstones) held at most; beyond, the least valuable flow is evicted. */
  maxFlows: number;
  tcpIdleMicros: number;
  udpIdleMicros: number;
  /** How long a closed TCP flow stays as a tombstone swallowing late retransmissions/ACKs. */
  closedLingerMicros: number;
  maxOutOfOrderBytesPerDirection: number;
  maxBufferedBytesTotal: number;
  /**
   * onFlowEnd also hears of flows the handler holds nothing for: never given payload
   * (handshakes, scans, UDP without onDatagram), or let go of (inspect off and no app
   * state). True keeps "every flow ends exactly once"; a handler that keeps state only in
   * flow.app can turn it off, which spares a Flow object and two address strings per such
   * flow at its end (floods are made of such flows). 'tcp' reports unseen TCP flows only.
   */
  reportUnseenFlows: boolean | 'tcp';
  /**
   * The caller runs the idle sweeps (sweep()) instead of processPacket: a shard of a
   * parallel replay sweeps where the reader, which sees every packet, says one table over
   * all flows would.
   */
  externalSweeps: boolean;
  /**
   * Forget the Flow object of a flow the handler has let go of (inspect off and no app
   * state) and keep only its counts in the table, so a flow nobody inspects costs about 140
   * bytes however long it lives; a later callback (its end) gets a new Flow with the same
   * id and counts. Off by default: a handler may hold on to the Flow and read its counts.
   */
  forgetLetGoFlows: boolean;
}

export const DEFAULT_FLOW_TABLE_OPTIONS: Readonly<FlowTableOptions> = {
  maxFlows: 262_144,
  tcpIdleMicros: 600_000_000,
  udpIdleMicros: 60_000_000,
  closedLingerMicros: 5_000_000,
  maxOutOfOrderBytesPerDirection: 256 * 1024,
  maxBufferedBytesTotal: 64 * 1024 * 1024,
  reportUnseenFlows: true,
  forgetLetGoFlows: false,
  externalSweeps: false,
};

export function newFlowStats(): FlowStats {
  return {
    created: 0,
    active: 0,
    peakActive: 0,
    ended: 0,
    evicted: 0,
    idleExpired: 0,
    bufferOverflowBytes: 0,
    gapBytes: 0,
    retransmittedBytes: 0,
    bufferedBytes: 0,
  };
}

/**
 * Bidirectional TCP/UDP flows keyed by 5-tuple, with TCP stream reassembly, idle expiry by
 * capture time and bounded memory. Lookups hash the packet's numeric fields; a flow's Flow
 * object and address strings are built once, when the flow first carries payload or a
 * callback needs it. Handlers must not call back into the table from their callbacks.
 */
export class FlowTable {
  readonly stats: FlowStats = newFlowStats();
  private readonly options: FlowTableOptions;
  private readonly slots: FlowSlots;
  private readonly tcp: TcpReassembler;
  /** Idle timeout of each recency list (index = LIST_*). */
  private readonly timeouts: readonly number[];
  private readonly sweepClock = new SweepClock();

  constructor(
    private readonly handler: StreamHandler,
    opts: Partial<FlowTableOptions> = {},
  ) {
    this.options = { ...DEFAULT_FLOW_TABLE_OPTIONS, ...opts };
    const { maxFlows, tcpIdleMicros, udpIdleMicros, closedLingerMicros } = this.options;
    if (!Number.isInteger(maxFlows) || maxFlows < 1 || maxFlows > 1 << 28) {
      throw new RangeError(`maxFlows must be an integer in [1, 2^28], got ${maxFlows}`);
    }
    this.slots = new FlowSlots(maxFlows);
    this.tcp = new TcpReassembler(this.slots, handler, this.stats, this.options);
    this.timeouts = [tcpIdleMicros, udpIdleMicros, tcpIdleMicros, udpIdleMicros, closedLingerMicros];
  }

  /** Live flows (tombstones of closed flows not included). */
  get size(): number {
    return this.stats.active;
  }

  process(pkt: DecodedPacket, tsMicros: number): void {
    pkt.tsMicros = tsMicros;
    this.processPacket(pkt);
  }

  /** process() at the packet's own capture time (DecodedPacket.tsMicros). Rare paths read
   *  pkt.tsMicros again rather than share one local: a double local that reaches a call gets
   *  boxed where it is defined, that is on every packet. */
  processPacket(pkt: DecodedPacket): void {
    const tsMicros = pkt.tsMicros;
    this.slots.clockSecond = Math.floor(tsMicros * 1e-6);
    const protocol = pkt.protocol;
    if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return;
    if (pkt.ipVersion !== 4 && pkt.ipVersion !== 6) return;
    if (!this.options.externalSweeps && this.sweepClock.due(tsMicros)) this.expire(pkt.tsMicros);

    // The previous packet's flow first: no hash, and its key is still in cache.
    let found = this.slots.findRecent(pkt);
    let hash = 0;
    let hashed = false;
    if (found < 0) {
      hash = flowHash32(pkt);
      hashed = true;
      found = this.slots.find(pkt, hash);
    }
    if (found >= 0 && this.slots.list(found >> 1) === LIST_CLOSED) {
      if (!isOpeningSyn(pkt)) return; // late packet of a closed connection
      this.slots.release(found >> 1); // port reuse: the tuple starts over
      found = -1;
    }

    let slot: number;
    let dir: Direction;
    if (found >= 0) {
      slot = found >> 1;
      dir = (found & 1) as Direction;
    } else {
      if (protocol === IPPROTO_TCP && pkt.tcpFlags & TCP_RST) return; // reset of a connection we never saw
      // A SYN-ACK seen first was sent by the responder.
      const sourceIsInitiator = protocol !== IPPROTO_TCP || (pkt.tcpFlags & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK);
      slot = this.open(pkt, hashed ? hash : flowHash32(pkt), sourceIsInitiator, pkt.tsMicros);
      dir = sourceIsInitiator ? 0 : 1;
    }

    const length = pkt.payloadLength;
    // Bytes the snap length cut off still crossed the wire: they count, they are not delivered.
    const wireLength = length + pkt.payloadMissing;
    if (tsMicros > this.slots.lastSeen[slot]!) this.slots.lastSeen[slot] = tsMicros;
    // TCP payload will reach the handler: build the Flow object now. UDP payload does only
    // when the handler takes datagrams. A flow the handler let go of gets no Flow again.
    let letGo = this.slots.isLetGo(slot);
    let screened = DATAGRAM_DELIVER;
    if (protocol === IPPROTO_UDP && !letGo && this.handler.screenDatagram !== undefined) {
      screened = this.handler.screenDatagram(pkt.srcPort, pkt.dstPort, pkt.buf, pkt.payloadOffset, length, pkt.dnsScreen);
      if (screened === DATAGRAM_LET_GO) {
        // The handler holds nothing for the flow (it was never delivered, or it says so).
        const built = this.slots.flows[slot];
        if (built) built.inspect = false;
        if (built === null || (this.options.forgetLetGoFlows && built.app === undefined)) this.slots.letGo(slot);
        letGo = true;
      }
    }
    const delivered =
      wireLength > 0 && !letGo && screened === DATAGRAM_DELIVER && (protocol === IPPROTO_TCP || this.handler.onDatagram !== undefined);
    const flow = delivered ? this.slots.flowAt(slot) : this.slots.flows[slot];
    if (flow) {
      flow.packets[dir]++;
      flow.bytes[dir] += wireLength;
      if (tsMicros > flow.lastSeenMicros) flow.lastSeenMicros = tsMicros;
    } else {
      this.slots.countQuietPacket(slot, dir, wireLength);
    }

    if (protocol === IPPROTO_UDP) {
      this.slots.touch(slot, length > 0 ? LIST_UDP_DATA : this.slots.list(slot));
      if (this.handler.onDatagram && !letGo && screened === DATAGRAM_DELIVER) {
        const target = flow ?? this.slots.flowAt(slot);
        if (target.inspect) this.handler.onDatagram(target, dir, pkt.buf, pkt.payloadOffset, length, pkt.tsMicros);
        if (this.options.forgetLetGoFlows && !target.inspect && target.app === undefined) this.slots.letGo(slot);
      }
      return;
    }

    this.slots.touch(slot, wireLength > 0 ? LIST_TCP_DATA : this.slots.list(slot));
    if (dir === 0 && isOpeningSyn(pkt)) this.slots.markSawSyn(slot);
    const outcome = this.tcp.segment(slot, dir, pkt);
    if (outcome !== TCP_OPEN) {
      this.end(slot, outcome === TCP_CLOSED_BY_FIN ? 'fin' : 'rst');
      return;
    }
    const built = this.slots.flows[slot];
    if (this.options.forgetLetGoFlows && built !== null && !built.inspect && built.app === undefined) {
      // The handler let the flow go: forget its Flow and buffers, keep counting in the slot.
      this.tcp.discardBuffers(slot);
      this.slots.letGo(slot);
    }
  }

  /** The idle sweep at capture time `tsMicros` (with externalSweeps: where the caller says). */
  sweep(tsMicros: number): void {
    this.slots.clockSecond = Math.floor(tsMicros * 1e-6);
    this.expire(tsMicros);
  }

  /** Ends flows idle past their timeout and forgets tombstones past their linger time. */
  expire(nowMicros: number): void {
    this.sweepClock.lastSweepMicros = nowMicros;
    for (let list = 0; list < this.timeouts.length; list++) {
      const timeout = this.timeouts[list]!;
      for (;;) {
        const slot = this.slots.oldest(list);
        if (slot < 0) break;
        const idle = nowMicros - this.slots.lastSeen[slot]!;
        if (idle < -SWEEP_INTERVAL_MICROS) {
          // Seen "in the future" (a corrupt timestamp): it would block the list's head and
          // keep every flow behind it from expiring. Pretend it was seen now.
          this.slots.lastSeen[slot] = nowMicros;
          this.slots.touchAt(slot, list, nowMicros);
          continue;
        }
        if (idle <= timeout) break;
        if (list === LIST_CLOSED) {
          this.slots.release(slot);
        } else {
          this.stats.idleExpired++;
          this.end(slot, 'idle');
        }
      }
    }
  }

  /** Ends every flow without delivering anything more (end of input). A flow nobody is told
   *  of and that holds no buffers is only counted: the table is then cleared at once, instead
   *  of unlinking tens of thousands of slots from their hash chains one by one. */
  flush(): void {
    for (const list of [LIST_TCP_QUIET, LIST_UDP_QUIET, LIST_TCP_DATA, LIST_UDP_DATA]) {
      for (let slot = this.slots.oldest(list); slot >= 0; ) {
        const newer = this.slots.newer(slot);
        if (this.tells(slot) || this.slots.holdsBuffers(slot)) {
          this.end(slot, 'flush');
        } else {
          this.stats.ended++;
          this.stats.active--;
        }
        slot = newer;
      }
    }
    this.slots.clear();
  }

  private open(pkt: DecodedPacket, hash: number, sourceIsInitiator: boolean, tsMicros: number): number {
    if (this.slots.full) this.makeRoom();
    const list = pkt.protocol === IPPROTO_TCP ? LIST_TCP_QUIET : LIST_UDP_QUIET;
    const slot = this.slots.allocate(pkt, hash, sourceIsInitiator, tsMicros, list);
    this.stats.created++;
    this.stats.active++;
    if (this.stats.active > this.stats.peakActive) this.stats.peakActive = this.stats.active;
    return slot;
  }

  /** Frees one slot: a tombstone if any, else the least recently seen flow that never carried
   *  payload, else the least recently seen flow. */
  private makeRoom(): void {
    const tombstone = this.slots.oldest(LIST_CLOSED);
    if (tombstone >= 0) {
      this.slots.release(tombstone);
      return;
    }
    let victim = this.longerIdle(LIST_TCP_QUIET, LIST_UDP_QUIET);
    if (victim < 0) victim = this.longerIdle(LIST_TCP_DATA, LIST_UDP_DATA);
    this.stats.evicted++;
    this.end(victim, 'evicted');
  }

  private longerIdle(listA: number, listB: number): number {
    const a = this.slots.oldest(listA);
    const b = this.slots.oldest(listB);
    if (a < 0 || b < 0) return a < 0 ? b : a;
    return this.slots.lastSeen[a]! <= this.slots.lastSeen[b]! ? a : b;
  }

  /** Whether the handler hears of the slot's end (see reportUnseenFlows). */
  private tells(slot: number): boolean {
    if (this.handler.onFlowEnd === undefined) return false;
    if (this.slots.flows[slot] !== null) return true;
    const unseen = this.options.reportUnseenFlows;
    return (unseen === true || (unseen === 'tcp' && this.slots.protocol(slot) === IPPROTO_TCP)) && this.handler.wantsUnseenFlowEnd?.() !== false;
  }

  /** Ends a live flow. Closed connections stay behind as tombstones (key and timestamps
   *  only) until they linger out. */
  private end(slot: number, reason: FlowEndReason): void {
    const flow = this.tells(slot) ? this.slots.flowAt(slot) : null;
    this.tcp.discardBuffers(slot);
    this.stats.ended++;
    this.stats.active--;
    if (reason === 'fin' || reason === 'rst') {
      this.slots.touchAt(slot, LIST_CLOSED, this.slots.lastSeen[slot]!);
      this.slots.flows[slot] = null;
    } else {
      this.slots.release(slot);
    }
    if (flow) this.handler.onFlowEnd!(flow, reason);
  }
}

/** A SYN without ACK: a client opening a connection. */
function isOpeningSyn(pkt: DecodedPacket): boolean {
  return (pkt.tcpFlags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
}
