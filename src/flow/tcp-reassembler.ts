import { type DecodedPacket, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/types.js';
import { DIR_DATA_SEEN, DIR_FIN_SEEN, DIR_SEQ_KNOWN, type FlowSlots } from './flow-slots.js';
import { ReorderBuffer, SEGMENT_OVERHEAD_BYTES } from './reorder-buffer.js';
import { seqAdd, seqDiff } from './seq.js';
import type { Direction, Flow, FlowStats, StreamHandler } from './types.js';

/** What a segment did to the connection. */
export const TCP_OPEN = 0;
export const TCP_CLOSED_BY_FIN = 1;
export const TCP_CLOSED_BY_RST = 2;

/** Farther than this from the expected sequence number, a segment cannot belong to the
 *  stream we follow (no window is that large): the stream restarts there. */
const FAR_AWAY = 1 << 30;
/** Bounds the work of sorted insertion when a peer sends many tiny out-of-order pieces. */
const MAX_SEGMENTS_PER_DIRECTION = 2048;

export interface ReassemblyLimits {
  maxOutOfOrderBytesPerDirection: number;
  maxBufferedBytesTotal: number;
}

/**
 * Per-direction TCP stream reassembly over the table's slots. In-order payload goes to the
 * handler straight from the packet buffer; only out-of-order segments are copied.
 */
export class TcpReassembler {
  /** Cost (ReorderBuffer.cost) of everything buffered, checked against the global cap. */
  private heldCost = 0;

  constructor(
    private readonly slots: FlowSlots,
    private readonly handler: StreamHandler,
    private readonly stats: FlowStats,
    private readonly limits: ReassemblyLimits,
  ) {}

  /** Handles one segment from direction `dir` of the flow in `slot`. */
  segment(slot: number, dir: Direction, pkt: DecodedPacket): number {
    const flags = pkt.tcpFlags;
    const index = slot * 2 + dir;
    const peer = (1 - dir) as Direction;
    const built = this.slots.flows[slot];
    if (built && !built.inspect) this.discardBuffers(slot);

    // The peer acknowledging bytes we never saw means the capture lost them.
    if (flags & TCP_ACK && this.slots.reorderAt(slot * 2 + peer)) this.skipAckedHole(slot, peer, pkt.ack, pkt.tsMicros);

    if (flags & TCP_RST) {
      this.drainAcrossGaps(slot, pkt.tsMicros);
      return TCP_CLOSED_BY_RST;
    }

    let dataSeq = pkt.seq;
    if (flags & TCP_SYN) {
      dataSeq = seqAdd(dataSeq, 1);
      // A SYN fixes the stream start unless data already flowed (then it is a stale copy).
      if (!(this.slots.dirState[index]! & DIR_DATA_SEEN)) {
        this.slots.nextSeq[index] = dataSeq;
        this.slots.dirState[index]! |= DIR_SEQ_KNOWN;
      }
    }
    if ((pkt.payloadLength > 0 || pkt.payloadMissing > 0) && !this.slots.isLetGo(slot)) {
      const flow = this.slots.flowAt(slot);
      if (!flow.inspect) {
        // counted by the table; nothing to deliver
      } else if (pkt.payloadMissing > 0) {
        this.acceptCut(flow, slot, dir, dataSeq, pkt.buf, pkt.payloadOffset, pkt.payloadLength, pkt.payloadMissing, pkt.tsMicros);
      } else {
        this.acceptData(flow, slot, dir, dataSeq, pkt.buf, pkt.payloadOffset, pkt.payloadLength, pkt.tsMicros);
      }
    }

    if (flags & TCP_FIN) {
      this.slots.dirState[index]! |= DIR_FIN_SEEN;
      if (this.slots.dirState[slot * 2 + peer]! & DIR_FIN_SEEN) {
        this.drainAcrossGaps(slot, pkt.tsMicros);
        return TCP_CLOSED_BY_FIN;
      }
    }
    return TCP_OPEN;
  }

  /** Marks data seen in a direction (a mid-stream pickup starts the stream at `seq`);
   *  returns the direction's index. */
  private dataSeen(slot: number, dir: Direction, seq: number): number {
    const index = slot * 2 + dir;
    const state = this.slots.dirState[index]!;
    if (!(state & DIR_SEQ_KNOWN)) this.slots.nextSeq[index] = seq;
    this.slots.dirState[index] = state | DIR_SEQ_KNOWN | DIR_DATA_SEEN;
    return index;
  }

  /** Frees the out-of-order data of both directions. */
  discardBuffers(slot: number): void {
    this.dropBuffer(slot * 2);
    this.dropBuffer(slot * 2 + 1);
  }

  private acceptData(
    flow: Flow,
    slot: number,
    dir: Direction,
    seq: number,
    buf: Buffer,
    offset: number,
    length: number,
    tsMicros: number,
  ): void {
    const index = this.dataSeen(slot, dir, seq);

    for (;;) {
      const expected = this.slots.nextSeq[index]!;
      let distance = seqDiff(seq, expected);
      if (distance > FAR_AWAY || distance < -FAR_AWAY) {
        // Not the stream we were following (e.g. a restart we did not see): drop what was
        // buffered and follow the new position; onGap marks the discontinuity.
        this.dropBuffer(index);
        this.handler.onGap?.(flow, dir, 0);
        this.slots.nextSeq[index] = seq;
        distance = 0;
      }
      if (distance < 0) {
        const duplicate = Math.min(-distance, length);
        this.stats.retransmittedBytes += duplicate;
        if (duplicate === length) return;
        offset += duplicate;
        length -= duplicate;
        distance = 0;
      }
      if (distance === 0) {
        this.deliver(flow, slot, dir, buf, offset, length, tsMicros);
        this.deliverBuffered(flow, slot, dir, tsMicros);
        return;
      }
      if (this.tryBuffer(index, seq, buf, offset, length)) return;
      // Over a buffer cap: give up on the first hole and try again from past it.
      const buffer = this.slots.reorderAt(index);
      const target = buffer && seqDiff(buffer.firstSeq(), seq) < 0 ? buffer.firstSeq() : seq;
      const lost = seqDiff(target, expected);
      this.stats.bufferOverflowBytes += lost;
      this.skip(flow, slot, dir, lost, tsMicros);
      if (!flow.inspect) return;
    }
  }

  /**
   * A segment whose tail the snap length cut off: its captured head is delivered when it is
   * next in the stream, and the missing tail becomes a gap. Such a segment is never
   * buffered out of order (it could not fill a hole completely); the hole in front of it
   * closes by ACK or the caps like any other.
   */
  private acceptCut(
    flow: Flow,
    slot: number,
    dir: Direction,
    seq: number,
    buf: Buffer,
    offset: number,
    length: number,
    missing: number,
    tsMicros: number,
  ): void {
    const index = this.dataSeen(slot, dir, seq);
    const distance = seqDiff(seq, this.slots.nextSeq[index]!);
    const endDistance = distance + length + missing;
    if (distance > 0 || endDistance <= 0 || distance < -FAR_AWAY) {
      if (endDistance <= 0) this.stats.retransmittedBytes += length + missing;
      return;
    }
    const old = -distance;
    const fresh = Math.max(0, length - old);
    this.stats.retransmittedBytes += Math.min(old, length + missing);
    if (fresh > 0) this.deliver(flow, slot, dir, buf, offset + old, fresh, tsMicros);
    if (flow.inspect) this.skip(flow, slot, dir, endDistance - fresh, tsMicros);
  }

  /** Copies an out-of-order segment if the caps allow; false when they do not. The check
   *  assumes the worst case (all bytes new, one more segment). */
  private tryBuffer(index: number, seq: number, buf: Buffer, offset: number, length: number): boolean {
    let buffer = this.slots.reorderAt(index);
    const added = length + SEGMENT_OVERHEAD_BYTES;
    if (
      (buffer ? buffer.cost : 0) + added > this.limits.maxOutOfOrderBytesPerDirection ||
      this.heldCost + added > this.limits.maxBufferedBytesTotal ||
      (buffer && buffer.segmentCount >= MAX_SEGMENTS_PER_DIRECTION)
    ) {
      return false;
    }
    if (!buffer) {
      buffer = new ReorderBuffer();
      this.slots.setReorder(index, buffer);
    }
    const costBefore = buffer.cost;
    const stored = buffer.insert(this.slots.nextSeq[index]!, seq, buf, offset, length);
    this.heldCost += buffer.cost - costBefore;
    this.stats.bufferedBytes += stored;
    this.stats.retransmittedBytes += length - stored;
    return true;
  }

  /** Hands in-order bytes to the handler and advances the expected sequence number. */
  private deliver(flow: Flow, slot: number, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void {
    const index = slot * 2 + dir;
    this.slots.nextSeq[index] = seqAdd(this.slots.nextSeq[index]!, length);
    this.handler.onData(flow, dir, buf, offset, length, tsMicros);
    if (!flow.inspect) this.discardBuffers(slot);
  }

  /** Delivers buffered segments that have become contiguous with the stream. */
  private deliverBuffered(flow: Flow, slot: number, dir: Direction, tsMicros: number): void {
    const index = slot * 2 + dir;
    for (;;) {
      const buffer = this.slots.reorderAt(index);
      if (!buffer) return;
      if (buffer.segmentCount === 0) {
        this.slots.setReorder(index, null);
        return;
      }
      const behind = -seqDiff(buffer.firstSeq(), this.slots.nextSeq[index]!);
      if (behind < 0) return; // still a hole in front
      const chunk = buffer.shift();
      this.stats.bufferedBytes -= chunk.length;
      this.heldCost -= chunk.length + SEGMENT_OVERHEAD_BYTES;
      if (behind >= chunk.length) {
        this.stats.retransmittedBytes += chunk.length;
        continue;
      }
      this.stats.retransmittedBytes += behind;
      this.deliver(flow, slot, dir, chunk, behind, chunk.length - behind, tsMicros);
    }
  }

  /** Declares `lost` bytes in front of the expected sequence number missing and moves on. */
  private skip(flow: Flow, slot: number, dir: Direction, lost: number, tsMicros: number): void {
    const index = slot * 2 + dir;
    this.slots.nextSeq[index] = seqAdd(this.slots.nextSeq[index]!, lost);
    this.stats.gapBytes += lost;
    this.handler.onGap?.(flow, dir, lost);
    if (flow.inspect) this.deliverBuffered(flow, slot, dir, tsMicros);
  }

  /** The peer acknowledged `ack` while we wait for a hole before buffered data. The
   *  acknowledged part of the hole was received by the peer but not captured. */
  private skipAckedHole(slot: number, dir: Direction, ack: number, tsMicros: number): void {
    const index = slot * 2 + dir;
    const flow = this.slots.flowAt(slot);
    for (;;) {
      const buffer = this.slots.reorderAt(index);
      if (!buffer || !flow.inspect) return;
      const expected = this.slots.nextSeq[index]!;
      const acked = seqDiff(ack, expected);
      if (acked <= 0 || acked > FAR_AWAY) return;
      const hole = seqDiff(buffer.firstSeq(), expected);
      // An ACK inside the hole only proves its front lost; the rest may still be captured.
      this.skip(flow, slot, dir, Math.min(acked, hole), tsMicros);
      if (acked < hole) return;
    }
  }

  /** At close, buffered data waits for holes that will never fill: skip them. */
  private drainAcrossGaps(slot: number, tsMicros: number): void {
    for (let index = slot * 2; index <= slot * 2 + 1; index++) {
      const dir = (index - slot * 2) as Direction;
      for (let buffer = this.slots.reorderAt(index); buffer; buffer = this.slots.reorderAt(index)) {
        const flow = this.slots.flowAt(slot);
        if (!flow.inspect) break;
        this.skip(flow, slot, dir, seqDiff(buffer.firstSeq(), this.slots.nextSeq[index]!), tsMicros);
      }
    }
  }

  private dropBuffer(index: number): void {
    const buffer = this.slots.reorderAt(index);
    if (!buffer) return;
    this.stats.bufferedBytes -= buffer.bytes;
    this.heldCost -= buffer.cost;
    this.slots.setReorder(index, null);
  }
}
