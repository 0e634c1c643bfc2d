/**
 * Captures taken with a short snap length (header-only ISP sampling, `tcpdump -s 200`):
 * packets are decoded from what was captured, the cut tails become stream gaps, and the
 * short messages that fit are still recognised.
 */
import { describe, expect, it } from 'vitest';
import { links } from '../src/synth/link.js';
import { scenarioByName } from '../src/synth/scenarios/mining.js';
import { mergeByTime } from '../src/synth/tcp-session.js';
import { frame, pcapBytes } from '../src/synth/writer.js';
import { conversation, MINER, POOL_IP, replayBytes } from './support/pipeline.js';

describe('snap-length-cut captures', () => {
  it('a Stratum session captured with -s 200 still names its miner, pool and agent', async () => {
    const sc = scenarioByName('stratum-v1-btc');
    const packets = conversation({ turns: sc.turns, serverPort: sc.serverPort });
    const bytes = pcapBytes(frame(mergeByTime(packets), links.ethernet()), { linkType: 1, snaplen: 200 });
    const r = await replayBytes(bytes);
    expect(r.sensor.decoder.stats.malformed).toBe(0);
    expect(r.sensor.decoder.stats.snapTruncated).toBeGreaterThan(0);
    expect(r.sensor.flows.stats.gapBytes).toBeGreaterThan(0);
    expect(r.ips.filter((s) => s.role === 'miner').map((s) => s.ip)).toEqual([MINER.ip]);
    const kinds = new Set(r.hits.map((h) => h.kind));
    for (const k of ['mining.subscribe', 'mining.authorize', 'mining.submit']) expect(kinds).toContain(k);
    expect(kinds).not.toContain('mining.notify'); // 600-byte notify lines were cut
    expect(r.hits.every((h) => h.poolIp === POOL_IP && h.poolPort === sc.serverPort)).toBe(true);
    expect(r.hits.find((h) => h.kind === 'mining.subscribe')?.agent).toBe('cgminer/4.11.1');
  });

  it('header-only capture (-s 54): flows are counted, nothing is malformed, nothing is claimed', async () => {
    const sc = scenarioByName('cryptonote-xmrig');
    const packets = conversation({ turns: sc.turns, serverPort: sc.serverPort });
    const bytes = pcapBytes(frame(mergeByTime(packets), links.ethernet()), { linkType: 1, snaplen: 54 });
    const r = await replayBytes(bytes);
    expect(r.sensor.decoder.stats.malformed).toBe(0);
    expect(r.sensor.decoder.stats.snapCutHeaders).toBe(2); // SYN and SYN-ACK carry an MSS option: 58 bytes
    expect(r.sensor.flows.stats.created).toBe(1);
    expect(r.ips).toEqual([]);
  });
});
