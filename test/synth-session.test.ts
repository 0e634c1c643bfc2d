import { describe, expect, it } from 'vitest';
import { mergeByTime, tcpSession, type SessionOptions, type TimedPacket, type Turn } from '../src/synth/tcp-session.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

interface Segment {
  ts: number;
  src: string;
  srcPort: number;
  seq: number;
  ack: number;
  flags: number;
  payload: Buffer;
}

/** Minimal IPv4/IPv6 + TCP parser, independent of the builders under test. */
function parse(p: TimedPacket): Segment {
  const ip = p.ip;
  const v6 = ip[0]! >> 4 === 6;
  const l4 = v6 ? 40 : (ip[0]! & 15) * 4;
  const end = v6 ? 40 + ip.readUInt16BE(4) : ip.readUInt16BE(2);
  const src = v6 ? ip.subarray(8, 24).toString('hex') : [...ip.subarray(12, 16)].join('.');
  const tcp = ip.subarray(l4, end);
  return {
    ts: p.tsMicros,
    src,
    srcPort: tcp.readUInt16BE(0),
    seq: tcp.readUInt32BE(4),
    ack: tcp.readUInt32BE(8),
    flags: tcp[13]!,
    payload: tcp.subarray((tcp[12]! >> 4) * 4),
  };
}

const client = { ip: '192.0.2.20', port: 51000 };
const server = { ip: '198.51.100.30', port: 3333 };

const turns: Turn[] = [
  { from: 'client', data: '{"id":1,"method":"mining.subscribe","params":["cpuminer/2.5"]}\n' },
  { from: 'server', data: '{"id":1,"result":[[["mining.notify","ae6812eb4cd7735a"]],"08000002",4],"error":null}\n' },
  { from: 'client', data: '{"id":2,"method":"mining.authorize","params":["worker.1","x"]}\n' + 'x'.repeat(5000) },
  { from: 'server', data: Buffer.from(Array.from({ length: 7000 }, (_, i) => (i * 7) & 255)) },
  { from: 'client', data: '{"id":4,"method":"mining.submit","params":["worker.1","1","00","5f","0f"]}\n' },
];

const expectedBytes = (side: 'client' | 'server', ts: Turn[] = turns) =>
  Buffer.concat(ts.filter((t) => t.from === side).map((t) => (typeof t.data === 'string' ? Buffer.from(t.data) : t.data)));

/**
 * Walks the packets in capture order like an ideal receiver: tracks the contiguous prefix
 * each side has delivered (SYN and FIN count one each) and checks that every ACK number
 * acknowledges exactly what the peer has delivered so far. Returns each side's bytes.
 */
function checkConversation(segs: Segment[], isn: { client: number; server: number }, clientPort = client.port) {
  const sideOf = (s: Segment) => (s.srcPort === clientPort ? 0 : 1);
  const isns = [isn.client, isn.server];
  // Without a captured handshake both sides start just past their SYN.
  const delivered = segs[0]!.flags & SYN ? [0, 0] : [1, 1];
  const pending: Map<number, number>[] = [new Map(), new Map()];
  const data: Buffer[][] = [[], []];
  const dataAt: Map<number, Buffer>[] = [new Map(), new Map()];
  for (const s of segs) {
    const side = sideOf(s);
    const peer = 1 - side;
    const start = (s.seq - isns[side]!) >>> 0;
    const length = s.payload.length + (s.flags & SYN ? 1 : 0) + (s.flags & FIN ? 1 : 0);
    if (s.payload.length > 0) {
      const dataStart = start + (s.flags & SYN ? 1 : 0);
      const seen = dataAt[side]!.get(dataStart);
      if (seen) expect(seen.equals(s.payload)).toBe(true); // a retransmission resends the same bytes
      dataAt[side]!.set(dataStart, s.payload);
    }
    if (length > 0 && start > delivered[side]!) pending[side]!.set(start, start + length);
    else if (length > 0) delivered[side] = Math.max(delivered[side]!, start + length);
    for (let moved = true; moved; ) {
      moved = false;
      for (const [from, to] of pending[side]!) {
        if (from <= delivered[side]!) {
          delivered[side] = Math.max(delivered[side]!, to);
          pending[side]!.delete(from);
          moved = true;
        }
      }
    }
    if (s.flags & ACK) expect((s.ack - isns[peer]!) >>> 0).toBe(delivered[peer]);
  }
  for (const side of [0, 1]) {
    expect(pending[side]!.size).toBe(0);
    const offsets = [...dataAt[side]!.keys()].sort((a, b) => a - b);
    for (const off of offsets) data[side]!.push(dataAt[side]!.get(off)!);
  }
  return { fromClient: Buffer.concat(data[0]!), fromServer: Buffer.concat(data[1]!) };
}

const base: SessionOptions = { client, server, startMicros: 1_700_000_000_000_000, turns, isn: { client: 1000, server: 900000 } };

describe('tcpSession', () => {
  it('opens with a three-way handshake and closes with FIN/FIN/ACK', () => {
    const segs = tcpSession(base).map(parse);
    expect(segs[0]).toMatchObject({ flags: SYN, seq: 1000, src: client.ip });
    expect(segs[1]).toMatchObject({ flags: SYN | ACK, seq: 900000, ack: 1001, src: server.ip });
    expect(segs[2]).toMatchObject({ flags: ACK, seq: 1001, ack: 900001, src: client.ip });
    expect(segs[0]!.payload.length).toBe(0);
    const tail = segs.slice(-3);
    expect(tail.map((s) => s.flags)).toEqual([FIN | ACK, FIN | ACK, ACK]);
    expect(tail.map((s) => s.src)).toEqual([client.ip, server.ip, client.ip]);
    const { fromClient, fromServer } = checkConversation(segs, base.isn!);
    expect(fromClient.equals(expectedBytes('client'))).toBe(true);
    expect(fromServer.equals(expectedBytes('server'))).toBe(true);
  });

  it('cuts turns at mss and at splitAt points, with PSH on each turn end', () => {
    const segs = tcpSession({
      ...base,
      mss: 10,
      splitAt: [1, 5],
      turns: [
        { from: 'client', data: 'a'.repeat(25) },
        { from: 'server', data: 'b'.repeat(3) },
      ],
    }).map(parse);
    const sizes = (ip: string) => segs.filter((s) => s.src === ip && s.payload.length > 0).map((s) => s.payload.length);
    expect(sizes(client.ip)).toEqual([1, 4, 10, 10]);
    expect(sizes(server.ip)).toEqual([1, 2]);
    const clientData = segs.filter((s) => s.src === client.ip && s.payload.length > 0);
    expect(clientData.map((s) => (s.flags & PSH) !== 0)).toEqual([false, false, false, true]);
    checkConversation(segs, base.isn!);
  });

  it('acknowledges from the receiver during long turns', () => {
    const segs = tcpSession({ ...base, mss: 100 }).map(parse);
    const serverPureAcks = segs.filter((s) => s.src === server.ip && s.flags === ACK && s.payload.length === 0);
    // The 5 kB client turn is 51 segments: the server must ACK repeatedly, not once at the end.
    expect(serverPureAcks.length).toBeGreaterThan(20);
    checkConversation(segs, base.isn!);
  });

  it('keeps seq/ack continuity through random segments, retransmissions and reordering', () => {
    const opts: SessionOptions = { ...base, seed: 99, mss: 300, randomSegments: true, splitAt: [2, 3, 17], retransmitProbability: 0.2, reorderProbability: 0.3 };
    const segs = tcpSession(opts).map(parse);
    const { fromClient, fromServer } = checkConversation(segs, base.isn!);
    expect(fromClient.equals(expectedBytes('client'))).toBe(true);
    expect(fromServer.equals(expectedBytes('server'))).toBe(true);

    // The impairments really happened: duplicates, and segments behind an already-sent one.
    let duplicates = 0;
    let outOfOrder = 0;
    const highest = new Map<string, number>();
    const seen = new Set<string>();
    for (const s of segs.filter((x) => x.payload.length > 0)) {
      const key = `${s.src}/${s.seq}`;
      if (seen.has(key)) duplicates++;
      else if (s.seq < (highest.get(s.src) ?? 0)) outOfOrder++;
      seen.add(key);
      highest.set(s.src, Math.max(highest.get(s.src) ?? 0, s.seq));
    }
    expect(duplicates).toBeGreaterThan(0);
    expect(outOfOrder).toBeGreaterThan(0);
    const sizes = new Set(segs.map((s) => s.payload.length));
    expect(sizes.size).toBeGreaterThan(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(300);

    for (let i = 1; i < segs.length; i++) expect(segs[i]!.ts).toBeGreaterThanOrEqual(segs[i - 1]!.ts);
  });

  it('wraps sequence numbers past 2^32', () => {
    const isn = { client: 0xffffff00, server: 0xfffffff0 };
    const segs = tcpSession({ ...base, isn, mss: 200, reorderProbability: 0.2, retransmitProbability: 0.1, seed: 5 }).map(parse);
    expect(segs.some((s) => s.src === client.ip && s.seq < 0x1000)).toBe(true);
    expect(segs.some((s) => s.src === server.ip && s.seq < 0x1000)).toBe(true);
    expect(segs.some((s) => s.src === client.ip && s.seq > 0xffffff00 && s.payload.length > 0)).toBe(true);
    const { fromClient, fromServer } = checkConversation(segs, isn);
    expect(fromClient.equals(expectedBytes('client'))).toBe(true);
    expect(fromServer.equals(expectedBytes('server'))).toBe(true);
  });

  it('places turns by gapMicros and starts at startMicros', () => {
    const segs = tcpSession({
      ...base,
      turns: [
        { from: 'client', data: 'ping' },
        { from: 'server', data: 'pong', gapMicros: 5_000_000 },
      ],
    }).map(parse);
    expect(segs[0]!.ts).toBe(base.startMicros);
    const pong = segs.findIndex((s) => s.payload.toString() === 'pong');
    expect(segs[pong]!.ts - segs[pong - 1]!.ts).toBe(5_000_000);
  });

  it('supports no handshake, RST close by the server, and no close', () => {
    const noHandshake = tcpSession({ ...base, handshake: false, close: 'none' }).map(parse);
    expect(noHandshake[0]!.flags & SYN).toBe(0);
    expect(noHandshake[0]!.seq).toBe(1001);
    expect(noHandshake.some((s) => s.flags & (FIN | RST))).toBe(false);
    const data = checkConversation(noHandshake, base.isn!);
    expect(data.fromClient.equals(expectedBytes('client'))).toBe(true);

    const rst = tcpSession({ ...base, close: 'rst', closeBy: 'server' }).map(parse);
    const last = rst.at(-1)!;
    expect(last.flags).toBe(RST | ACK);
    expect(last.src).toBe(server.ip);
    expect(rst.filter((s) => s.flags & FIN)).toHaveLength(0);
    checkConversation(rst, base.isn!);
  });

  it('drops the first packets to start mid-stream', () => {
    const full = tcpSession(base);
    const cut = tcpSession({ ...base, dropFirstPackets: 5 });
    expect(cut).toHaveLength(full.length - 5);
    cut.forEach((p, i) => {
      expect(p.tsMicros).toBe(full[i + 5]!.tsMicros);
      expect(p.ip.equals(full[i + 5]!.ip)).toBe(true);
    });
    expect(cut.map(parse).some((s) => s.flags & SYN)).toBe(false);
  });

  it('is deterministic for a seed and picks ISNs from it', () => {
    const opts: SessionOptions = { client, server, startMicros: 0, turns, seed: 1234, randomSegments: true, retransmitProbability: 0.1, reorderProbability: 0.1 };
    const a = tcpSession(opts);
    const b = tcpSession(opts);
    expect(a.length).toBe(b.length);
    a.forEach((p, i) => expect(p.ip.equals(b[i]!.ip) && p.tsMicros === b[i]!.tsMicros).toBe(true));
    const c = tcpSession({ ...opts, seed: 1235 });
    expect(parse(c[0]!).seq).not.toBe(parse(a[0]!).seq);
  });

  it('works over IPv6', () => {
    const c6 = { ip: '2001:db8:1::10', port: 40000 };
    const s6 = { ip: '2001:db8:2::20', port: 14444 };
    const segs = tcpSession({ ...base, client: c6, server: s6, reorderProbability: 0.2, seed: 8 }).map(parse);
    expect(segs[0]!.src).toBe('20010db8000100000000000000000010');
    const { fromClient, fromServer } = checkConversation(segs, base.isn!, c6.port);
    expect(fromClient.equals(expectedBytes('client'))).toBe(true);
    expect(fromServer.equals(expectedBytes('server'))).toBe(true);
  });
});

describe('mergeByTime', () => {
  it('interleaves lists by timestamp, stable for ties', () => {
    const mk = (ts: number, tag: number): TimedPacket => ({ tsMicros: ts, ip: Buffer.from([tag]) });
    const merged = mergeByTime([mk(1, 1), mk(5, 2), mk(9, 3)], [mk(0, 4), mk(5, 5), mk(10, 6)], [mk(5, 7)]);
    expect(merged.map((p) => p.ip[0])).toEqual([4, 1, 2, 5, 7, 3, 6]);
  });

  it('merges whole sessions into a time-ordered capture', () => {
    const a = tcpSession({ ...base, startMicros: 1000 });
    const b = tcpSession({ ...base, client: { ip: '192.0.2.21', port: 51001 }, startMicros: 1500 });
    const merged = mergeByTime(a, b);
    expect(merged).toHaveLength(a.length + b.length);
    for (let i = 1; i < merged.length; i++) expect(merged[i]!.tsMicros).toBeGreaterThanOrEqual(merged[i - 1]!.tsMicros);
  });
});
