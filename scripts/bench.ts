/**
 * `npm run bench`: throughput, memory and correctness of `minewatch replay` against cat
 * (the physical limit) and ndpiReader (the peer) on a generated capture with planted
 * miners. See README "Performance". Options: scripts/bench/options.ts (--help).
 *
 * All tools read the same file from the page cache (one cat warms it), in interleaved
 * rounds so that a noisy neighbour hurts all of them alike; medians are quoted. The exit
 * status is non-zero only when detections are wrong (speed targets are reported, never
 * asserted).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { benchCapture } from './bench/inputs.js';
import { checkDetections, sameResults } from './bench/check.js';
import { benchArgs, captureSpec, type BenchOptions } from './bench/options.js';
import { machineLine, median, parallelCeiling, resultTable, type Row } from './bench/report.js';
import { findNdpiReader, measure, minewatchCommand, ndpiVersion, runReplay, usableCpus, type Measurement, type ReplayRun } from './bench/tools.js';
import type { GeneratedCapture } from '../src/synth/scenarios/traffic-mix.js';

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

async function main(): Promise<number> {
  const o = benchArgs(process.argv.slice(2));
  if (!o) return 2;
  const capture = await benchCapture(captureSpec(o), o.outDir, log);
  const minewatch = minewatchCommand(o.fromSource, log);
  const workerCounts = o.workers > 1 ? [1, o.workers] : [1];
  const scratch = mkdtempSync(join(tmpdir(), 'minewatch-bench-db-'));
  const dbOf = (workers: number, keep: boolean): string => join(scratch, `${keep ? 'kept' : 'run'}-${workers}.db`);
  measure('cat', [capture.path]); // warms the page cache

  console.log(`input: ${capture.path}: ${describe(capture)}`);
  console.log(`machine: ${machineLine()}`);
  try {
    const runs = new Map<number, ReplayRun[]>();
    const rows: Row[] = [];
    if (o.checkOnly) {
      for (const w of workerCounts) runs.set(w, [runReplay(minewatch, capture.path, dbOf(w, true), w)]);
    } else {
      const peer = o.noPeer ? null : findNdpiReader(log);
      const peerName = peer ? ndpiVersion(peer) : null;
      const times = new Map<string, { seconds: number[]; rss: (number | null)[]; cpu: (number | null)[] }>();
      const note = (tool: string, m: Measurement): void => {
        const t = times.get(tool) ?? { seconds: [], rss: [], cpu: [] };
        t.seconds.push(m.wallSeconds);
        t.rss.push(m.maxRssBytes);
        t.cpu.push(m.cpuSeconds);
        times.set(tool, t);
      };
      const usable: number[] = [];
      // One worker confined to one core as well: V8's compiler thread then shares the packet
      // thread's core, where unconfined it takes another (the "cores busy" column).
      const pin = pinnedCpu();
      const pinnedRuns: ReplayRun[] = [];
      for (let round = 1; round <= o.runs; round++) {
        log(`round ${round} of ${o.runs}`);
        if (workerCounts.length > 1) usable.push(await usableCpus(o.workers));
        const cat = measure('cat', [capture.path]);
        note('cat', cat);
        if (peer && peerName) {
          const m = measure(peer, ['-i', capture.path]);
          note(peerName, m);
        }
        for (const w of workerCounts) {
          const run = runReplay(minewatch, capture.path, dbOf(w, round === 1), w);
          runs.set(w, [...(runs.get(w) ?? []), run]);
          note(minewatchLabel(w), run);
        }
        if (pin !== null) {
          const run = runReplay(['taskset', '-c', String(pin), ...minewatch], capture.path, join(scratch, 'pinned.db'), 1);
          pinnedRuns.push(run);
          note(PINNED_LABEL, run);
        }
      }
      for (const [tool, t] of times) {
        const replays = tool === PINNED_LABEL ? pinnedRuns : [...runs.entries()].find(([w]) => minewatchLabel(w) === tool)?.[1];
        const rss = t.rss.filter((x): x is number => x !== null);
        const cpu = t.cpu.filter((x): x is number => x !== null);
        rows.push({
          tool,
          seconds: median(t.seconds),
          maxRssBytes: rss.length ? Math.max(...rss) : null,
          cpuSeconds: cpu.length ? median(cpu) : null,
          ...(replays ? { replaySeconds: median(replays.map((r) => r.summary.seconds)) } : {}),
        });
      }
      console.log(
        `runs: ${o.runs} per tool, interleaved; median wall clock of the whole process (start-up included), page cache warm; peak RSS is the largest of the runs;` +
          ' cores busy: median CPU time of all its threads over median wall time',
      );
      console.log('');
      console.log(resultTable(rows, capture.bytes, capture.packets, peerName));
      console.log('');
      if (pin !== null) console.log(`"${PINNED_LABEL}": taskset -c ${pin}; V8's compiler and collector threads share the packet thread's core`);
      const single = rows.find((r) => r.tool === minewatchLabel(1));
      const parallel = rows.find((r) => r.tool === minewatchLabel(o.workers));
      if (single && parallel && parallel !== single) {
        const wall = single.seconds / parallel.seconds;
        const replay = single.replaySeconds! / parallel.replaySeconds!;
        console.log(`${o.workers} workers vs 1: ${wall.toFixed(2)}x by wall clock, ${replay.toFixed(2)}x by replay time`);
        console.log(
          `machine check (each round): ${o.workers} CPU-bound processes at once did ${median(usable).toFixed(2)}x the work of one alone, median` +
            ` (range ${Math.min(...usable).toFixed(2)}–${Math.max(...usable).toFixed(2)}; ${o.workers}x on ${o.workers} idle cores of ${availableParallelism()}, ~1x when other work holds the rest)`,
        );
        if (single.cpuSeconds != null && parallel.cpuSeconds != null) printCeilings(o.workers, Math.min(o.workers, availableParallelism()), single, parallel);
      }
    }
    return report(o, capture, runs, dbOf);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** How far N threads could go on N cores, from the CPU times (report.ts, parallelCeiling). */
function printCeilings(workers: number, cores: number, single: Row, parallel: Row): void {
  const one = single.cpuSeconds!;
  const many = parallel.cpuSeconds!;
  const extra = ((many / one - 1) * 100).toFixed(0);
  console.log(
    `CPU time: 1 worker ${one.toFixed(2)} s (${(one / single.seconds).toFixed(2)} cores busy: its thread, and V8 compiling and collecting on others);` +
      ` ${workers} workers ${many.toFixed(2)} s (${Number(extra) >= 0 ? '+' : ''}${extra} %)`,
  );
  console.log(
    `ceiling on ${cores} cores: ${parallelCeiling(cores, single.seconds, one).toFixed(2)}x one worker if the threads shared its work with no overhead,` +
      ` ${parallelCeiling(cores, single.seconds, many).toFixed(2)}x at the CPU time the ${workers} workers took`,
  );
}

const PINNED_LABEL = 'minewatch replay, 1 worker, 1 core';

/** The CPU to confine the one-core run to (the last one), or null without taskset or a second CPU. */
function pinnedCpu(): number | null {
  const cpus = availableParallelism();
  if (cpus < 2 || spawnSync('taskset', ['-c', String(cpus - 1), 'true']).status !== 0) return null;
  return cpus - 1;
}

function minewatchLabel(workers: number): string {
  return `minewatch replay, ${workers} worker${workers === 1 ? '' : 's'}`;
}

function describe(c: GeneratedCapture): string {
  const kind = c.path.includes('flood-') ? 'flood (SYN flood + random UDP, one packet per flow)' : 'mixed traffic (HTTP, TLS, QUIC-like, DNS, bulk, short flows)';
  return `${(c.bytes / 1e6).toFixed(1)} MB, ${c.packets.toLocaleString('en-US')} packets (${Math.round(c.bytes / c.packets)} B/packet), ${kind}, ${c.miners.length} planted miners, seed ${c.seed}`;
}

/** Prints the detection and equality checks and the flood counters; the exit status. */
function report(o: BenchOptions, capture: GeneratedCapture, runs: Map<number, ReplayRun[]>, dbOf: (w: number, keep: boolean) => string): number {
  let ok = true;
  for (const [w, list] of runs) {
    const check = checkDetections(dbOf(w, true), capture.miners);
    const s = list[0]!.summary;
    const extra = check.ok ? '' : `; missing ${check.missing.join(' ') || '-'}; not planted ${check.unexpected.join(' ') || '-'}`;
    console.log(`detections, ${w} worker(s): ${check.found} of ${check.planted} planted miner IPs found, ${check.unexpected.length} other IP(s)${extra}`);
    if (o.flood) {
      console.log(`  flows ${s.flows.toLocaleString('en-US')}, evicted ${s.flowsEvicted.toLocaleString('en-US')}, peak RSS ${(list[0]!.maxRssBytes! / 1e6).toFixed(0)} MB`);
    }
    ok &&= check.ok;
  }
  if (runs.size > 1) {
    const same = sameResults(dbOf(1, true), dbOf(o.workers, true));
    console.log(`1 worker and ${o.workers} workers store ${same.same ? 'the same' : 'DIFFERENT'} hits (${same.hits} rows) and sessions (${same.sessions} rows)`);
    // Under eviction pressure the shards' tables fill differently; elsewhere results must match.
    if (!o.flood) ok &&= same.same;
  }
  console.log(ok ? 'checks: ok' : 'checks: FAILED');
  return ok ? 0 : 1;
}

process.exitCode = await main();
