/**
 * Scripted TCP conversations: a list of turns (who sends which bytes) becomes a timestamped
 * packet list with consistent sequence/acknowledgement numbers, optional handshake and
 * close, and seeded impairments (awkward segmentation, retransmissions, reordering,
 * captures that start mid-stream) so reassembly code can be tested against known bytes.
 */
import { mssOption, tcpPacket, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type Endpoint } from './packets.js';
import { randomInt, randomUint32, seededRandom } from './rng.js';

export interface Turn {
  from: 'client' | 'server';
  data: string | Buffer;
  /** Microseconds between the previous packet and this turn's first segment (default 1000). */
  gapMicros?: number;
}

export interface SessionOptions {
  client: Endpoint;
  server: Endpoint;
  startMicros: number;
  turns: Turn[];
  seed?: number;
  /** Default true: SYN, SYN-ACK, ACK. */
  handshake?: boolean;
  /** Default 'fin'. */
  close?: 'fin' | 'rst' | 'none';
  /** Side that sends the first FIN or the RST (default client). */
  closeBy?: 'client' | 'server';
  /** Max segment payload, default 1400. */
  mss?: number;
  /** Extra cut points inside each turn's bytes (offsets from the turn's start). */
  splitAt?: number[];
  /** Random segment sizes 1..mss instead of full-size segments. */
  randomSegments?: boolean;
  /** Chance that a data segment is sent twice. */
  retransmitProbability?: number;
  /** Chance that a data segment swaps places with the next one from the same side. */
  reorderProbability?: number;
  /** Start mid-stream: drop the first N packets of the finished conversation. */
  dropFirstPackets?: number;
  isn?: { client: number; server: number };
  /** Round-trip time used to space replies (default 400 µs). */
  rttMicros?: number;
  /** Advertised window (default 65535). */
  window?: number;
}

export interface TimedPacket {
  tsMicros: number;
  ip: Buffer;
}

const CLIENT = 0;
const SERVER = 1;
type Side = typeof CLIENT | typeof SERVER;

/** One packet before IP bytes are built; kept abstract so impairments can move it. */
interface Planned {
  from: Side;
  seq: number;
  ack: number;
  flags: number;
  payload?: Buffer;
  options?: Buffer;
  /** Microseconds after the previous packet in the final order. */
  delay: number;
  isData: boolean;
  ipId?: number;
}

const DEFAULT_GAP_MICROS = 1000;
/** Spacing of back-to-back segments from one sender. */
const SEGMENT_SPACING_MICROS = 12;
/** A pure ACK goes out after every this many full segments, as delayed ACK would. */
const SEGMENTS_PER_ACK = 2;

/** Segment sizes for one turn: cut at splitAt points, then at mss (or random sizes). */
function segmentSizes(length: number, o: SessionOptions, rand: () => number): number[] {
  const mss = o.mss ?? 1400;
  if (mss < 1) throw new Error(`mss must be at least 1, got ${mss}`);
  const cuts = [...new Set([0, length, ...(o.splitAt ?? []).filter((c) => c > 0 && c < length)])].sort((a, b) => a - b);
  const sizes: number[] = [];
  for (let i = 1; i < cuts.length; i++) {
    let remaining = cuts[i]! - cuts[i - 1]!;
    while (remaining > 0) {
      const size = Math.min(remaining, o.randomSegments ? randomInt(rand, 1, mss) : mss);
      sizes.push(size);
      remaining -= size;
    }
  }
  return sizes;
}

/**
 * Builds the conversation's packets in capture order. Sequence numbers are modulo 2^32,
 * every ACK acknowledges exactly what the peer has delivered in order so far, and the same
 * options (seed defaults to 1) always give the same bytes and timestamps.
 */
export function tcpSession(o: SessionOptions): TimedPacket[] {
  const rand = seededRandom(o.seed ?? 1);
  const rtt = o.rttMicros ?? 400;
  const mss = o.mss ?? 1400;
  const isn: [number, number] = o.isn ? [o.isn.client >>> 0, o.isn.server >>> 0] : [randomUint32(rand), randomUint32(rand)];
  // Next sequence number each side will send; starts past the SYN's phantom byte.
  const next: [number, number] = [(isn[0] + 1) >>> 0, (isn[1] + 1) >>> 0];
  const plan: Planned[] = [];
  const other = (side: Side): Side => (side === CLIENT ? SERVER : CLIENT);
  const pureAck = (from: Side, delay: number) =>
    plan.push({ from, seq: next[from], ack: next[other(from)], flags: TCP_ACK, delay, isData: false });

  if (o.handshake ?? true) {
    plan.push({ from: CLIENT, seq: isn[0], ack: 0, flags: TCP_SYN, options: mssOption(Math.min(mss, 0xffff)), delay: 0, isData: false });
    plan.push({ from: SERVER, seq: isn[1], ack: next[0], flags: TCP_SYN | TCP_ACK, options: mssOption(Math.min(mss, 0xffff)), delay: rtt, isData: false });
    pureAck(CLIENT, SEGMENT_SPACING_MICROS);
  }

  for (const turn of o.turns) {
    const from: Side = turn.from === 'client' ? CLIENT : SERVER;
    const data = typeof turn.data === 'string' ? Buffer.from(turn.data, 'utf8') : turn.data;
    if (data.length === 0) continue;
    const sizes = segmentSizes(data.length, o, rand);
    let offset = 0;
    let unacked = 0;
    sizes.forEach((size, i) => {
      const last = i === sizes.length - 1;
      plan.push({
        from,
        seq: next[from],
        ack: next[other(from)],
        flags: last ? TCP_ACK | TCP_PSH : TCP_ACK,
        payload: data.subarray(offset, offset + size),
        delay: i === 0 ? (plan.length === 0 ? 0 : (turn.gapMicros ?? DEFAULT_GAP_MICROS)) : SEGMENT_SPACING_MICROS,
        isData: true,
      });
      offset += size;
      next[from] = (next[from] + size) >>> 0;
      unacked++;
      if (unacked === SEGMENTS_PER_ACK || last) {
        pureAck(other(from), rtt / 2);
        unacked = 0;
      }
    });
  }

  const closeMode = o.close ?? 'fin';
  if (closeMode !== 'none') {
    const closer: Side = o.closeBy === 'server' ? SERVER : CLIENT;
    const peer = other(closer);
    if (closeMode === 'rst') {
      plan.push({ from: closer, seq: next[closer], ack: next[peer], flags: TCP_RST | TCP_ACK, delay: DEFAULT_GAP_MICROS, isData: false });
    } else {
      plan.push({ from: closer, seq: next[closer], ack: next[peer], flags: TCP_FIN | TCP_ACK, delay: DEFAULT_GAP_MICROS, isData: false });
      next[closer] = (next[closer] + 1) >>> 0;
      plan.push({ from: peer, seq: next[peer], ack: next[closer], flags: TCP_FIN | TCP_ACK, delay: rtt / 2, isData: false });
      next[peer] = (next[peer] + 1) >>> 0;
      pureAck(closer, rtt / 2);
    }
  }

  const withRetransmits = addRetransmits(plan, o.retransmitProbability ?? 0, rtt, rand);
  assignIpIds(withRetransmits, rand);
  reorder(withRetransmits, o.reorderProbability ?? 0, rand);

  const endpoints: [Endpoint, Endpoint] = [o.client, o.server];
  const ttl: [number, number] = [64, 57];
  let ts = o.startMicros;
  const out: TimedPacket[] = withRetransmits.map((p) => {
    ts += Math.round(p.delay);
    const ip = tcpPacket(endpoints[p.from], endpoints[other(p.from)], {
      seq: p.seq,
      ack: p.ack,
      flags: p.flags,
      payload: p.payload,
      options: p.options,
      window: o.window ?? 65535,
      ttl: ttl[p.from],
      ipId: p.ipId,
    });
    return { tsMicros: ts, ip };
  });
  return out.slice(o.dropFirstPackets ?? 0);
}

/** Sends some data segments a second time, one RTT later (a retransmission timeout). */
function addRetransmits(plan: Planned[], probability: number, rtt: number, rand: () => number): Planned[] {
  if (probability <= 0) return plan;
  const out: Planned[] = [];
  for (const p of plan) {
    out.push(p);
    if (p.isData && rand() < probability) out.push({ ...p, delay: rtt });
  }
  return out;
}

/** IP IDs count up per sender in send order, so reordering shows as it would on a wire. */
function assignIpIds(plan: Planned[], rand: () => number): void {
  const ids = [randomInt(rand, 0, 0xffff), randomInt(rand, 0, 0xffff)];
  for (const p of plan) {
    p.ipId = ids[p.from]!;
    ids[p.from] = (ids[p.from]! + 1) & 0xffff;
  }
}

/**
 * Swaps adjacent data segments of the same sender. Only the packets move; each slot keeps
 * its delay so timestamps stay monotonic. A swapped pair is not touched again.
 */
function reorder(plan: Planned[], probability: number, rand: () => number): void {
  if (probability <= 0) return;
  for (let i = 0; i + 1 < plan.length; i++) {
    const a = plan[i]!;
    const b = plan[i + 1]!;
    if (!a.isData || !b.isData || a.from !== b.from || rand() >= probability) continue;
    [a.delay, b.delay] = [b.delay, a.delay];
    plan[i] = b;
    plan[i + 1] = a;
    i++;
  }
}

/**
 * Merges packet lists into one time-ordered list. Stable: packets with equal timestamps keep
 * their order within a list, and earlier lists win ties.
 */
export function mergeByTime(...lists: TimedPacket[][]): TimedPacket[] {
  return lists.flat().sort((a, b) => a.tsMicros - b.tsMicros);
}
