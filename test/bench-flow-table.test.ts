/**
 * The flow table's options and entry points added for throughput and bounded memory:
 * silent ends of flows the handler never saw, Flow objects only for delivered payload,
 * forgetting flows the handler let go of, the shard hash and the sweep clock of sharded
 * tables.
 */
import { describe, expect, it } from 'vitest';
import { DecodedPacket, TCP_SYN } from '../src/decode/types.js';
import { FlowTable } from '../src/flow/flow-table.js';
import { flowHash32, shardOfHash, symmetricFlowHash } from '../src/flow/flow-hash.js';
import { SweepClock } from '../src/flow/sweep-clock.js';
import { DATAGRAM_DELIVER, DATAGRAM_LET_GO, DATAGRAM_SKIP, type Direction, type Flow, type StreamHandler } from '../src/flow/types.js';
import { CLIENT, POOL, RecordingHandler, TcpConversation, tcpPacket, udpPacket } from './support/flow-packets.js';

const T0 = 1_700_000_000_000_000;
const SECOND = 1_000_000;

function client(n: number): { ip: string; port: number } {
  return { ip: `192.0.2.${(n % 250) + 1}`, port: 20_000 + n };
}

/** A handler that lets every flow go at its first payload, as detection does with flows
 *  that are not mining. */
class LettingGoHandler extends RecordingHandler {
  override onData(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void {
    super.onData(flow, dir, buf, offset, length, tsMicros);
    flow.inspect = false;
  }
  override onDatagram(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void {
    super.onDatagram(flow, dir, buf, offset, length, tsMicros);
    flow.inspect = false;
  }
}

describe('reportUnseenFlows: false', () => {
  it('ends flows the handler never saw without a callback, and still counts them', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler, { reportUnseenFlows: false });
    let ts = T0;
    const scan = new TcpConversation(client(1), POOL);
    table.process(scan.syn(), (ts += 10));
    const talk = new TcpConversation(client(2), POOL);
    for (const pkt of [talk.syn(), talk.synAck(), talk.ack(0, 0), talk.data(0, 0, 'hello')]) table.process(pkt, (ts += 10));
    table.flush();
    expect(table.stats.created).toBe(2);
    expect(table.stats.ended).toBe(2);
    expect(handler.ends.map((e) => e.flow.port[0])).toEqual([client(2).port]);
  });

  it('the default keeps "every flow ends exactly once"', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    table.process(new TcpConversation(client(1), POOL).syn(), T0);
    table.flush();
    expect(handler.ends).toHaveLength(1);
  });
});

describe('screenDatagram', () => {
  /** Delivers port-53 datagrams that start with 'Y', skips other port-53 ones, lets the
   *  rest go; counts the screen calls. */
  class ScreeningHandler extends RecordingHandler {
    screened = 0;
    screenDatagram(srcPort: number, dstPort: number, buf: Buffer, offset: number, length: number): number {
      this.screened++;
      if (srcPort !== 53 && dstPort !== 53) return DATAGRAM_LET_GO;
      return length > 0 && buf[offset] === 0x59 ? DATAGRAM_DELIVER : DATAGRAM_SKIP;
    }
  }
  const resolver = { ip: '198.51.100.53', port: 53 };
  const other = { ip: '198.51.100.99', port: 9999 };

  it('builds a Flow only for delivered datagrams, counts the rest, and stops screening a let-go flow', () => {
    const handler = new ScreeningHandler();
    const table = new FlowTable(handler, { forgetLetGoFlows: true, reportUnseenFlows: 'tcp' });
    let ts = T0;
    for (const payload of ['N1', 'N2']) table.process(udpPacket(client(1), resolver, payload), (ts += 10));
    for (const payload of ['N3', 'Y4', 'N5']) table.process(udpPacket(client(2), resolver, payload), (ts += 10));
    for (const payload of ['Y6', 'Y7', 'Y8']) table.process(udpPacket(client(3), other, payload), (ts += 10));
    table.flush();
    expect(handler.datagrams.map((d) => d.payload.toString())).toEqual(['Y4']);
    expect(handler.screened).toBe(2 + 3 + 1);
    // The flow that was delivered to ends with all its packets; the two never seen end silently.
    expect(handler.ends.map((e) => [e.flow.port[0], e.flow.packets[0]])).toEqual([[client(2).port, 3]]);
    expect(table.stats.created).toBe(3);
    expect(table.stats.ended).toBe(3);
  });

  it('asks wantsUnseenFlowEnd at each unseen end, and builds no Flow when the answer is no', () => {
    let wanted = false;
    const handler = new (class extends ScreeningHandler {
      wantsUnseenFlowEnd(): boolean {
        return wanted;
      }
    })();
    const table = new FlowTable(handler, { reportUnseenFlows: 'tcp', tcpIdleMicros: SECOND });
    table.process(new TcpConversation(client(1), POOL).syn(), T0);
    table.process(new TcpConversation(client(2), POOL).syn(), T0 + 10);
    table.expire(T0 + 3 * SECOND); // both ended while unwanted
    wanted = true;
    table.process(new TcpConversation(client(3), POOL).syn(), T0 + 4 * SECOND);
    table.flush();
    expect(handler.ends.map((e) => e.flow.port[0])).toEqual([client(3).port]);
    expect(table.stats.ended).toBe(3);
  });

  it("reportUnseenFlows 'tcp' still reports payload-less TCP flows", () => {
    const handler = new ScreeningHandler();
    const table = new FlowTable(handler, { reportUnseenFlows: 'tcp' });
    table.process(new TcpConversation(client(1), POOL).syn(), T0);
    table.process(udpPacket(client(2), resolver, 'N'), T0 + 10);
    table.flush();
    expect(handler.ends.map((e) => e.flow.protocol)).toEqual([6]);
  });
});

describe('UDP flows and handlers without onDatagram', () => {
  const handler: StreamHandler & { ends: Flow[] } = {
    ends: [],
    onData() {},
    onFlowEnd(flow) {
      this.ends.push(flow);
    },
  };

  it('build no Flow until one is needed, yet the Flow at the end has every count', () => {
    const table = new FlowTable(handler);
    const server = { ip: '203.0.113.53', port: 53 };
    table.process(udpPacket(CLIENT, server, 'query'), T0);
    table.process(udpPacket(server, CLIENT, 'a longer answer'), T0 + 100);
    table.process(udpPacket(CLIENT, server, ''), T0 + 200);
    table.flush();
    const [flow] = handler.ends;
    expect(flow!.packets).toEqual([2, 1]);
    expect(flow!.bytes).toEqual([5, 15]);
    expect(flow!.firstSeenMicros).toBe(T0);
    expect(flow!.lastSeenMicros).toBe(T0 + 200);
  });
});

describe('forgetLetGoFlows', () => {
  it('keeps counting a TCP flow the handler let go of and hands a same-id Flow to onFlowEnd', () => {
    const handler = new LettingGoHandler();
    const table = new FlowTable(handler, { forgetLetGoFlows: true });
    const conv = new TcpConversation(CLIENT, POOL);
    let ts = T0;
    const feed = (...pkts: DecodedPacket[]) => pkts.forEach((p) => table.process(p, (ts += 10)));
    feed(conv.syn(), conv.synAck(), conv.ack(0, 0), conv.data(0, 0, 'GET / HTTP/1.1\r\n\r\n'));
    const seen = handler.onlyFlow();
    feed(conv.data(1, 0, 'HTTP/1.1 200 OK\r\n\r\n'), conv.data(0, 18, 'more'), conv.fin(0, 22), conv.fin(1, 19), conv.ack(0, 20));
    expect(handler.text(seen, 0)).toBe('GET / HTTP/1.1\r\n\r\n'); // nothing delivered after letting go
    expect(handler.ends).toHaveLength(1);
    const { flow: ended, reason } = handler.ends[0]!;
    expect(reason).toBe('fin');
    expect(ended).not.toBe(seen);
    expect(ended.id).toBe(seen.id);
    expect(ended.addr).toEqual(seen.addr);
    expect(ended.inspect).toBe(false);
    expect(ended.sawSyn).toBe(true);
    expect(ended.packets).toEqual([5, 3]);
    expect(ended.bytes).toEqual([22, 19]);
  });

  it('keeps no Flow object for UDP flows the handler let go of', () => {
    const handler = new LettingGoHandler();
    const table = new FlowTable(handler, { forgetLetGoFlows: true, reportUnseenFlows: false });
    const server = { ip: '203.0.113.9', port: 443 };
    for (let n = 0; n < 3; n++) table.process(udpPacket(CLIENT, server, `datagram ${n}`), T0 + n);
    expect(handler.datagrams).toHaveLength(1); // the handler saw the first datagram only
    table.flush();
    expect(handler.ends).toHaveLength(0); // it holds nothing for the flow: no end callback
    expect(table.stats.ended).toBe(1);
  });

  it('leaves flows the handler still inspects, or holds state for, alone', () => {
    const handler = new RecordingHandler();
    handler.afterData = (flow) => {
      flow.inspect = false;
      flow.app = 'still mine';
    };
    const table = new FlowTable(handler, { forgetLetGoFlows: true });
    const conv = new TcpConversation(CLIENT, POOL);
    let ts = T0;
    for (const pkt of [conv.syn(), conv.synAck(), conv.data(0, 0, 'one'), conv.data(0, 3, 'two')]) table.process(pkt, (ts += 10));
    table.flush();
    const flow = handler.onlyFlow();
    expect(handler.ends[0]!.flow).toBe(flow);
    expect(flow.packets).toEqual([3, 1]);
  });
});

describe('shards', () => {
  it('symmetricFlowHash and the shard are the same for both directions', () => {
    for (let n = 0; n < 200; n++) {
      const there = tcpPacket(client(n), POOL, TCP_SYN, n, 0);
      const back = tcpPacket(POOL, client(n), TCP_SYN, n, 0);
      expect(symmetricFlowHash(there)).toBe(symmetricFlowHash(back));
      expect(shardOfHash(flowHash32(there), 3)).toBe(shardOfHash(flowHash32(back), 3));
    }
  });

  it('shardOfHash spreads flows evenly and uses other bits than the table buckets', () => {
    const counts = [0, 0, 0, 0];
    const lowBitByShard = [new Set<number>(), new Set<number>()];
    for (let n = 0; n < 40_000; n++) {
      const hash = flowHash32(udpPacket({ ip: `198.51.100.${n % 250}`, port: 1024 + n }, { ip: '203.0.113.1', port: 53 }));
      counts[shardOfHash(hash, 4)]!++;
      lowBitByShard[shardOfHash(hash, 2)]!.add(hash & 1);
    }
    for (const c of counts) expect(c).toBeGreaterThan(9_000);
    // Each shard still fills both halves of its buckets.
    expect(lowBitByShard.map((s) => s.size)).toEqual([2, 2]);
  });

  it('shardOfHash gives shard 0 the share asked for and the rest equal parts', () => {
    const hashes = Array.from({ length: 40_000 }, (_, n) => flowHash32(udpPacket({ ip: `198.51.100.${n % 250}`, port: 1024 + n }, { ip: '203.0.113.1', port: 443 })));
    const tally = (count: number, share: number): number[] => {
      const t = new Array<number>(count).fill(0);
      for (const h of hashes) t[shardOfHash(h, count, share)]!++;
      return t;
    };
    const [local, other] = tally(2, 0.125);
    expect(local! / hashes.length).toBeCloseTo(0.125, 1);
    expect(local! + other!).toBe(hashes.length);
    const none = tally(3, 0);
    expect(none[0]).toBe(0);
    expect(Math.abs(none[1]! - none[2]!)).toBeLessThan(1_000);
    // The default share is an equal part: the same as sharding into `count` equal parts.
    for (const h of hashes.slice(0, 1000)) expect(shardOfHash(h, 3)).toBe(Math.floor(((h >>> 0) * 3) / 0x1_0000_0000));
  });

  it('shards with external sweeps, driven by one clock over all packets, end flows where one table does', () => {
    let now = 0;
    /** Notes the capture time of the packet during which each flow ended. */
    class EndClock extends RecordingHandler {
      readonly endedAt: string[] = [];
      override onFlowEnd(flow: Flow, reason: 'fin' | 'rst' | 'idle' | 'evicted' | 'flush'): void {
        super.onFlowEnd(flow, reason);
        this.endedAt.push(`${flow.port[0]} ${reason} at ${now - T0}`);
      }
    }
    const udp = (n: number) => udpPacket(client(n), { ip: '203.0.113.1', port: 9000 }, 'x');
    const whole = new EndClock();
    const wholeTable = new FlowTable(whole, { udpIdleMicros: 2 * SECOND });
    const run = (external: boolean): string[] => {
      const parts = [new EndClock(), new EndClock()];
      const tables = parts.map((h) => new FlowTable(h, { udpIdleMicros: 2 * SECOND, externalSweeps: external }));
      const clock = new SweepClock();
      // Twenty flows talk for ten seconds, then twenty others: the first ones go idle.
      for (let n = 0; n < 400; n++) {
        const pkt = udp(n < 200 ? n % 20 : 20 + (n % 20));
        now = T0 + n * 70_000 + (n % 7) * 9_000;
        if (external) {
          wholeTable.process(pkt, now);
          if (clock.take(now)) for (const t of tables) t.sweep(now);
        }
        tables[shardOfHash(flowHash32(pkt), 2)]!.process(pkt, now);
      }
      return [...parts[0]!.endedAt, ...parts[1]!.endedAt].sort();
    };
    const sharded = run(true);
    expect(whole.ends).toHaveLength(20);
    expect(whole.ends.every((e) => e.reason === 'idle')).toBe(true);
    expect(sharded).toEqual([...whole.endedAt].sort());
    // Sweeping on its own packets only, each shard ends flows at other moments.
    expect(run(false)).not.toEqual(sharded);
  });
});

describe('processPacket', () => {
  it('reads the capture time from the packet', () => {
    const a = new RecordingHandler();
    const b = new RecordingHandler();
    const byArgument = new FlowTable(a);
    const byField = new FlowTable(b);
    const conv = new TcpConversation(CLIENT, POOL);
    [conv.syn(), conv.synAck(), conv.data(0, 0, 'abc')].forEach((pkt, i) => {
      byArgument.process(pkt, T0 + i);
      const copy = Object.assign(new DecodedPacket(), pkt, { tsMicros: T0 + i });
      byField.processPacket(copy);
    });
    expect(b.onlyFlow().lastSeenMicros).toBe(a.onlyFlow().lastSeenMicros);
    expect(b.dataCalls.map((c) => c.tsMicros)).toEqual(a.dataCalls.map((c) => c.tsMicros));
  });
});
