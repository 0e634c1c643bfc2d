/**
 * Test helpers for the flow stage: DecodedPacket builders, a TCP conversation that tracks
 * sequence numbers, and a StreamHandler that records what it receives.
 */
import {
  DecodedPacket,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
} from '../../src/decode/types.js';
import type { Direction, Flow, FlowEndReason, StreamHandler } from '../../src/flow/types.js';

export interface Endpoint {
  ip: string;
  port: number;
}

/** Parses test addresses into DecodedPacket words (IPv4 dotted quad, IPv6 with '::'). */
export function parseIp(text: string): { version: 4 | 6; words: number[] } {
  if (!text.includes(':')) {
    const octets = text.split('.').map(Number);
    return { version: 4, words: [((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0, 0, 0, 0] };
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const groups = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const words = [0, 1, 2, 3].map((i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0);
  return { version: 6, words };
}

/** Bytes placed in front of the payload, so tests can tell a zero-copy window from a copy. */
export const HEADER_BYTES = 54;

function basePacket(protocol: number, from: Endpoint, to: Endpoint, payload: Buffer | string): DecodedPacket {
  const pkt = new DecodedPacket();
  const src = parseIp(from.ip);
  const dst = parseIp(to.ip);
  if (src.version !== dst.version) throw new Error('mixed address families');
  pkt.ipVersion = src.version;
  pkt.src.set(src.words);
  pkt.dst.set(dst.words);
  pkt.protocol = protocol;
  pkt.srcPort = from.port;
  pkt.dstPort = to.port;
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  pkt.buf = Buffer.alloc(HEADER_BYTES + body.length, 0xee);
  body.copy(pkt.buf, HEADER_BYTES);
  pkt.payloadOffset = HEADER_BYTES;
  pkt.payloadLength = body.length;
  return pkt;
}

export function tcpPacket(
  from: Endpoint,
  to: Endpoint,
  flags: number,
  seq: number,
  ack: number,
  payload: Buffer | string = '',
): DecodedPacket {
  const pkt = basePacket(IPPROTO_TCP, from, to, payload);
  pkt.tcpFlags = flags;
  pkt.seq = seq >>> 0;
  pkt.ack = ack >>> 0;
  return pkt;
}

export function udpPacket(from: Endpoint, to: Endpoint, payload: Buffer | string = ''): DecodedPacket {
  return basePacket(IPPROTO_UDP, from, to, payload);
}

/**
 * One TCP connection between side 0 (client) and side 1 (server). Sequence numbers are
 * given as stream offsets: offset 0 is the first payload byte after the SYN.
 */
export class TcpConversation {
  constructor(
    readonly client: Endpoint,
    readonly server: Endpoint,
    readonly isn: readonly [number, number] = [1000, 5000],
  ) {}

  private ends(dir: Direction): [Endpoint, Endpoint] {
    return dir === 0 ? [this.client, this.server] : [this.server, this.client];
  }

  /** Sequence number of stream offset `offset` in direction `dir`. */
  seqAt(dir: Direction, offset: number): number {
    return (this.isn[dir] + 1 + offset) >>> 0;
  }

  syn(payload: Buffer | string = ''): DecodedPacket {
    return tcpPacket(this.client, this.server, TCP_SYN, this.isn[0], 0, payload);
  }

  synAck(): DecodedPacket {
    return tcpPacket(this.server, this.client, TCP_SYN | TCP_ACK, this.isn[1], this.seqAt(0, 0));
  }

  /** Pure ACK from `dir` acknowledging the peer's stream up to `peerOffset`. */
  ack(dir: Direction, peerOffset: number): DecodedPacket {
    const [from, to] = this.ends(dir);
    return tcpPacket(from, to, TCP_ACK, this.seqAt(dir, 0), this.seqAt((1 - dir) as Direction, peerOffset));
  }

  /** Payload at stream offset `offset` of direction `dir` (ACK flag set, acknowledging nothing new). */
  data(dir: Direction, offset: number, payload: Buffer | string, extraFlags = 0): DecodedPacket {
    const [from, to] = this.ends(dir);
    return tcpPacket(from, to, TCP_ACK | TCP_PSH | extraFlags, this.seqAt(dir, offset), this.seqAt((1 - dir) as Direction, 0), payload);
  }

  fin(dir: Direction, offset: number): DecodedPacket {
    return this.data(dir, offset, '', TCP_FIN);
  }

  rst(dir: Direction, offset: number): DecodedPacket {
    const [from, to] = this.ends(dir);
    return tcpPacket(from, to, TCP_RST, this.seqAt(dir, offset), 0);
  }
}

export interface DataCall {
  flow: Flow;
  dir: Direction;
  buf: Buffer;
  offset: number;
  length: number;
  tsMicros: number;
}

/** Records every callback; payload is copied so streams can be compared afterwards. */
export class RecordingHandler implements StreamHandler {
  readonly dataCalls: DataCall[] = [];
  readonly gaps: { flow: Flow; dir: Direction; lost: number }[] = [];
  readonly datagrams: { flow: Flow; dir: Direction; payload: Buffer; tsMicros: number }[] = [];
  readonly ends: { flow: Flow; reason: FlowEndReason }[] = [];
  private readonly streams = new Map<Flow, [Buffer[], Buffer[]]>();
  /** Called after recording each onData (e.g. to set flow.inspect = false). */
  afterData?: (flow: Flow, dir: Direction) => void;

  onData(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void {
    this.dataCalls.push({ flow, dir, buf, offset, length, tsMicros });
    let streams = this.streams.get(flow);
    if (!streams) {
      streams = [[], []];
      this.streams.set(flow, streams);
    }
    streams[dir].push(Buffer.from(buf.subarray(offset, offset + length)));
    this.afterData?.(flow, dir);
  }

  onGap(flow: Flow, dir: Direction, lost: number): void {
    this.gaps.push({ flow, dir, lost });
  }

  onDatagram(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void {
    this.datagrams.push({ flow, dir, payload: Buffer.from(buf.subarray(offset, offset + length)), tsMicros });
  }

  onFlowEnd(flow: Flow, reason: FlowEndReason): void {
    this.ends.push({ flow, reason });
  }

  /** Every byte delivered for one direction of a flow, in order. */
  stream(flow: Flow, dir: Direction): Buffer {
    return Buffer.concat(this.streams.get(flow)?.[dir] ?? []);
  }

  text(flow: Flow, dir: Direction): string {
    return this.stream(flow, dir).toString('latin1');
  }

  /** Flows that received data, in order of first delivery. */
  flows(): Flow[] {
    return [...this.streams.keys()];
  }

  /** The only flow that received data (fails otherwise). */
  onlyFlow(): Flow {
    const flows = this.flows();
    if (flows.length !== 1) throw new Error(`expected one flow with data, got ${flows.length}`);
    return flows[0]!;
  }

  endReason(flow: Flow): FlowEndReason | undefined {
    return this.ends.find((e) => e.flow === flow)?.reason;
  }
}

export const CLIENT: Endpoint = { ip: '192.0.2.10', port: 49152 };
export const POOL: Endpoint = { ip: '198.51.100.7', port: 3333 };
