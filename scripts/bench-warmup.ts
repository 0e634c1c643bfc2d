/**
 * `npm run bench:warmup`: where the time of a short replay goes (README "Where the time
 * goes"). On the benchmark's input (same options as `npm run bench`: --size or --flood,
 * --seed, --out) it measures
 *   - start-up: `node -e 0` and the built `minewatch --version`, medians of --runs (and
 *     `node -e 0` without NODE_EXTRA_CA_CERTS when it is set, as the command runs);
 *   - two passes over the input in one fresh process (scripts/bench/warmup-passes.ts): the
 *     first while V8 warms up, the second with optimised code, each per 100,000 packets.
 * Nothing is asserted; the figures vary with the machine's load like every timing here.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { benchCapture } from './bench/inputs.js';
import { benchArgs, captureSpec } from './bench/options.js';
import { machineLine, median } from './bench/report.js';
import { measure, minewatchCommand } from './bench/tools.js';
import type { PassTimings } from './bench/warmup-passes.js';
import { COMMAND_NODE_OPTIONS } from '../src/util/node-options.js';
import { PROJECT_ROOT } from '../src/util/paths.js';

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

async function main(): Promise<number> {
  const o = benchArgs(process.argv.slice(2));
  if (!o) return 2;
  const capture = await benchCapture(captureSpec(o), o.outDir, log);
  const [command, ...args] = minewatchCommand(false, log);
  measure('cat', [capture.path]); // warms the page cache
  const nodeAlone: number[] = [];
  const nodeWithoutCerts: number[] = [];
  const version: number[] = [];
  const { NODE_EXTRA_CA_CERTS: certs, ...withoutCerts } = process.env;
  for (let i = 0; i < o.runs; i++) {
    nodeAlone.push(measure(process.execPath, ['-e', '0']).wallSeconds);
    if (certs !== undefined) nodeWithoutCerts.push(measure(process.execPath, ['-e', '0'], false, withoutCerts).wallSeconds);
    version.push(measure(command!, [...args, '--version']).wallSeconds);
  }
  // Node's options as the command runs (bin/minewatch.cjs), and no extra certificates.
  const child = spawnSync(process.execPath, [...COMMAND_NODE_OPTIONS, '--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'bench', 'warmup-passes.ts'), capture.path], {
    env: withoutCerts,
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status !== 0) {
    process.stderr.write(child.stderr);
    return 1;
  }
  const t = JSON.parse(child.stdout) as PassTimings;
  const ms = (v: number): string => v.toFixed(0);
  console.log(`input: ${capture.path}: ${(capture.bytes / 1e6).toFixed(1)} MB, ${t.packets.toLocaleString('en-US')} packets`);
  console.log(`machine: ${machineLine()}`);
  const unset = nodeWithoutCerts.length > 0 ? ` (${median(nodeWithoutCerts).toFixed(3)} s without NODE_EXTRA_CA_CERTS, as minewatch runs)` : '';
  console.log(`start-up (median of ${o.runs}): node -e 0 ${median(nodeAlone).toFixed(3)} s${unset}, minewatch --version ${median(version).toFixed(3)} s`);
  for (const [i, seconds] of t.passSeconds.entries()) {
    const mbs = capture.bytes / 1e6 / seconds;
    console.log(`pass ${i + 1} (${i === 0 ? 'cold' : 'warm'}): ${seconds.toFixed(3)} s, ${mbs.toFixed(0)} MB/s; ms per ${t.slice.toLocaleString('en-US')} packets: ${t.sliceMs[i]!.map(ms).join(' ')}`);
  }
  if (t.passSeconds.length >= 2) {
    const cost = t.passSeconds[0]! - t.passSeconds[1]!;
    console.log(`warm-up: the cold pass took ${cost.toFixed(3)} s longer (${((100 * cost) / t.passSeconds[0]!).toFixed(0)} % of it)`);
  }
  return 0;
}

process.exitCode = await main();
