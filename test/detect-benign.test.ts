/**
 * The false-positive traps: crypto P2P, node RPC, Electrum, generic JSON-RPC, JSON over
 * pool ports and port scans must leave the hit list empty, through the whole pipeline.
 */
import { describe, expect, it } from 'vitest';
import { tcpPacket, TCP_SYN, TCP_ACK, TCP_RST } from '../src/synth/packets.js';
import { BENIGN_SCENARIOS } from '../src/synth/scenarios/benign.js';
import { captureOf, conversation, MINER, POOL_IP, replayBytes } from './support/pipeline.js';

describe('benign traffic produces no hit', () => {
  for (const sc of BENIGN_SCENARIOS) {
    it(`${sc.name}: ${sc.description}`, async () => {
      const r = await replayBytes(captureOf([conversation({ turns: sc.turns, serverPort: sc.serverPort })]));
      expect(r.stats.packets).toBeGreaterThan(0);
      expect(r.sensor.flows.stats.created).toBe(1);
      expect(r.ips).toEqual([]);
      expect(r.hits).toEqual([]);
    });
  }

  it('a SYN scan of pool ports (answered by RST) is no hit: a port alone never is', async () => {
    const ports = [3333, 4444, 5555, 7777, 8333, 9999, 14444, 45700];
    const packets = ports.flatMap((port, i) => [
      { tsMicros: 1_780_000_000_000_000 + i * 100, ip: tcpPacket(MINER, { ip: POOL_IP, port }, { seq: 1000 + i, ack: 0, flags: TCP_SYN }) },
      { tsMicros: 1_780_000_000_000_050 + i * 100, ip: tcpPacket({ ip: POOL_IP, port }, MINER, { seq: 0, ack: 1001 + i, flags: TCP_RST | TCP_ACK }) },
    ]);
    const r = await replayBytes(captureOf([packets]));
    expect(r.sensor.flows.stats.created).toBe(ports.length);
    expect(r.ips).toEqual([]);
  });

  it('a flow that shows nothing within its probe budget stops being inspected', async () => {
    const turns = Array.from({ length: 200 }, (_, i) => ({
      from: 'client' as const,
      data: `${JSON.stringify({ jsonrpc: '2.0', method: 'metrics.push', params: [i, 'x'.repeat(500)], id: i })}\n`,
    }));
    const r = await replayBytes(captureOf([conversation({ turns, serverPort: 3333 })]));
    expect(r.ips).toEqual([]);
    expect(r.sensor.engine.stats.flowsBypassed).toBe(1);
    expect(r.sensor.engine.stats.messagesParsed).toBeLessThan(100);
  });
});
