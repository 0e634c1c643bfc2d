import { describe, expect, it } from 'vitest';
import { TCP_SYN } from '../src/decode/types.js';
import { FlowTable } from '../src/flow/flow-table.js';
import type { Flow, FlowEndReason, StreamHandler } from '../src/flow/types.js';
import { POOL, TcpConversation, tcpPacket } from './support/flow-packets.js';

const T0 = 1_700_000_000_000_000;

/** Counts ends by reason and keeps the text of one watched flow (no per-flow records). */
class FloodHandler implements StreamHandler {
  readonly endReasons = new Map<FlowEndReason, number>();
  readonly watchedEnds: FlowEndReason[] = [];
  watched: Flow | undefined;
  watchedText = '';
  onData(flow: Flow, _dir: 0 | 1, buf: Buffer, offset: number, length: number): void {
    this.watched ??= flow;
    if (flow === this.watched) this.watchedText += buf.toString('latin1', offset, offset + length);
  }
  onFlowEnd(flow: Flow, reason: FlowEndReason): void {
    this.endReasons.set(reason, (this.endReasons.get(reason) ?? 0) + 1);
    if (flow === this.watched) this.watchedEnds.push(reason);
  }
}

describe('SYN flood', () => {
  it('stays at maxFlows, evicting flood flows and keeping the established mining flow', () => {
    const handler = new FloodHandler();
    const table = new FlowTable(handler, { maxFlows: 100_000 });
    const miner = new TcpConversation({ ip: '192.0.2.200', port: 40000 }, POOL);
    let ts = T0;
    for (const pkt of [miner.syn(), miner.synAck(), miner.ack(0, 0), miner.data(0, 0, 'mining.subscribe\n'), miner.data(1, 0, 'job\n')]) {
      table.process(pkt, (ts += 10));
    }

    // One packet object reused for the whole flood, as the decoder does.
    const pkt = tcpPacket({ ip: '203.0.113.1', port: 1 }, POOL, TCP_SYN, 0, 0);
    const floodFlows = 500_000;
    for (let n = 0; n < floodFlows; n++) {
      pkt.src[0] = 0xcb007100 | (n & 0xff); // 203.0.113.x
      pkt.srcPort = 1024 + (n >>> 8);
      pkt.seq = n * 7919;
      table.process(pkt, (ts += 100)); // 50 s of capture time
    }
    expect(table.size).toBe(100_000);
    expect(table.stats.active).toBe(100_000);
    expect(table.stats.peakActive).toBe(100_000);
    expect(table.stats.created).toBe(floodFlows + 1);
    expect(table.stats.evicted).toBe(floodFlows + 1 - 100_000);
    expect(handler.endReasons.get('evicted')).toBe(table.stats.evicted);
    expect(handler.watchedEnds).toEqual([]);

    // the mining flow is still the same flow and keeps receiving data
    table.process(miner.data(0, 17, 'mining.submit\n'), (ts += 10));
    expect(handler.watchedText).toBe('mining.subscribe\njob\nmining.submit\n');
    expect(table.stats.created).toBe(floodFlows + 1);

    table.flush();
    expect(handler.watchedEnds).toEqual(['flush']);
    expect(table.stats.ended).toBe(table.stats.created);
  });
});
