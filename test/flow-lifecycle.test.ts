import { describe, expect, it } from 'vitest';
import type { DecodedPacket } from '../src/decode/types.js';
import { FlowTable } from '../src/flow/flow-table.js';
import { DATAGRAM_LET_GO } from '../src/flow/types.js';
import { CLIENT, POOL, RecordingHandler, TcpConversation, udpPacket } from './support/flow-packets.js';

const T0 = 1_700_000_000_000_000;
const SECOND = 1_000_000;

function handshake(conv: TcpConversation): DecodedPacket[] {
  return [conv.syn(), conv.synAck(), conv.ack(0, 0)];
}

/** Lets every datagram go before delivery, as detection does with DNS. */
class DnsLikeScreening extends RecordingHandler {
  screenDatagram(): number {
    return DATAGRAM_LET_GO;
  }
}

function client(n: number) {
  return { ip: '192.0.2.20', port: 40000 + n };
}

describe('connection close', () => {
  it('ends a flow when both sides sent FIN and swallows late packets in the tombstone', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const conv = new TcpConversation(CLIENT, POOL);
    let ts = T0;
    for (const pkt of [...handshake(conv), conv.data(0, 0, 'bye'), conv.fin(0, 3)]) table.process(pkt, (ts += 10));
    expect(handler.ends).toHaveLength(0); // half-closed: the server may still talk
    table.process(conv.data(1, 0, 'ok'), (ts += 10));
    table.process(conv.fin(1, 2), (ts += 10));

    const flow = handler.onlyFlow();
    expect(handler.ends).toEqual([{ flow, reason: 'fin' }]);
    expect(handler.text(flow, 1)).toBe('ok');
    expect(table.size).toBe(0);
    expect(table.stats.ended).toBe(1);

    // final ACK and a retransmitted FIN + data: swallowed, no new flow, flow untouched
    table.process(conv.ack(0, 3), (ts += 10));
    table.process(conv.data(0, 0, 'bye', 0x01), (ts += 10));
    expect(table.stats.created).toBe(1);
    expect(table.size).toBe(0);
    expect(flow.packets).toEqual([4, 3]);
    expect(handler.dataCalls).toHaveLength(2);

    // once the linger time is over, the tuple is forgotten: a late packet starts a new flow
    table.expire(ts + 5 * SECOND + 1);
    table.process(conv.data(0, 3, 'late'), ts + 6 * SECOND);
    expect(table.stats.created).toBe(2);
    expect(table.size).toBe(1);
  });

  it('ends a flow on RST, delivering buffered data across the hole first', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const conv = new TcpConversation(CLIENT, POOL);
    let ts = T0;
    for (const pkt of [...handshake(conv), conv.data(0, 0, 'ab'), conv.data(0, 5, 'fg')]) table.process(pkt, (ts += 10));
    expect(table.stats.bufferedBytes).toBe(2);
    table.process(conv.rst(1, 0), (ts += 10));
    const flow = handler.onlyFlow();
    expect(handler.ends).toEqual([{ flow, reason: 'rst' }]);
    expect(handler.gaps).toEqual([{ flow, dir: 0, lost: 3 }]);
    expect(handler.text(flow, 0)).toBe('abfg');
    expect(table.stats.bufferedBytes).toBe(0);
    table.process(conv.rst(0, 7), (ts += 10)); // the other side's reset hits the tombstone
    expect(handler.ends).toHaveLength(1);
    expect(table.stats.created).toBe(1);
  });

  it('starts a new flow when a SYN reuses the tuple of a closed connection', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const first = new TcpConversation(CLIENT, POOL, [1000, 5000]);
    const second = new TcpConversation(CLIENT, POOL, [777777, 888888]);
    let ts = T0;
    const feed = (...pkts: DecodedPacket[]) => pkts.forEach((p) => table.process(p, (ts += 10)));
    feed(...handshake(first), first.data(0, 0, 'one'), first.fin(0, 3), first.fin(1, 0));
    feed(...handshake(second), second.data(0, 0, 'two'));
    const [flowOne, flowTwo] = handler.flows();
    expect(flowTwo).not.toBe(flowOne);
    expect(flowTwo!.id).not.toBe(flowOne!.id);
    expect(handler.text(flowOne!, 0)).toBe('one');
    expect(handler.text(flowTwo!, 0)).toBe('two');
    expect(flowTwo!.sawSyn).toBe(true);
    expect(table.size).toBe(1);
    expect(table.stats.created).toBe(2);

    // The reopened flow is found by its hash too, not only as the previous packet's flow.
    const other = new TcpConversation(client(9), POOL);
    feed(other.syn(), second.data(1, 0, 'back'), other.synAck(), second.data(0, 3, '!'));
    expect(handler.text(flowTwo!, 0)).toBe('two!');
    expect(handler.text(flowTwo!, 1)).toBe('back');
    expect(table.stats.created).toBe(3);
  });
});

describe('flows that never carried payload', () => {
  it('report everything seen before in the Flow handed to onFlowEnd', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler, { tcpIdleMicros: 30 * SECOND });
    const conv = new TcpConversation({ ip: '2001:db8::7', port: 45000 }, { ip: '2001:db8::8', port: 3333 });
    table.process(conv.syn(), T0);
    table.process(conv.synAck(), T0 + 100);
    table.process(conv.ack(0, 0), T0 + 200);
    table.process(conv.ack(0, 0), T0 + 5 * SECOND);
    table.expire(T0 + 40 * SECOND);
    expect(handler.ends).toHaveLength(1);
    const { flow, reason } = handler.ends[0]!;
    expect(reason).toBe('idle');
    expect(flow.id).toBe(1);
    expect(flow.addr).toEqual(['2001:db8::7', '2001:db8::8']);
    expect(flow.port).toEqual([45000, 3333]);
    expect(flow.protocol).toBe(6);
    expect(flow.packets).toEqual([3, 1]);
    expect(flow.bytes).toEqual([0, 0]);
    expect(flow.sawSyn).toBe(true);
    expect(flow.firstSeenMicros).toBe(T0);
    expect(flow.lastSeenMicros).toBe(T0 + 5 * SECOND);
  });
});

describe('idle expiry by capture time', () => {
  it('expires UDP after 60 s and TCP after 600 s of silence, checked as packets arrive', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const conv = new TcpConversation(CLIENT, POOL);
    table.process(conv.syn(), T0);
    table.process(udpPacket(CLIENT, { ip: '203.0.113.53', port: 53 }, 'query'), T0);
    const other = (n: number) => udpPacket(client(n), { ip: '203.0.113.1', port: 9999 }, 'x');

    table.process(other(1), T0 + 60 * SECOND); // not yet past the UDP timeout
    expect(table.stats.idleExpired).toBe(0);
    table.process(other(1), T0 + 61 * SECOND + 1);
    expect(handler.ends.map((e) => [e.flow.protocol, e.reason])).toEqual([[17, 'idle']]);

    table.process(other(2), T0 + 590 * SECOND);
    expect(table.stats.idleExpired).toBe(2); // the first helper flow went quiet too
    table.process(other(3), T0 + 601 * SECOND + 1);
    expect(handler.ends.filter((e) => e.flow.protocol === 6).map((e) => e.reason)).toEqual(['idle']);
    expect(table.stats.idleExpired).toBe(3);
    expect(table.size).toBe(2);
  });

  it('keeps a flow alive while it has traffic and honours explicit expire()', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler, { tcpIdleMicros: 10 * SECOND });
    const conv = new TcpConversation(CLIENT, POOL);
    table.process(conv.syn(), T0);
    for (let t = 1; t <= 30; t++) table.process(conv.ack(0, 0), T0 + t * 5 * SECOND);
    expect(table.size).toBe(1);
    table.expire(T0 + 150 * SECOND + 10 * SECOND); // exactly the timeout: still alive
    expect(table.size).toBe(1);
    table.expire(T0 + 150 * SECOND + 10 * SECOND + 1);
    expect(table.size).toBe(0);
    expect(handler.ends.map((e) => e.reason)).toEqual(['idle']);
    expect(table.stats.active).toBe(0);
  });
});

describe('eviction at maxFlows', () => {
  it('evicts flows that never carried data before flows that did', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler, { maxFlows: 3 });
    const miner = new TcpConversation(CLIENT, POOL);
    let ts = T0;
    for (const pkt of [...handshake(miner), miner.data(0, 0, 'login')]) table.process(pkt, (ts += 1));
    const minerFlow = handler.onlyFlow();
    // newer but silent handshakes
    table.process(new TcpConversation(client(1), POOL).syn(), (ts += 1));
    table.process(new TcpConversation(client(2), POOL).syn(), (ts += 1));
    expect(table.size).toBe(3);
    table.process(new TcpConversation(client(3), POOL).syn(), (ts += 1));
    expect(table.size).toBe(3);
    expect(table.stats.evicted).toBe(1);
    expect(handler.ends).toHaveLength(1);
    expect(handler.ends[0]!.reason).toBe('evicted');
    expect(handler.ends[0]!.flow.port[0]).toBe(40001); // the oldest silent one
    expect(handler.endReason(minerFlow)).toBeUndefined();
  });

  it('evicts the least recently seen flow when all carried data', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler, { maxFlows: 2 });
    const a = new TcpConversation(client(1), POOL);
    const b = new TcpConversation(client(2), POOL);
    let ts = T0;
    // recency is tracked to the second of capture time
    table.process(a.data(0, 0, 'a1'), (ts += SECOND));
    table.process(b.data(0, 0, 'b1'), (ts += SECOND));
    table.process(a.data(0, 2, 'a2'), (ts += SECOND)); // a is now the more recent
    table.process(udpPacket(client(3), POOL, 'u'), (ts += SECOND));
    expect(handler.ends.map((e) => [e.flow.port[0], e.reason])).toEqual([[40002, 'evicted']]);
    expect(table.size).toBe(2);
  });

  it('reuses tombstone slots before evicting live flows', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler, { maxFlows: 2 });
    const closed = new TcpConversation(client(1), POOL);
    let ts = T0;
    for (const pkt of [...handshake(closed), closed.fin(0, 0), closed.fin(1, 0)]) table.process(pkt, (ts += 1));
    table.process(new TcpConversation(client(2), POOL).syn(), (ts += 1));
    table.process(new TcpConversation(client(3), POOL).syn(), (ts += 1));
    expect(table.stats.evicted).toBe(0);
    expect(table.size).toBe(2);
    expect(handler.ends.map((e) => e.reason)).toEqual(['fin']);
  });
});

describe('inspect = false', () => {
  it('stops delivery, frees buffers, keeps counting', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const conv = new TcpConversation(CLIENT, POOL);
    let ts = T0;
    const feed = (...pkts: DecodedPacket[]) => pkts.forEach((p) => table.process(p, (ts += 10)));
    feed(...handshake(conv), conv.data(0, 0, 'AAAA'), conv.data(0, 8, 'CCCC'), conv.data(1, 4, 'zz'));
    expect(table.stats.bufferedBytes).toBe(6);
    handler.afterData = (flow) => {
      flow.inspect = false; // seen enough after the next delivery
    };
    feed(conv.data(0, 4, 'BBBB')); // fills the hole; delivery stops after this segment
    const flow = handler.onlyFlow();
    expect(handler.text(flow, 0)).toBe('AAAABBBB');
    expect(table.stats.bufferedBytes).toBe(0);

    feed(conv.data(0, 12, 'DDDD'), conv.data(1, 0, 'yyyy'), conv.data(1, 20, 'far'));
    expect(handler.text(flow, 0)).toBe('AAAABBBB');
    expect(handler.text(flow, 1)).toBe('');
    expect(table.stats.bufferedBytes).toBe(0);
    expect(flow.packets).toEqual([6, 4]);
    expect(flow.bytes).toEqual([16, 9]);
    expect(flow.lastSeenMicros).toBe(ts);

    feed(conv.fin(0, 16), conv.fin(1, 23));
    expect(handler.ends).toEqual([{ flow, reason: 'fin' }]);
  });

  it('stops UDP datagrams too', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const pool = { ip: '203.0.113.5', port: 4444 };
    table.process(udpPacket(CLIENT, pool, 'first'), T0);
    handler.datagrams[0]!.flow.inspect = false;
    table.process(udpPacket(pool, CLIENT, 'second'), T0 + 1);
    expect(handler.datagrams.map((d) => d.payload.toString())).toEqual(['first']);
    expect(handler.datagrams[0]!.flow.packets).toEqual([1, 1]);
  });
});

describe('UDP', () => {
  it('hands every datagram to onDatagram with its direction', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const miner = { ip: '2001:db8::10', port: 50000 };
    const pool = { ip: '2001:db8:ff::1', port: 3333 };
    table.process(udpPacket(miner, pool, 'hello'), T0);
    table.process(udpPacket(pool, miner, 'welcome'), T0 + 5);
    table.process(udpPacket(miner, pool, ''), T0 + 9);
    expect(handler.datagrams.map((d) => [d.dir, d.payload.toString(), d.tsMicros])).toEqual([
      [0, 'hello', T0],
      [1, 'welcome', T0 + 5],
      [0, '', T0 + 9],
    ]);
    const flow = handler.datagrams[0]!.flow;
    expect(handler.datagrams.every((d) => d.flow === flow)).toBe(true);
    expect(flow.ipVersion).toBe(6);
    expect(flow.addr).toEqual(['2001:db8::10', '2001:db8:ff::1']);
    expect(flow.bytes).toEqual([5, 7]);
    expect(table.size).toBe(1);
  });

  it('ignores transports other than TCP and UDP', () => {
    const table = new FlowTable(new RecordingHandler());
    const icmp = udpPacket(CLIENT, POOL, 'ping');
    icmp.protocol = 1;
    table.process(icmp, T0);
    expect(table.stats.created).toBe(0);
  });
});

describe('onFlowEnd', () => {
  it('is called exactly once per flow whatever ends it', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler, { maxFlows: 20, udpIdleMicros: 30 * SECOND });
    let ts = T0;
    const feed = (pkt: DecodedPacket) => table.process(pkt, (ts += 1000));
    for (let n = 0; n < 60; n++) {
      const conv = new TcpConversation(client(n), POOL, [n * 1000, n * 7000]);
      feed(conv.syn());
      feed(conv.synAck());
      if (n % 4 === 0) feed(conv.data(0, 0, 'payload'));
      if (n % 5 === 0) [conv.fin(0, n % 4 === 0 ? 7 : 0), conv.fin(1, 0), conv.ack(0, 1)].forEach(feed);
      if (n % 7 === 0) [conv.rst(0, 0), conv.rst(1, 0)].forEach(feed);
      if (n % 3 === 0) feed(udpPacket(client(n), { ip: '203.0.113.7', port: 53 }, 'q'));
      if (n === 30) ts += 40 * SECOND; // UDP flows so far go idle
    }
    table.flush();
    expect(table.size).toBe(0);
    expect(table.stats.active).toBe(0);
    expect(table.stats.ended).toBe(table.stats.created);
    expect(handler.ends).toHaveLength(table.stats.created);
    const ids = handler.ends.map((e) => e.flow.id);
    expect(new Set(ids).size).toBe(ids.length);
    const reasons = new Set(handler.ends.map((e) => e.reason));
    expect(reasons).toEqual(new Set(['fin', 'rst', 'idle', 'evicted', 'flush']));
    expect(table.stats.peakActive).toBe(20);

    // after a flush the table starts empty; flushing again ends nothing
    table.flush();
    expect(handler.ends).toHaveLength(table.stats.created);
  });

  it('delivers nothing on flush, even with buffered data', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const conv = new TcpConversation(CLIENT, POOL);
    let ts = T0;
    for (const pkt of [...handshake(conv), conv.data(0, 0, 'a'), conv.data(0, 2, 'c')]) table.process(pkt, (ts += 1));
    table.flush();
    expect(handler.text(handler.onlyFlow(), 0)).toBe('a');
    expect(handler.gaps).toHaveLength(0);
    expect(handler.ends.map((e) => e.reason)).toEqual(['flush']);
    expect(table.stats.bufferedBytes).toBe(0);
  });

  it('counts the flows nobody hears of on flush and leaves the table as new', () => {
    // Unseen flows are not reported: the UDP ones (screened out, as DNS is) and the
    // payload-less TCP one are only counted at the flush; the TCP flows with data (one
    // holding a segment) are told.
    const handler = new DnsLikeScreening();
    const table = new FlowTable(handler, { reportUnseenFlows: false });
    let ts = T0;
    const feed = (pkt: DecodedPacket) => table.process(pkt, (ts += 10));
    const quiet = new TcpConversation(client(1), POOL);
    handshake(quiet).forEach(feed);
    const talking = new TcpConversation(client(2), POOL);
    [...handshake(talking), talking.data(0, 0, 'hi')].forEach(feed);
    const holding = new TcpConversation(client(3), POOL);
    [...handshake(holding), holding.data(0, 4, 'late')].forEach(feed);
    for (let n = 0; n < 50; n++) feed(udpPacket(client(100 + n), { ip: '203.0.113.7', port: 53 }, 'q'));
    expect(table.stats.bufferedBytes).toBe(4);

    table.flush();
    expect(handler.ends.map((e) => e.flow.port[0]).sort()).toEqual([client(2).port, client(3).port]);
    expect(table.stats).toMatchObject({ created: 53, ended: 53, active: 0, bufferedBytes: 0 });

    // The same tuples open new flows in the cleared table, and a flow's packets still meet.
    handshake(quiet).forEach(feed);
    feed(quiet.data(0, 0, 'again'));
    feed(quiet.data(1, 0, 'back'));
    feed(udpPacket(client(100), { ip: '203.0.113.7', port: 53 }, 'q'));
    expect(table.stats.created).toBe(55);
    expect(table.size).toBe(2);
    const reopened = handler.dataCalls.find((c) => c.flow.port[0] === client(1).port)!.flow;
    expect(handler.text(reopened, 0)).toBe('again');
    expect(handler.text(reopened, 1)).toBe('back');
    table.flush();
    expect(table.stats).toMatchObject({ created: 55, ended: 55, active: 0 });
  });
});
