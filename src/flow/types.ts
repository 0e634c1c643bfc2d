/**
 * Contract between the flow stage and its consumer (detection).
 *
 * A Flow is created once per bidirectional 5-tuple (that is where its address strings are
 * built, never per packet). With the table's forgetLetGoFlows option, a flow the consumer
 * has let go of (inspect off and app undefined) keeps only its counts in the table, and a
 * callback that needs it again (its end) gets a new Flow with the same id and counts. Side 0 is the initiator: the SYN sender when the handshake was
 * seen, otherwise the sender of the first packet seen. Detection decides which side is the
 * miner from the messages, not from this.
 */
export type Direction = 0 | 1;

export const DATAGRAM_DELIVER = 0;
export const DATAGRAM_SKIP = 1;
export const DATAGRAM_LET_GO = 2;

export type FlowEndReason = 'fin' | 'rst' | 'idle' | 'evicted' | 'flush';

export class Flow {
  /** Application state owned by the consumer (detection). */
  app: unknown = undefined;
  /** Consumer sets false when it needs no more payload: the table then stops buffering
   *  and delivering data for the flow but keeps counting packets and bytes. */
  inspect = true;
  readonly packets: [number, number] = [0, 0];
  /** Transport payload bytes per direction. */
  readonly bytes: [number, number] = [0, 0];
  /** SYN from side 0 was seen (so the initiator is known, not guessed). */
  sawSyn = false;
  /** Declared with a number so the field holds doubles in place: a field that starts out
   *  undefined boxes every timestamp written to it (one heap number per packet). */
  lastSeenMicros = 0;

  constructor(
    readonly id: number,
    readonly ipVersion: 4 | 6,
    readonly protocol: number,
    /** addr[0]/port[0]: side 0 (initiator); addr[1]/port[1]: side 1 (responder). */
    readonly addr: readonly [string, string],
    readonly port: readonly [number, number],
    readonly firstSeenMicros: number,
  ) {
    this.lastSeenMicros = firstSeenMicros;
  }
}

export interface StreamHandler {
  /** In-order TCP payload bytes of one direction, after reassembly. */
  onData(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void;
  /** Bytes of one direction that were lost (never captured) and skipped over. */
  onGap?(flow: Flow, dir: Direction, lostBytes: number): void;
  /** One UDP datagram payload. */
  onDatagram?(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void;
  /**
   * A first look at a datagram before onDatagram, from ports and bytes alone, so that the
   * many UDP flows nobody needs cost no Flow object: DATAGRAM_DELIVER (go on to
   * onDatagram), DATAGRAM_SKIP (not this one) or DATAGRAM_LET_GO (nor any later one).
   * `screened` is the DNS screen's verdict when it was taken upstream (DecodedPacket
   * dnsScreen), else -1.
   */
  screenDatagram?(srcPort: number, dstPort: number, buf: Buffer, offset: number, length: number, screened: number): number;
  /** Called exactly once per flow when it leaves the table. */
  onFlowEnd?(flow: Flow, reason: FlowEndReason): void;
  /**
   * Whether onFlowEnd is wanted, right now, for a flow the handler never saw (with the
   * table's reportUnseenFlows): false spares building a Flow object for its end.
   */
  wantsUnseenFlowEnd?(): boolean;
}

export interface FlowStats {
  created: number;
  active: number;
  peakActive: number;
  ended: number;
  /** Flows pushed out because the table was full. */
  evicted: number;
  /** Flows ended by idle timeout (capture time). */
  idleExpired: number;
  /** Out-of-order bytes dropped because the per-flow or global buffer cap was hit. */
  bufferOverflowBytes: number;
  /** Bytes of payload skipped as gaps (never captured). */
  gapBytes: number;
  retransmittedBytes: number;
  /** Currently buffered out-of-order bytes across all flows. */
  bufferedBytes: number;
}
