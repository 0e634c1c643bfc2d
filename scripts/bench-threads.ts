/**
 * `npm run bench:threads`: the CPU time of every thread of `minewatch replay` with one
 * worker and with N (Linux, from /proc: scripts/bench/thread-cpu.ts), on the benchmark's
 * input (same options as `npm run bench`: --size or --flood, --seed, --runs, --workers,
 * --out, --from-source). It shows where the "cores busy" of the bench go: the packet
 * thread, the replay's worker threads, and V8's helper (optimising compiler and garbage
 * collector). Node leaves the threads unnamed; the main thread is marked, the others are
 * listed by CPU time.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchCapture } from './bench/inputs.js';
import { benchArgs, captureSpec } from './bench/options.js';
import { machineLine, median } from './bench/report.js';
import { threadCpu, type ThreadRun } from './bench/thread-cpu.js';
import { measure, minewatchCommand } from './bench/tools.js';

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

async function main(): Promise<number> {
  if (process.platform !== 'linux') {
    process.stderr.write('bench:threads reads /proc/<pid>/task: Linux only\n');
    return 2;
  }
  const o = benchArgs(process.argv.slice(2));
  if (!o) return 2;
  const capture = await benchCapture(captureSpec(o), o.outDir, log);
  const [command, ...args] = minewatchCommand(o.fromSource, log);
  measure('cat', [capture.path]); // warms the page cache
  console.log(`input: ${capture.path}: ${(capture.bytes / 1e6).toFixed(1)} MB, ${capture.packets.toLocaleString('en-US')} packets`);
  console.log(`machine: ${machineLine()}`);
  const db = join(o.outDir, 'threads.db');
  const counts = o.workers > 1 ? [1, o.workers] : [1];
  const runs = new Map<number, ThreadRun[]>(counts.map((w) => [w, []]));
  for (let round = 1; round <= o.runs; round++) {
    log(`round ${round} of ${o.runs}`);
    for (const w of counts) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
      const run = await threadCpu(command!, [...args, 'replay', '--db', db, '--quiet', '--workers', String(w), capture.path]);
      if (run.exitCode !== 0) throw new Error(`minewatch replay --workers ${w} failed (exit ${run.exitCode})`);
      runs.get(w)!.push(run);
    }
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
  console.log(`runs: ${o.runs} per worker count, interleaved; CPU seconds (user + system) of each thread that used any, main thread first`);
  for (const [w, list] of runs) {
    console.log(`\n${w} worker${w === 1 ? '' : 's'}:`);
    for (const run of list) {
      const total = run.threads.reduce((s, t) => s + t.cpuSeconds, 0);
      const threads = run.threads.map((t) => `${t.main ? 'main ' : ''}${t.cpuSeconds.toFixed(2)}`).join(', ');
      console.log(`  wall ${run.wallSeconds.toFixed(2)} s, CPU ${total.toFixed(2)} s: ${threads}`);
    }
    const main = median(list.map((r) => r.threads[0]!.cpuSeconds));
    const others = median(list.map((r) => r.threads.slice(1).reduce((s, t) => s + t.cpuSeconds, 0)));
    console.log(`  median: wall ${median(list.map((r) => r.wallSeconds)).toFixed(2)} s; main thread ${main.toFixed(2)} s, the other threads ${others.toFixed(2)} s`);
  }
  return 0;
}

process.exitCode = await main();
