/**
 * Per-IP sums: hashrates add only within one algorithm and only over sessions running at
 * the same time; power adds across algorithms; workers, wallets and pools are distinct;
 * the farm flag follows the thresholds.
 */
import { describe, expect, it } from 'vitest';
import { peakCount, peakSet } from '../src/estimate/concurrency.js';
import { defaultIntelTables, dominantAlgorithm, intelByIp, ipIntel, type IntelTables } from '../src/estimate/ip-intel.js';
import { EfficiencyTable } from '../src/estimate/efficiency.js';
import type { SessionRow } from '../src/store/session-store.js';

const T0 = 1_780_000_000_000_000;
const S = 1_000_000;
let nextId = 1;

function session(over: Partial<SessionRow> & { at: number; seconds: number }): SessionRow {
  const { at, seconds, ...rest } = over;
  const start = T0 + at * S;
  const end = start + seconds * S;
  return {
    id: nextId++,
    started: '',
    ended: '',
    source: 'test.pcap',
    minerIp: '192.0.2.10',
    minerPort: 40000 + nextId,
    poolIp: '203.0.113.5',
    poolPort: 3333,
    transport: 'tcp',
    dialect: 'stratum',
    algo: 'sha256d',
    algoAssumed: false,
    algoWire: 'sha256d',
    startMicros: start,
    endMicros: end,
    endReason: 'fin',
    windowStartMicros: start,
    windowEndMicros: end,
    firstShareMicros: start,
    lastShareMicros: end,
    agent: null,
    worker: 'rig1',
    login: null,
    wallet: null,
    poolHost: null,
    workers: ['rig1'],
    wallets: [],
    sharesSubmitted: 100,
    sharesAccepted: 100,
    sharesRejected: 0,
    sharesStale: 0,
    repliesUnmatched: 0,
    shareErrors: [],
    difficultyHistory: [],
    hashesSubmitted: 1,
    hashesAccepted: 1,
    hashrateUnit: 'H/s',
    estHashrate: 100e12,
    estHashrateLow: 90e12,
    estHashrateHigh: 110e12,
    selfHashrate: null,
    selfHashrateReports: 0,
    packetsToPool: 1,
    packetsToMiner: 1,
    bytesToPool: 1,
    bytesToMiner: 1,
    ...rest,
  };
}

/** Tables with round efficiency figures so the sums are easy to read. */
function tables(farm: Partial<IntelTables['farm']> = {}): IntelTables {
  const base = defaultIntelTables(farm);
  return {
    ...base,
    efficiency: new EfficiencyTable({
      rows: [
        { algo: 'sha256d', low: 20, high: 30, unit: 'J/TH', source: 'test' },
        { algo: 'randomx', low: 100, high: 50, unit: 'H/s per W', source: 'test' },
      ],
    }),
  };
}

describe('concurrency', () => {
  it('finds the moment of most weight; back-to-back intervals do not overlap', () => {
    const items = [
      { startMicros: 0, endMicros: 10 },
      { startMicros: 10, endMicros: 20 },
      { startMicros: 5, endMicros: 15 },
    ];
    expect(peakCount(items)).toBe(2);
    const weighted = peakSet(items, (i) => i, (i) => (i.startMicros === 10 ? 5 : 1));
    expect(weighted.map((i) => i.startMicros).sort((a, b) => a - b)).toEqual([5, 10]);
    expect(peakSet([], (i: { startMicros: number; endMicros: number }) => i, () => 1)).toEqual([]);
  });
});

describe('per-IP sums', () => {
  it('adds concurrent sessions of one algorithm, not sequential reconnects', () => {
    const concurrent = ipIntel('192.0.2.10', [session({ at: 0, seconds: 600 }), session({ at: 100, seconds: 600, workers: ['rig2'] })], tables());
    // Independent counts: the half-widths (10 TH/s each) add in quadrature.
    expect(concurrent.algorithms[0]!.hashrate!.value).toBe(200e12);
    expect(concurrent.algorithms[0]!.hashrate!.low / 1e12).toBeCloseTo(200 - Math.SQRT2 * 10, 6);
    expect(concurrent.algorithms[0]!.hashrate!.high / 1e12).toBeCloseTo(200 + Math.SQRT2 * 10, 6);
    expect(concurrent.concurrentSessions).toBe(2);
    expect(concurrent.workers).toEqual(['rig1', 'rig2']);

    const sequential = ipIntel('192.0.2.10', [session({ at: 0, seconds: 600 }), session({ at: 600, seconds: 600 })], tables());
    expect(sequential.algorithms[0]!.hashrate!.value).toBe(100e12);
    expect(sequential.concurrentSessions).toBe(1);
    expect(sequential.sessions).toBe(2);
  });

  it('keeps algorithms apart and adds their power', () => {
    const i = ipIntel(
      '192.0.2.10',
      [
        session({ at: 0, seconds: 600 }),
        session({ at: 0, seconds: 600, algo: 'randomx', dialect: 'cryptonote', estHashrate: 10_000, estHashrateLow: 8_000, estHashrateHigh: 12_000, workers: ['cpu'], wallets: ['44AFFq'] }),
      ],
      tables(),
    );
    expect(i.algorithms.map((a) => a.algo)).toEqual(['sha256d', 'randomx']);
    expect(i.algorithms[1]!.hashrate!.value).toBe(10_000);
    // 100 TH/s at 25 J/TH (middle) = 2500 W; 10 kH/s at (10+20)/2 mJ = 150 W.
    expect(i.power!.watts).toBeCloseTo(2650, 6);
    expect(i.power!.wattsLow).toBeCloseTo(90 * 20 + 8_000 * 0.01, 6);
    expect(i.power!.wattsHigh).toBeCloseTo(110 * 30 + 12_000 * 0.02, 6);
    expect(i.coins).toEqual(expect.arrayContaining(['BTC', 'XMR']));
    expect(i.wallets).toEqual(['44AFFq']);
    expect(dominantAlgorithm(i)!.algo).toBe('sha256d');
  });

  it('names the algorithms whose power is missing, and keeps self-reported rates apart', () => {
    const i = ipIntel('192.0.2.10', [session({ at: 0, seconds: 60, algo: 'kawpow', selfHashrate: 30e6, estHashrate: 25e6, estHashrateLow: 20e6, estHashrateHigh: 30e6 })], tables());
    expect(i.power).toBeNull();
    expect(i.powerMissingFor).toEqual(['kawpow']);
    expect(i.algorithms[0]!.selfReported).toBe(30e6);
    expect(i.algorithms[0]!.hashrate!.value).toBe(25e6);
  });

  it('flags a farm by workers, concurrent mining sessions or power, and not for idle probes', () => {
    const rigs = Array.from({ length: 12 }, (_, k) => session({ at: k, seconds: 600, workers: [`rig${k}`], estHashrate: 1e12, estHashrateLow: 1e12, estHashrateHigh: 1e12 }));
    const farm = ipIntel('192.0.2.10', rigs, tables());
    expect(farm.farm).toBe(true);
    expect(farm.farmReasons).toEqual(['12 workers >= 10', '12 concurrent mining sessions >= 10']);
    expect(ipIntel('192.0.2.10', rigs, tables({ workers: 100, concurrentSessions: 100 })).farm).toBe(false);

    // 17 logins at once that never submit (a prober): not a farm.
    const probes = Array.from({ length: 17 }, (_, k) => session({ at: 0, seconds: 30, sharesSubmitted: 0, sharesAccepted: 0, estHashrate: 0, estHashrateLow: 0, estHashrateHigh: 4e9, workers: ['Bitcoin'], minerPort: 5000 + k }));
    const prober = ipIntel('192.0.2.10', probes, tables());
    expect(prober.concurrentSessions).toBe(17);
    expect(prober.concurrentMining).toBe(0);
    expect(prober.farm).toBe(false);

    const big = ipIntel('192.0.2.10', [session({ at: 0, seconds: 600, estHashrate: 1e15, estHashrateLow: 0.9e15, estHashrateHigh: 1.1e15 })], tables());
    expect(big.power!.wattsLow).toBeCloseTo(18000, 3);
    expect(big.farmReasons).toEqual(['power >= 18000 W (low end) >= 10000 W']);
  });

  it('groups sessions by miner IP', () => {
    const m = intelByIp([session({ at: 0, seconds: 10 }), session({ at: 0, seconds: 10, minerIp: '192.0.2.11' }), session({ at: 20, seconds: 10 })], tables());
    expect([...m.keys()].sort()).toEqual(['192.0.2.10', '192.0.2.11']);
    expect(m.get('192.0.2.10')!.sessions).toBe(2);
    expect(m.get('192.0.2.10')!.pools).toEqual(['203.0.113.5:3333']);
  });
});
