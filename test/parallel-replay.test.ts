/**
 * `minewatch replay --workers N` as a user runs it: the stored hits and sessions must be
 * exactly those of the single-worker run, on the bundled captures, on a generated mixed
 * capture (with DNS, whose answers detection learns from across flows) and, when present,
 * on the shared third-party captures.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDetections, sameResults } from '../scripts/bench/check.js';
import { bundledCaptures } from '../src/synth/scenarios/bundle.js';
import { writeTrafficMix, type GeneratedCapture } from '../src/synth/scenarios/traffic-mix.js';
import { dnsAnswer, dnsQuery } from '../src/synth/dns.js';
import type { TimedPacket, Turn } from '../src/synth/tcp-session.js';
import { applicationData, clientHelloRecord, serverHelloRecord } from '../src/synth/tls.js';
import { captureOf, conversation } from './support/pipeline.js';
import { PROJECT_ROOT, sharedCapturesDir } from '../src/util/paths.js';
import { scratchDir } from './support/scratch.js';

const MAIN = join(PROJECT_ROOT, 'src', 'cli', 'main.ts');
const BUNDLED = ['mining-mix.pcapng', 'encapsulations.pcapng', 'awkward-tcp.pcap'].map((f) => join(PROJECT_ROOT, 'captures', f));

interface Replayed {
  code: number;
  stderr: string;
  summary: { packets: number; flows: number; evidence: number; workers: number; miners: { ip: string }[]; detect: Record<string, number> };
}

function replay(db: string, workers: number, files: string[], input?: Buffer): Replayed {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'replay', '--db', db, '--json', '-q', '--workers', String(workers), ...files], {
    cwd: PROJECT_ROOT,
    input,
    encoding: 'buffer',
    timeout: 120_000,
  });
  const stdout = r.stdout.toString();
  return { code: r.status ?? -1, stderr: r.stderr.toString(), summary: stdout ? JSON.parse(stdout) : null };
}

/** Replays `files` with one worker and with `workers`, and compares what they stored. */
function compare(files: string[], workers: number): { one: Replayed; many: Replayed; dbOne: string; dbMany: string } {
  const dir = scratchDir('minewatch-parallel-');
  const dbOne = join(dir, 'one.db');
  const dbMany = join(dir, 'many.db');
  const one = replay(dbOne, 1, files);
  const many = replay(dbMany, workers, files);
  expect(one.code).toBe(0);
  expect(many.code).toBe(0);
  expect(many.summary.workers).toBe(workers);
  const same = sameResults(dbOne, dbMany);
  expect(same.hits).toBeGreaterThan(0);
  expect(same.same).toBe(true);
  for (const key of ['packets', 'flows', 'evidence'] as const) expect(many.summary[key]).toBe(one.summary[key]);
  // DNS every shard reads counts once, as in one worker.
  expect(many.summary.detect).toEqual(one.summary.detect);
  expect(many.summary.miners.map((m) => m.ip).sort()).toEqual(one.summary.miners.map((m) => m.ip).sort());
  return { one, many, dbOne, dbMany };
}

describe('replay --workers', () => {
  it('stores the same hits and sessions as one worker on the bundled captures (three workers, one run)', () => {
    const { many } = compare(BUNDLED, 3);
    expect(many.summary.miners).toHaveLength(bundledCaptures().reduce((n, c) => n + c.miners.length, 0));
  });

  describe('on a generated mixed capture', () => {
    let capture: GeneratedCapture;
    beforeAll(async () => {
      capture = await writeTrafficMix(join(scratchDir('minewatch-mix-'), 'mix.pcap'), { seed: 7, sizeBytes: 6e6 });
    });

    it('finds every planted miner and stores the same rows as one worker', () => {
      const { dbOne, dbMany } = compare([capture.path], 2);
      for (const db of [dbOne, dbMany]) {
        const check = checkDetections(db, capture.miners);
        expect(check.missing).toEqual([]);
        expect(check.unexpected).toEqual([]);
      }
    });
  });

  const shared = sharedCapturesDir();
  it.runIf(shared !== null)('stores the same rows as one worker on the shared third-party captures', () => {
    const files = ['mining', 'benign'].flatMap((sub) => readdirSync(join(shared!, sub)).map((f) => join(shared!, sub, f))).filter((f) => /\.pcap(ng)?$/.test(f));
    compare(files, 2);
  });

  it('reads DNS over TCP in every shard: the learned pool address tags a flow of another shard alike', () => {
    const dir = scratchDir('minewatch-parallel-');
    const framed = (msg: Buffer): Buffer => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);
    const t0 = 1_780_000_000_000_000;
    const parts: TimedPacket[][] = [
      conversation({
        turns: [
          { from: 'client', data: framed(dnsQuery(9, 'pool.supportxmr.com')) },
          { from: 'server', data: framed(dnsAnswer(9, 'pool.supportxmr.com', [{ type: 'A', name: 'pool.supportxmr.com', address: '203.0.113.81', ttl: 600 }])) },
        ],
        serverIp: '192.0.2.53',
        serverPort: 53,
        client: { ip: '192.0.2.44', port: 40123 },
        startMicros: t0,
        session: { mss: 9 },
      }),
    ];
    // Encrypted flows to the learned address from many clients: some land in each shard.
    for (let n = 0; n < 12; n++) {
      const turns: Turn[] = [{ from: 'client', data: clientHelloRecord({ alpn: [] }) }, { from: 'server', data: Buffer.concat([serverHelloRecord(), applicationData(900)]) }];
      for (let i = 0; i < 8; i++) turns.push({ from: 'client', data: applicationData(80, i), gapMicros: 10_000_000 }, { from: 'server', data: applicationData(300, i) });
      parts.push(conversation({ turns, serverIp: '203.0.113.81', serverPort: 443, client: { ip: `192.0.2.${100 + n}`, port: 50_000 + n }, startMicros: t0 + 1_000_000 + n * 1000 }));
    }
    const file = join(dir, 'dns-tcp.pcap');
    writeFileSync(file, captureOf(parts));
    const { one } = compare([file], 2);
    compare([file], 3);
    expect(one.summary.miners.length).toBeGreaterThan(1);
  });

  it('replays standard input and gzip files in workers too (their payload is copied into the rings)', () => {
    const dir = scratchDir('minewatch-parallel-');
    const gz = join(dir, 'mix.pcapng.gz');
    const bytes = readFileSync(BUNDLED[0]!);
    writeFileSync(gz, gzipSync(bytes));
    const runs = {
      stdin1: replay(join(dir, 'stdin1.db'), 1, ['-'], bytes),
      stdin2: replay(join(dir, 'stdin2.db'), 2, ['-'], bytes),
      gzip1: replay(join(dir, 'gzip1.db'), 1, [gz]),
      gzip3: replay(join(dir, 'gzip3.db'), 3, [gz]),
    };
    for (const r of Object.values(runs)) expect(r.code).toBe(0);
    expect(runs.stdin2.summary.workers).toBe(2);
    expect(runs.gzip3.summary.workers).toBe(3);
    for (const [one, many] of [['stdin1', 'stdin2'], ['gzip1', 'gzip3']] as const) {
      expect(runs[many].summary.packets).toBe(runs[one].summary.packets);
      expect(sameResults(join(dir, `${one}.db`), join(dir, `${many}.db`)).same).toBe(true);
    }
    expect(runs.stdin2.summary.miners).toHaveLength(bundledCaptures().find((c) => c.file === 'mining-mix.pcapng')!.miners.length);
  });

  it('rejects a worker count that is not a positive integer', () => {
    const db = join(scratchDir('minewatch-parallel-'), 'bad.db');
    for (const bad of [0, 1.5, 65]) {
      const r = replay(db, bad, [BUNDLED[0]!]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--workers must be an integer from 1 to 64');
    }
  });
});
