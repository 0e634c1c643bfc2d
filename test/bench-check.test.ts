/**
 * `npm run bench` in its CI mode (--check-only on a small capture), and the harness's own
 * option parsing and table. Speed is never asserted here, only detections.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, parseSize } from '../scripts/bench/options.js';
import { median, parallelCeiling, resultTable } from '../scripts/bench/report.js';
import { parseTaskStat, threadCpu } from '../scripts/bench/thread-cpu.js';
import { measure } from '../scripts/bench/tools.js';
import { timePasses } from '../scripts/bench/warmup-passes.js';
import { readCaptureFile } from '../src/capture/reader.js';
import { plantedMinerCount } from '../src/synth/scenarios/traffic-mix.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { scratchDir } from './support/scratch.js';

describe('npm run bench -- --check-only', () => {
  it('generates a small capture, replays it with 1 and 2 workers, and checks the detections', () => {
    const out = scratchDir('minewatch-bench-');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'bench.ts'), '--check-only', '--size', '3MB', '--workers', '2', '--from-source', '--out', out],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).toContain('generating');
    expect(r.status).toBe(0);
    const planted = plantedMinerCount(3e6);
    for (const w of ['1 worker(s)', '2 worker(s)']) expect(r.stdout).toContain(`detections, ${w}: ${planted} of ${planted} planted miner IPs found, 0 other IP(s)`);
    expect(r.stdout).toMatch(/1 worker and 2 workers store the same hits \(\d+ rows\) and sessions \(\d+ rows\)/);
    expect(r.stdout).toContain('checks: ok');
    expect(existsSync(join(out, 'mix-v2-s1-3000000.pcap'))).toBe(true);
  });
});

describe('npm run bench (timed)', () => {
  // As the bench decides (scripts/bench.ts, pinnedCpu): a second CPU, and taskset to confine to the last one.
  const cpus = availableParallelism();
  const taskset = cpus > 1 && spawnSync('taskset', ['-c', String(cpus - 1), 'true']).status === 0;
  it.skipIf(!taskset)('also times one worker confined to one core, where V8 shares the packet thread\'s core', () => {
    const out = scratchDir('minewatch-bench-');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'bench.ts'), '--size', '3MB', '--runs', '1', '--workers', '2', '--no-peer', '--from-source', '--out', out],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 180_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const row = (tool: string): string[] | undefined =>
      r.stdout
        .split('\n')
        .find((l) => l.startsWith(`| ${tool} |`))
        ?.split('|')
        .map((c) => c.trim());
    const pinned = row('minewatch replay, 1 worker, 1 core');
    expect(pinned).toBeDefined();
    // Confined to one core it cannot keep more than one busy; the free run's column says how many it did.
    expect(Number(pinned![5])).toBeLessThanOrEqual(1.05);
    expect(Number(row('minewatch replay, 1 worker')![5])).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/"minewatch replay, 1 worker, 1 core": taskset -c \d+;/);
    expect(r.stdout).toContain('checks: ok');
  });
});

describe('npm run bench:warmup passes', () => {
  it('replays a capture several times in one process, timing every pass and every slice of packets', async () => {
    const file = join(PROJECT_ROOT, 'captures', 'mining-mix.pcapng');
    const t = await timePasses(file, 3, 100);
    const packets = (await readCaptureFile(file, () => {})).packets;
    expect(packets).toBeGreaterThan(300);
    expect(t.packets).toBe(packets);
    expect(t.passSeconds).toHaveLength(3);
    for (const [i, slices] of t.sliceMs.entries()) {
      expect(slices).toHaveLength(Math.ceil(packets / 100));
      // The slices tile the pass: only the time before the first packet is outside them.
      const sum = slices.reduce((a, b) => a + b, 0);
      expect(sum).toBeLessThanOrEqual(t.passSeconds[i]! * 1000 + 1e-6);
      expect(sum).toBeGreaterThan(0);
    }
  });
});

describe('bench options', () => {
  it('reads sizes in decimal and binary units', () => {
    expect(parseSize('400MB')).toBe(400e6);
    expect(parseSize('4GB')).toBe(4e9);
    expect(parseSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('20000000')).toBe(2e7);
    expect(() => parseSize('lots')).toThrow(/not a size/);
  });

  it('has the documented defaults and flags', () => {
    const d = parseBenchArgs([]);
    expect(d).toMatchObject({ sizeBytes: 400e6, seed: 1, runs: 5, checkOnly: false, flood: false, floodFlows: 2_000_000 });
    expect(d.workers).toBeGreaterThanOrEqual(2);
    expect(parseBenchArgs(['--flood', '--runs', '1'])).toMatchObject({ flood: true, floodFlows: 2_000_000, runs: 1 });
    expect(parseBenchArgs(['--flood', '50000', '--no-peer'])).toMatchObject({ flood: true, floodFlows: 50_000, noPeer: true });
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(/at least 1/);
    expect(() => parseBenchArgs(['--frobnicate'])).toThrow(/unknown option/);
  });
});

/** CPU-bound loops of a fixed amount of work (about 0.2 and 0.4 CPU-s here). */
const LOOP = (n: number): string => `let x = 0; for (let i = 0; i < ${n}; i++) x = (x * 31 + i) | 0; if (x === 7) console.log(x);`;
const SPIN_MAIN_ONLY = LOOP(4e7);
const SPIN_TWO_THREADS = `new (require('node:worker_threads').Worker)(${JSON.stringify(LOOP(8e7))}, { eval: true }); ${LOOP(4e7)}`;

describe('bench report', () => {
  it('takes medians', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('prints throughput, RSS and ratios to the peer and to cat', () => {
    const table = resultTable(
      [
        { tool: 'cat', seconds: 0.1, maxRssBytes: 2e6, cpuSeconds: 0.1 },
        { tool: 'ndpiReader 4.2.0', seconds: 1, maxRssBytes: 120e6, cpuSeconds: null },
        { tool: 'minewatch replay, 1 worker', seconds: 0.4, replaySeconds: 0.25, maxRssBytes: 100e6, cpuSeconds: 0.5 },
      ],
      400e6,
      500_000,
      'ndpiReader 4.2.0',
    );
    expect(table).toContain('| cat | 4,000 | 5,000,000 | 2 MB | 1.00 | 10.00 | — |  |');
    expect(table).toContain('| ndpiReader 4.2.0 | 400 | 500,000 | 120 MB | n/a | — | 0.10 |  |');
    expect(table).toContain('| minewatch replay, 1 worker | 1,000 | 1,250,000 | 100 MB | 1.25 | 2.50 | 0.25 | 1,600 |');
  });

  it('bounds an N-core speed-up by CPU time: N cores give at most N CPU seconds a second', () => {
    // One run of 1 s wall that kept 1.25 cores busy: two cores could at best take 0.625 s.
    expect(parallelCeiling(2, 1, 1.25)).toBeCloseTo(1.6);
    // A parallel run that needed 1.9 CPU-s for the same work: 2 / 1.9 of one at best.
    expect(parallelCeiling(2, 1, 1.9)).toBeCloseTo(1.0526, 3);
  });

  // GNU time gives the figures (CI installs it); without it the bench prints n/a.
  it.skipIf(!existsSync('/usr/bin/time'))('measures the CPU time of every thread of a command, not just its wall time', () => {
    // A fixed amount of work on each of two threads (not a wall-clock spin: a busy machine
    // would then hand out less CPU): both count, and no more than two cores' worth.
    const m = measure(process.execPath, ['-e', SPIN_TWO_THREADS]);
    expect(m.maxRssBytes).toBeGreaterThan(1e6);
    const alone = measure(process.execPath, ['-e', SPIN_MAIN_ONLY]);
    expect(m.cpuSeconds! - alone.cpuSeconds!).toBeGreaterThan(0.05);
    expect(m.cpuSeconds!).toBeLessThan(m.wallSeconds * 2 + 0.1);
  });

  it('reads the name and CPU ticks of a thread from its /proc stat line, whatever the name holds', () => {
    // pid (comm) state ppid ... utime stime: fields 14 and 15.
    const line = '4242 (odd (name) x) R 1 4242 4242 0 -1 4194304 100 0 0 0 250 17 0 0 20 0 3 0 1000 0 0';
    expect(parseTaskStat(line)).toEqual({ name: 'odd (name) x', ticks: 267 });
  });

  it.skipIf(process.platform !== 'linux')('splits the CPU time of a process by thread: the main thread and a busy worker thread', async () => {
    const run = await threadCpu(process.execPath, ['-e', SPIN_TWO_THREADS]);
    expect(run.exitCode).toBe(0);
    expect(run.threads[0]!.main).toBe(true);
    expect(run.threads[0]!.cpuSeconds).toBeGreaterThan(0.05);
    // The worker did twice the main thread's loop: some other thread shows it.
    expect(Math.max(...run.threads.slice(1).map((t) => t.cpuSeconds))).toBeGreaterThan(0.05);
    expect(run.threads.reduce((sum, t) => sum + t.cpuSeconds, 0)).toBeLessThanOrEqual(run.wallSeconds * 2 + 0.1);
  });
});
