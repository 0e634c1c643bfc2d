/**
 * Sessions and shares end to end: scripted sessions per dialect with known difficulty and
 * share timing go through the real pipeline into SQLite; the stored session must count
 * the submits, match the pool's replies, keep the difficulty, and estimate a hashrate
 * that lies inside its own 90 % interval and near the truth.
 */
import { describe, expect, it } from 'vitest';
import { defaultEfficiencyTable } from '../src/estimate/efficiency.js';
import { defaultIntelTables, ipIntel } from '../src/estimate/ip-intel.js';
import type { SessionRow } from '../src/store/session-store.js';
import { HitStore } from '../src/store/hit-store.js';
import { hex } from '../src/synth/scenarios/mining.js';
import { captureOf, replayBytes, tempDb } from './support/pipeline.js';
import { poissonTimes, replyLines, shareSession, uniformTimes } from './support/intel-scripts.js';

const TWO_32 = 2 ** 32;

function only(sessions: SessionRow[]): SessionRow {
  expect(sessions).toHaveLength(1);
  return sessions[0]!;
}

function windowSeconds(s: SessionRow): number {
  return (s.windowEndMicros - s.windowStartMicros) / 1e6;
}

/** The estimate lies inside its own interval, and the truth lies inside it too. */
function expectCovers(s: SessionRow, truth: number): void {
  expect(s.estHashrate).not.toBeNull();
  expect(s.estHashrateLow!).toBeLessThan(s.estHashrate!);
  expect(s.estHashrateHigh!).toBeGreaterThan(s.estHashrate!);
  expect(truth).toBeGreaterThan(s.estHashrateLow!);
  expect(truth).toBeLessThan(s.estHashrateHigh!);
}

/** A 64-hex big-endian target whose expected hashes per share are `hashes`. */
function targetFor(hashes: number): string {
  return ((1n << 256n) / BigInt(Math.round(hashes))).toString(16).padStart(64, '0');
}

const v1Notify = (job: string): unknown => ({
  id: null,
  method: 'mining.notify',
  params: [job, hex(64, 2), `01000000${hex(110, 3)}`, `ffffffff${hex(90, 4)}`, [hex(64, 5)], '20000000', '17030ecd', '66f2a1b0', true],
});

const v1Setup = (difficulty: number, job = '1a7f') => [
  { from: 'client' as const, data: `${JSON.stringify({ id: 1, method: 'mining.subscribe', params: ['cgminer/4.11.1'] })}\n` },
  { from: 'server' as const, data: `${JSON.stringify({ id: 1, result: [[['mining.notify', 'ae6812eb4cd7735a302a8a9dd95cf71f']], 'f3b0d3c5', 8], error: null })}\n` },
  { from: 'client' as const, data: `${JSON.stringify({ id: 2, method: 'mining.authorize', params: ['acct7.rig1', 'x'] })}\n` },
  { from: 'server' as const, data: `${JSON.stringify({ id: 2, result: true, error: null })}\n` },
  { from: 'server' as const, data: `${JSON.stringify({ id: null, method: 'mining.set_difficulty', params: [difficulty] })}\n` },
  { from: 'server' as const, data: `${JSON.stringify(v1Notify(job))}\n` },
];

const v1Submit = (worker: string, job: string, i: number): unknown => ({
  params: [worker, job, hex(16, 100 + i), '66f2a1b0', hex(8, 200 + i)],
  id: 4,
  method: 'mining.submit',
});

describe('Stratum V1 (SHA-256d)', () => {
  it('300 shares at difficulty 65,536 over 600 s: about 141 TH/s, inside its interval; replies matched', async () => {
    const packets = shareSession({
      setup: v1Setup(65536),
      shareTimes: uniformTimes(300, 600, 7),
      // Every submit reuses id 4, as most miners do: replies match first in, first out.
      submit: (i) => v1Submit('acct7.rig1', '1a7f', i),
      reply: (i) => (i % 30 === 29 ? { id: 4, result: null, error: [23, 'Low difficulty share', null] } : { id: 4, result: true, error: null }),
      endAt: 600,
      serverPort: 3333,
    });
    const r = await replayBytes(captureOf([packets]));
    const s = only(r.sessions);
    expect(s).toMatchObject({
      dialect: 'stratum',
      algo: 'sha256d',
      algoAssumed: false,
      hashrateUnit: 'H/s',
      sharesSubmitted: 300,
      sharesAccepted: 290,
      sharesRejected: 10,
      repliesUnmatched: 0,
      worker: 'rig1',
      agent: 'cgminer/4.11.1',
      selfHashrate: null,
    });
    expect(s.shareErrors).toEqual([{ code: '23', message: 'Low difficulty share', count: 10 }]);
    expect(s.difficultyHistory.map((p) => [p.raw, p.hashesPerShare])).toEqual([['65536', 65536 * TWO_32]]);
    expect(windowSeconds(s)).toBeGreaterThan(599.9);
    expect(windowSeconds(s)).toBeLessThan(600.2);
    const truth = (300 * 65536 * TWO_32) / 600; // 1.407e14 H/s, the reference's worked example
    expect(s.estHashrate! / truth).toBeCloseTo(1, 3);
    expect(s.estHashrate!).toBeGreaterThan(1.40e14);
    expect(s.estHashrate!).toBeLessThan(1.41e14);
    expectCovers(s, truth);
    // ±6 % at one sigma is ±10 % at 90 % for N = 300.
    expect(s.estHashrateLow! / s.estHashrate!).toBeCloseTo(0.907, 2);
    expect(s.estHashrateHigh! / s.estHashrate!).toBeCloseTo(1.100, 2);
    expect(s.hashesSubmitted).toBeCloseTo(300 * 65536 * TWO_32, -6);
    expect(s.hashesAccepted).toBeCloseTo(290 * 65536 * TWO_32, -6);
  });

  it('attributes each share to the difficulty of the job it names', async () => {
    const packets = shareSession({
      setup: v1Setup(1024, 'a'),
      shareTimes: [...uniformTimes(15, 300, 3), ...uniformTimes(10, 300, 4).map((t) => t + 300)],
      // Shares 10..14 still name job 'a' after the difficulty rose: they count at 1024.
      submit: (i) => v1Submit('acct7.rig1', i < 15 ? 'a' : 'b', i),
      reply: () => ({ id: 4, result: true, error: null }),
      pushes: [
        { at: 200, message: { id: null, method: 'mining.set_difficulty', params: [4096] } },
        { at: 300, message: v1Notify('b') },
      ],
      endAt: 600,
      serverPort: 3333,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s.sharesSubmitted).toBe(25);
    expect(s.hashesSubmitted).toBeCloseTo((15 * 1024 + 10 * 4096) * TWO_32, -3);
    expect(s.difficultyHistory.map((p) => p.raw)).toEqual(['1024', '4096']);
  });

  it('counts every worker a proxy submits for on one connection', async () => {
    const packets = shareSession({
      setup: v1Setup(8192),
      shareTimes: uniformTimes(30, 120, 5),
      submit: (i) => v1Submit(`acct7.rig${i % 3}`, '1a7f', i),
      reply: () => ({ id: 4, result: true, error: null }),
      endAt: 120,
      serverPort: 3333,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s.workers).toEqual(['rig0', 'rig1', 'rig2']);
  });

  it('the 90 % interval covers the true hashrate in most of 20 Poisson sessions', async () => {
    const truth = 50e12;
    const difficulty = 16384;
    const rate = truth / (difficulty * TWO_32); // ≈ 0.71 shares per second
    const sessions = Array.from({ length: 20 }, (_, k) =>
      shareSession({
        setup: v1Setup(difficulty),
        shareTimes: poissonTimes(rate, 300, 1000 + k),
        submit: (i) => v1Submit('acct7.rig1', '1a7f', i),
        reply: () => ({ id: 4, result: true, error: null }),
        endAt: 300,
        serverPort: 3333,
        client: { ip: '192.0.2.10', port: 50000 + k },
      }),
    );
    const r = await replayBytes(captureOf(sessions));
    expect(r.sessions).toHaveLength(20);
    const covered = r.sessions.filter((s) => s.estHashrateLow! < truth && truth < s.estHashrateHigh!).length;
    // Binomial(20, 0.9): fewer than 15 covered happens with probability < 1 %.
    expect(covered).toBeGreaterThanOrEqual(15);
    const mean = r.sessions.reduce((a, s) => a + s.estHashrate!, 0) / r.sessions.length;
    expect(Math.abs(mean / truth - 1)).toBeLessThan(0.05);
  });
});

describe('CryptoNote', () => {
  const login = {
    id: 1,
    jsonrpc: '2.0',
    method: 'login',
    params: { login: '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A', pass: 'x', agent: 'XMRig/6.26.0', rigid: 'rig07' },
  };
  const loginResult = (target: string) => ({
    id: 1,
    jsonrpc: '2.0',
    error: null,
    result: { id: 'e799836b25e38747', job: { blob: hex(152, 32), job_id: 'j1', target, algo: 'rx/0', height: 3311250, seed_hash: hex(64, 33) }, status: 'OK' },
  });
  const submit = (job: string, i: number) => ({
    id: 2,
    jsonrpc: '2.0',
    method: 'submit',
    params: { id: 'e799836b25e38747', job_id: job, nonce: hex(8, 300 + i), result: hex(64, 400 + i), algo: 'rx/0' },
  });

  it('4-byte target b88d0600 (difficulty 10,000), 60 shares in 600 s: 1.0 kH/s; duplicated replies are not counted twice', async () => {
    const packets = shareSession({
      setup: [
        { from: 'client', data: `${JSON.stringify(login)}\n` },
        { from: 'server', data: `${JSON.stringify(loginResult('b88d0600'))}\n` },
      ],
      shareTimes: uniformTimes(60, 600, 11),
      submit: (i) => submit('j1', i),
      // The pool answers every submit twice (as in xmr.suprnova.cc, at the application level
      // here). The rejection carries "result": null: the engine parses only lines with a
      // "method" or "result" member (see intel-tracker for error-only replies).
      reply: (i) =>
        i === 59
          ? replyLines({ id: 2, jsonrpc: '2.0', result: null, error: { code: -1, message: 'Low difficulty share' } }, { id: 2, jsonrpc: '2.0', result: null, error: { code: -1, message: 'Low difficulty share' } })
          : replyLines({ id: 2, jsonrpc: '2.0', error: null, result: { status: 'OK' } }, { id: 2, jsonrpc: '2.0', error: null, result: { status: 'OK' } }),
      endAt: 600,
      endLine: { id: 3, jsonrpc: '2.0', method: 'keepalived', params: { id: 'e799836b25e38747' } },
      serverPort: 5555,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s).toMatchObject({
      dialect: 'cryptonote',
      algo: 'randomx',
      algoWire: 'rx/0',
      algoAssumed: false,
      worker: 'rig07',
      sharesSubmitted: 60,
      sharesAccepted: 59,
      sharesRejected: 1,
      repliesUnmatched: 60,
    });
    expect(s.shareErrors).toEqual([{ code: '-1', message: 'Low difficulty share', count: 1 }]);
    expect(s.difficultyHistory[0]!.hashesPerShare).toBeCloseTo(10000, 1);
    expectCovers(s, 1000);
    expect(s.estHashrate!).toBeCloseTo(1000, -1);
    // ±13 % at one sigma for N = 60.
    expect(s.estHashrateHigh! / s.estHashrate!).toBeCloseTo(1.24, 1);
  });

  it('8-byte target: difficulty 2^64 / t', async () => {
    const difficulty = 1_000_000;
    const t = (1n << 64n) / BigInt(difficulty);
    const le = Buffer.from(t.toString(16).padStart(16, '0'), 'hex').reverse().toString('hex');
    const packets = shareSession({
      setup: [
        { from: 'client', data: `${JSON.stringify(login)}\n` },
        { from: 'server', data: `${JSON.stringify(loginResult('b88d0600'))}\n` },
        { from: 'server', data: `${JSON.stringify({ jsonrpc: '2.0', method: 'job', params: { blob: hex(152, 34), job_id: 'j2', target: le, algo: 'rx/0' } })}\n` },
      ],
      shareTimes: uniformTimes(20, 200, 12),
      submit: (i) => submit('j2', i),
      reply: () => ({ id: 2, jsonrpc: '2.0', error: null, result: { status: 'OK' } }),
      endAt: 200,
      serverPort: 5555,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s.sharesSubmitted).toBe(20);
    expect(s.hashesSubmitted! / 20).toBeCloseTo(difficulty, -1);
    expect(s.difficultyHistory.map((p) => p.raw)).toEqual(['b88d0600', le]);
    expectCovers(s, (20 * difficulty) / 200);
  });
});

describe('Ethash family', () => {
  it('EthProxy boundary: 30 shares at 1.2e9 hashes each in 600 s is 60 MH/s; the self-reported rate stays apart', async () => {
    const boundary = `0x${targetFor(1.2e9)}`;
    const header = `0x${hex(64, 25)}`;
    const packets = shareSession({
      setup: [
        { from: 'client', data: `${JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'eth_submitLogin', params: ['0xe6267ca7df03d731804fe7e9b512bedd130321c6.rig1', 'x'], worker: 'rig1' })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 1, jsonrpc: '2.0', result: true })}\n` },
        { from: 'client', data: `${JSON.stringify({ id: 5, jsonrpc: '2.0', method: 'eth_getWork', params: [] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 5, jsonrpc: '2.0', result: [header, `0x${hex(64, 26)}`, boundary] })}\n` },
        // The miner claims 100 MH/s: kept as self-reported, never mixed into the estimate.
        { from: 'client', data: `${JSON.stringify({ id: 9, jsonrpc: '2.0', method: 'eth_submitHashrate', params: ['0x5f5e100', `0x${hex(64, 31)}`], worker: 'rig1' })}\n` },
      ],
      shareTimes: uniformTimes(30, 600, 13),
      submit: (i) => ({ id: 40, jsonrpc: '2.0', method: 'eth_submitWork', params: [`0x${hex(16, 500 + i)}`, header, `0x${hex(64, 600 + i)}`], worker: 'rig1' }),
      reply: () => ({ id: 40, jsonrpc: '2.0', result: true }),
      endAt: 600,
      endLine: { id: 5, jsonrpc: '2.0', method: 'eth_getWork', params: [] },
      serverPort: 8008,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s).toMatchObject({ dialect: 'ethproxy', algo: 'ethash', sharesSubmitted: 30, sharesAccepted: 30, selfHashrate: 100e6, selfHashrateReports: 1, worker: 'rig1' });
    expect(s.difficultyHistory[0]!.hashesPerShare!).toBeCloseTo(1.2e9, -3);
    expect(s.estHashrate! / 60e6).toBeCloseTo(1, 2);
    expectCovers(s, 60e6);
  });

  it('EthereumStratum/1.0.0: set_difficulty in units of 2^32 hashes', async () => {
    const packets = shareSession({
      setup: [
        { from: 'client', data: `${JSON.stringify({ id: 1, method: 'mining.subscribe', params: ['lolMiner/1.88', 'EthereumStratum/1.0.0'] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 1, result: [['mining.notify', 'e799836b25e38747', 'EthereumStratum/1.0.0'], 'a7c1'], error: null })}\n` },
        { from: 'client', data: `${JSON.stringify({ id: 3, method: 'mining.authorize', params: ['0xe6267ca7df03d731804fe7e9b512bedd130321c6.rig1', 'x'] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 3, result: true, error: null })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: null, method: 'mining.set_difficulty', params: [2] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: null, method: 'mining.notify', params: ['3e9f01', hex(64, 21), hex(64, 22), true] })}\n` },
      ],
      shareTimes: uniformTimes(40, 400, 14),
      submit: (i) => ({ id: 4, method: 'mining.submit', params: ['0xe6267ca7df03d731804fe7e9b512bedd130321c6.rig1', '3e9f01', hex(12, 700 + i)] }),
      reply: () => ({ id: 4, result: true, error: null }),
      endAt: 400,
      serverPort: 3353,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s).toMatchObject({ dialect: 'ethstratum1', algo: 'ethash', sharesSubmitted: 40, sharesAccepted: 40 });
    expectCovers(s, (40 * 2 * TWO_32) / 400);
    expect(s.estHashrate! / ((40 * 2 * TWO_32) / 400)).toBeCloseTo(1, 2);
  });

  // ES2 acknowledges a share with a bare {"id": N}; the engine does not parse lines without a
  // "method" or "result" member, so acceptance is checked on the tracker (intel-tracker).
  it('EthereumStratum/2.0.0: mining.set target (leading zeros stripped), submits and self-reported rate', async () => {
    const h = 4e9;
    const target = targetFor(h).replace(/^0+/, ''); // ES2 sends hex without leading zeros
    const packets = shareSession({
      setup: [
        { from: 'client', data: `${JSON.stringify({ id: 0, method: 'mining.hello', params: { agent: 'ethminer-0.19.0', host: 'eu1.etc-pool.example', port: '115c', proto: 'EthereumStratum/2.0.0' } })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 0, result: { proto: 'EthereumStratum/2.0.0', encoding: 'plain', resume: '1', timeout: 'b4', maxerrors: '5', node: 'n1' } })}\n` },
        { from: 'client', data: `${JSON.stringify({ id: 1, method: 'mining.subscribe' })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 1, result: 's-5614619b' })}\n` },
        { from: 'client', data: `${JSON.stringify({ id: 3, method: 'mining.authorize', params: ['0xe6267ca7df03d731804fe7e9b512bedd130321c6.w12', 'x'] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 3, result: 'w-12' })}\n` },
        { from: 'server', data: `${JSON.stringify({ method: 'mining.set', params: { epoch: '1a4', target, algo: 'etchash', extranonce: 'af4c' } })}\n` },
        { from: 'server', data: `${JSON.stringify({ method: 'mining.notify', params: ['bf0488aa', 'fd2a1c', hex(64, 24), '1'] })}\n` },
        { from: 'client', data: `${JSON.stringify({ id: 9, method: 'mining.hashrate', params: ['3938700', 'w-12'] })}\n` },
      ],
      shareTimes: uniformTimes(25, 250, 15),
      submit: (i) => ({ id: 40 + i, method: 'mining.submit', params: ['bf0488aa', hex(12, 800 + i), 'w-12'] }),
      reply: (i) => ({ id: 40 + i }),
      endAt: 250,
      serverPort: 4444,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s).toMatchObject({
      dialect: 'ethstratum2',
      algo: 'etchash',
      sharesSubmitted: 25,
      sharesRejected: 0,
      selfHashrate: 0x3938700,
      poolHost: 'eu1.etc-pool.example',
    });
    expect(s.difficultyHistory[0]!.hashesPerShare!).toBeCloseTo(h, -3);
    expectCovers(s, (25 * h) / 250);
  });
});

describe('Equihash, KawPow, Grin, HTTP getwork', () => {
  it('Equihash set_target: solutions per second', async () => {
    const packets = shareSession({
      setup: [
        { from: 'client', data: `${JSON.stringify({ id: 1, method: 'mining.subscribe', params: ['EWBF/0.3.4b', null, 'zec-eu1.pool.example', '3357'] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 1, result: ['c3f0a1', 'f3b0d3c5'], error: null })}\n` },
        { from: 'client', data: `${JSON.stringify({ id: 2, method: 'mining.authorize', params: ['t1fAhZ7yFzF5HxUBL4ZzYpxvzbcuBUjhD2f.rig4', 'x'] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 2, result: true, error: null })}\n` },
        // powLimit 0007ff…: 2^13 = 8192 solutions per share.
        { from: 'server', data: `${JSON.stringify({ id: null, method: 'mining.set_target', params: [`0007${'f'.repeat(60)}`] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: null, method: 'mining.notify', params: ['4b2e', '04000000', hex(64, 8), hex(64, 9), hex(64, 10), '5a4d3c2b', '1d0fffff', true] })}\n` },
      ],
      shareTimes: uniformTimes(20, 400, 16),
      submit: (i) => ({ id: 100 + i, method: 'mining.submit', params: ['t1fAhZ7yFzF5HxUBL4ZzYpxvzbcuBUjhD2f.rig4', '4b2e', '5a4d3c2b', hex(56, 900 + i), `fd4005${hex(2688, 1000 + i)}`] }),
      reply: (i) => (i === 7 ? { id: 107, result: null, error: [21, 'Stale job!'] } : { id: 100 + i, result: true }),
      endAt: 400,
      serverPort: 3357,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s).toMatchObject({ algo: 'equihash', hashrateUnit: 'Sol/s', sharesSubmitted: 20, sharesAccepted: 19, sharesRejected: 1, sharesStale: 1 });
    expect(s.difficultyHistory[0]!.hashesPerShare!).toBeCloseTo(8192, 3);
    expectCovers(s, (20 * 8192) / 400);
  });

  it('KawPow: each notify carries its own target', async () => {
    const jobTarget = targetFor(2 ** 34);
    const packets = shareSession({
      setup: [
        { from: 'client', data: `${JSON.stringify({ id: 1, method: 'mining.subscribe', params: ['kawpowminer/1.2.4'] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 1, result: [null, '0a1b'], error: null })}\n` },
        { from: 'client', data: `${JSON.stringify({ id: 2, method: 'mining.authorize', params: ['RKUBjTcwBb6ZRjxxfDDBsdtW9BCLNTgGsT.gpu1', 'x'] })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 2, result: true, error: null })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: null, method: 'mining.notify', params: ['12ab', hex(64, 14), hex(64, 15), jobTarget, true, 3311250, '1b00f968'] })}\n` },
      ],
      shareTimes: uniformTimes(24, 240, 17),
      submit: (i) => ({ id: 5, method: 'mining.submit', params: ['RKUBjTcwBb6ZRjxxfDDBsdtW9BCLNTgGsT.gpu1', '12ab', `0x${hex(16, 1100 + i)}`, `0x${hex(64, 14)}`, `0x${hex(64, 1200 + i)}`] }),
      reply: () => ({ id: 5, result: true, error: null }),
      endAt: 240,
      serverPort: 3636,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s).toMatchObject({ algo: 'kawpow', sharesSubmitted: 24, sharesAccepted: 24 });
    expectCovers(s, (24 * 2 ** 34) / 240);
    // The shipped efficiency table prices it: the IP's power is its hashrate times the
    // kawpow row's energy per hash, inside the row's range.
    const intel = ipIntel(s.minerIp, [s], defaultIntelTables());
    const row = defaultEfficiencyTable().get('kawpow')!;
    expect(intel.powerMissingFor).toEqual([]);
    expect(intel.power!.watts).toBeGreaterThan(s.estHashrate! * row.joulesLow);
    expect(intel.power!.watts).toBeLessThan(s.estHashrate! * row.joulesHigh);
  });

  it('Grin: shares and replies are counted, but no hashrate is claimed without a verified conversion', async () => {
    const packets = shareSession({
      setup: [
        { from: 'client', data: `${JSON.stringify({ id: '0', jsonrpc: '2.0', method: 'login', params: { login: 'grinfarm.w3', pass: 'x', agent: 'grin-miner' } })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: '0', jsonrpc: '2.0', method: 'login', result: 'ok', error: null })}\n` },
        { from: 'server', data: `${JSON.stringify({ id: 'Stratum', jsonrpc: '2.0', method: 'job', params: { difficulty: 4, height: 1200345, job_id: 5, pre_pow: hex(448, 36) } })}\n` },
      ],
      shareTimes: uniformTimes(6, 60, 18),
      submit: (i) => ({ id: String(i + 1), jsonrpc: '2.0', method: 'submit', params: { edge_bits: 32, height: 1200345, job_id: 5, nonce: 8493028374 + i, pow: Array.from({ length: 42 }, (_, k) => 1000 + k * 7919) } }),
      reply: (i) => ({ id: String(i + 1), jsonrpc: '2.0', method: 'submit', result: 'ok', error: null }),
      endAt: 60,
      serverPort: 3416,
    });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s).toMatchObject({ dialect: 'grin', algo: 'cuckoo', sharesSubmitted: 6, sharesAccepted: 6, estHashrate: null, hashrateUnit: null, hashesSubmitted: null });
  });

  it('HTTP getwork: the little-endian share target of the work', async () => {
    const h = 2 ** 40;
    const leTarget = Buffer.from(targetFor(h), 'hex').reverse().toString('hex');
    const http = (head: string[], body: string): string => `${head.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const req = (body: string) => http(['POST / HTTP/1.1', 'Host: pool.example:8332', 'User-Agent: cgminer 4.11.1', 'Content-Type: application/json', 'X-Mining-Extensions: longpoll midstate rollntime submitold'], body);
    const res = (body: string) => http(['HTTP/1.1 200 OK', 'Content-Type: application/json'], body);
    const times = uniformTimes(12, 120, 19);
    const turns = [
      { from: 'client' as const, data: req(JSON.stringify({ method: 'getwork', params: [], id: 0 })) },
      { from: 'server' as const, data: res(JSON.stringify({ result: { data: hex(256, 40), target: leTarget, midstate: hex(64, 41), hash1: hex(128, 42) }, error: null, id: 0 })) },
    ];
    let clock = 0.004;
    times.forEach((t, i) => {
      turns.push({ from: 'client', data: req(JSON.stringify({ method: 'getwork', params: [hex(256, 1300 + i)], id: i + 1 })), gapMicros: Math.round((t - clock) * 1e6) } as never);
      turns.push({ from: 'server', data: res(JSON.stringify({ result: i !== 4, error: null, id: i + 1 })) });
      clock = t + 0.001;
    });
    turns.push({ from: 'client', data: req(JSON.stringify({ method: 'getwork', params: [], id: 99 })), gapMicros: Math.round((120 - clock) * 1e6) } as never);
    const packets = (await import('./support/pipeline.js')).conversation({ turns, serverPort: 8332 });
    const s = only((await replayBytes(captureOf([packets]))).sessions);
    expect(s).toMatchObject({ dialect: 'getwork', sharesSubmitted: 12, sharesAccepted: 11, sharesRejected: 1 });
    expect(s.difficultyHistory[0]!.hashesPerShare!).toBeCloseTo(h, -3);
    expectCovers(s, (12 * h) / 120);
  });
});

describe('storage', () => {
  it('a second replay of the same capture stores no session twice', async () => {
    const packets = shareSession({
      setup: v1Setup(65536),
      shareTimes: uniformTimes(10, 60, 21),
      submit: (i) => v1Submit('acct7.rig1', '1a7f', i),
      reply: () => ({ id: 4, result: true, error: null }),
      endAt: 60,
      serverPort: 3333,
    });
    const bytes = captureOf([packets]);
    const db = tempDb('twice');
    await replayBytes(bytes, db);
    const again = await replayBytes(bytes, db);
    expect(again.sessions).toHaveLength(1);
    const store = HitStore.open(db, { readonly: true });
    expect(store.sessions.count()).toBe(1);
    store.close();
  });

  it('a flow still open at the end of the input is stored when the sensor finishes', async () => {
    const packets = shareSession({
      setup: v1Setup(65536),
      shareTimes: uniformTimes(5, 30, 22),
      submit: (i) => v1Submit('acct7.rig1', '1a7f', i),
      reply: () => ({ id: 4, result: true, error: null }),
      endAt: 30,
      serverPort: 3333,
    });
    // Drop the close: the conversation just stops.
    const open = packets.slice(0, -3);
    const s = only((await replayBytes(captureOf([open]))).sessions);
    expect(s.endReason).toBe('flush');
    expect(s.sharesSubmitted).toBe(5);
  });
});
