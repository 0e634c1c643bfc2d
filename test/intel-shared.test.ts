/**
 * Sessions and estimates on the real third-party mining captures (../shared/captures;
 * skipped when absent). The figures are those the README states under "Hashrate and power
 * estimates"; the traps the protocol reference lists are checked: retransmitted submits
 * count once, duplicated pool replies do not double the acceptances.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultIntelTables, intelByIp } from '../src/estimate/ip-intel.js';
import { sharedCapturesDir } from '../src/util/paths.js';
import { replayBytes } from './support/pipeline.js';

const dir = sharedCapturesDir();

async function sessionsOf(file: string) {
  return (await replayBytes(readFileSync(join(dir!, 'mining', file)), undefined, file)).sessions;
}

describe.runIf(dir !== null)('estimates on the shared mining captures', () => {
  it('xmr.suprnova.cc: 5 CryptoNote submits at b88d0600, each reply seen twice on the wire, about 885 H/s', async () => {
    const [s, ...rest] = await sessionsOf('xmr.suprnova.cc.pcapng');
    expect(rest).toHaveLength(0);
    expect(s).toMatchObject({
      minerIp: '147.229.13.222',
      poolIp: '37.59.21.58',
      poolPort: 5222,
      dialect: 'cryptonote',
      algo: 'cryptonote',
      algoAssumed: true,
      sharesSubmitted: 5,
      sharesAccepted: 5,
      sharesRejected: 0,
      agent: 'xmr/1.0',
      worker: 'worker1',
      hashrateUnit: 'H/s',
    });
    expect(s!.difficultyHistory.map((p) => p.raw)).toEqual(['b88d0600', '7b5e0400']);
    expect((s!.windowEndMicros - s!.windowStartMicros) / 1e6).toBeCloseTo(56.48, 1);
    expect(s!.estHashrate!).toBeCloseTo(885, -1);
    expect(s!.estHashrateLow!).toBeCloseTo(349, -1);
    expect(s!.estHashrateHigh!).toBeCloseTo(1861, -1);
  });

  it('mining.pcapng: Equihash, CryptoNote and EthProxy sessions with their shares and estimates', async () => {
    const sessions = await sessionsOf('mining.pcapng');
    const by = (pool: string) => sessions.find((s) => `${s.poolIp}:${s.poolPort}` === pool)!;
    expect(sessions).toHaveLength(4);

    // (a) EWBF on flypool: 46 submits, one rejected "Stale job!" (V1 error 21).
    const zec = by('94.23.199.191:3333');
    expect(zec).toMatchObject({ minerIp: '192.168.2.148', algo: 'equihash', hashrateUnit: 'Sol/s', sharesSubmitted: 46, sharesAccepted: 45, sharesRejected: 1, sharesStale: 1, worker: 'rig4' });
    expect(zec.shareErrors).toEqual([{ code: '21', message: 'Stale job!', count: 1 }]);
    expect(zec.difficultyHistory[0]!.hashesPerShare).toBeCloseTo(16000, 3);
    expect(zec.estHashrate!).toBeCloseTo(674.5, 0);
    const zec2 = by('116.211.167.195:3333');
    expect(zec2).toMatchObject({ sharesSubmitted: 1, sharesAccepted: 1, worker: 'c1' });

    // (b) xmr-stak-cpu: 30 real submits (33 submit packets: one retransmitted three times).
    const xmr = by('178.32.196.217:9050');
    expect(xmr).toMatchObject({ minerIp: '192.168.2.92', sharesSubmitted: 30, sharesAccepted: 30, repliesUnmatched: 0, agent: 'xmr-stak-cpu/1.3.0-1.5.0' });
    expect(xmr.difficultyHistory[0]!.raw).toBe('dc460300');
    expect(xmr.estHashrate!).toBeCloseTo(519.8, 0);
    expect(xmr.estHashrateLow!).toBeCloseTo(374.1, 0);
    expect(xmr.estHashrateHigh!).toBeCloseTo(705.0, 0);

    // (c) Claymore-style EthProxy: one share against a self-reported ~30 MH/s, kept apart.
    const eth = by('185.71.66.39:9999');
    expect(eth).toMatchObject({ minerIp: '147.229.13.222', algo: 'ethash', sharesSubmitted: 1, sharesAccepted: 1, selfHashrateReports: 14, worker: 'eth1.0' });
    expect(eth.selfHashrate).toBe(30_451_731); // the last of the 14 eth_submitHashrate reports, H/s
    expect(eth.estHashrate! / 1e6).toBeCloseTo(16.9, 1);
    expect(eth.estHashrateLow!).toBeLessThan(eth.selfHashrate!);
    expect(eth.estHashrateHigh!).toBeGreaterThan(eth.selfHashrate!);

    // Per IP: the two EWBF connections ran at once and add up within Equihash.
    const intel = intelByIp(sessions, defaultIntelTables());
    const rig = intel.get('192.168.2.148')!;
    expect(rig.concurrentSessions).toBe(2);
    expect(rig.algorithms[0]!.hashrate!.value).toBeCloseTo(689.5, 0);
    expect(rig.workers).toEqual(['c1', 'rig4']);
  });
});
