/**
 * The contenders, each run as its own process on the same file: cat (the physical limit),
 * ndpiReader (the peer) and minewatch replay. Wall time is measured around the process;
 * peak RSS and CPU time (user + system, all threads) come from /usr/bin/time when present,
 * and minewatch also reports its own RSS.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMAND_NODE_OPTIONS } from '../../src/util/node-options.js';
import { PROJECT_ROOT } from '../../src/util/paths.js';

const TIME = '/usr/bin/time';

export interface Measurement {
  wallSeconds: number;
  /** Peak resident set size, when it could be measured. */
  maxRssBytes: number | null;
  /** CPU seconds of the process, every thread (V8's compiler and GC threads too). */
  cpuSeconds: number | null;
  stdout: string;
}

/** Runs a command to completion; throws when it fails. */
export function measure(command: string, args: string[], keepStdout = false, env?: NodeJS.ProcessEnv): Measurement {
  const scratch = mkdtempSync(join(tmpdir(), 'minewatch-bench-'));
  const timeFile = join(scratch, 'time');
  const withTime = existsSync(TIME);
  const argv = withTime ? [TIME, '-f', '%M %U %S', '-o', timeFile, command, ...args] : [command, ...args];
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'],
    env,
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  try {
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').trim().slice(0, 500)}`);
    // GNU time appends the figures (KiB, user and system seconds) as the last line.
    const [kib, user, system] = withTime ? readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) : [];
    const cpu = (user ?? NaN) + (system ?? NaN);
    return {
      wallSeconds,
      maxRssBytes: Number.isFinite(kib) ? kib! * 1024 : null,
      cpuSeconds: Number.isFinite(cpu) ? cpu : null,
      stdout: r.stdout ?? '',
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const SPIN = 'let x = 0; for (let i = 0; i < 1e8; i++) x = (x * 1103515245 + 12345) | 0; if (x === 7) console.log(x);';

/** Wall seconds for `count` CPU-bound processes started together. */
async function spinners(count: number): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: count }, () => new Promise<void>((resolve) => spawn(process.execPath, ['-e', SPIN], { stdio: 'ignore' }).on('exit', () => resolve()))),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * How many CPUs of throughput this machine gives us right now: `count` CPU-bound processes
 * at once, against one alone (count on an idle machine with count free cores; about 1 when
 * the other cores are busy or shared). Without it a parallel figure cannot be read.
 */
export async function usableCpus(count: number): Promise<number> {
  const alone = await spinners(1);
  const together = await spinners(count);
  return (count * alone) / together;
}

export function which(program: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * The path of ndpiReader, installing Debian's libndpi-bin when it is missing and we may
 * (root with apt-get); otherwise null and a line on how to get it.
 */
export function findNdpiReader(log: (line: string) => void): string | null {
  const found = which('ndpiReader');
  if (found) return found;
  if (process.getuid?.() === 0 && which('apt-get')) {
    log('ndpiReader is missing: installing libndpi-bin with apt-get ...');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'libndpi-bin'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const installed = which('ndpiReader');
    if (installed) return installed;
  }
  log('ndpiReader not found: install it (Debian/Ubuntu: sudo apt-get install libndpi-bin) to compare with the peer');
  return null;
}

/** "nDPI 4.2.0" from the banner, or "ndpiReader". */
export function ndpiVersion(path: string): string {
  const r = spawnSync(path, ['-h'], { encoding: 'utf8' });
  const m = /nDPI (\d+(?:\.\d+)+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  return m ? `ndpiReader ${m[1]}` : 'ndpiReader';
}

/**
 * How to start minewatch: the built, bundled CLI (rebuilt when src/ is newer) as a user runs
 * it, the executable bin/minewatch.cjs (its shell line drops NODE_EXTRA_CA_CERTS), or src/
 * through tsx.
 */
export function minewatchCommand(fromSource: boolean, log: (line: string) => void): string[] {
  if (fromSource) return [process.execPath, ...COMMAND_NODE_OPTIONS, '--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'main.ts')];
  const built = join(PROJECT_ROOT, 'dist', 'bundle', 'minewatch.cjs');
  if (!existsSync(built) || newestMtime(join(PROJECT_ROOT, 'src')) > statSync(built).mtimeMs) {
    log('building dist/ (npm run build) ...');
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('the build failed; fix it or run the benchmark with --from-source');
  }
  return [join(PROJECT_ROOT, 'bin', 'minewatch.cjs')];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The --json summary of `minewatch replay` (the fields the benchmark reads). */
export interface ReplayJson {
  packets: number;
  bytes: number;
  flows: number;
  flowsEvicted: number;
  seconds: number;
  workers: number;
  maxRssBytes: number;
  evidence: number;
}

export interface ReplayRun extends Measurement {
  summary: ReplayJson;
}

/** One `minewatch replay` into a fresh database at `db`. */
export function runReplay(minewatch: string[], file: string, db: string, workers: number, extra: string[] = []): ReplayRun {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
  const [command, ...args] = minewatch;
  const m = measure(command!, [...args, 'replay', '--db', db, '--json', '--quiet', '--workers', String(workers), ...extra, file], true);
  const summary = JSON.parse(m.stdout) as ReplayJson;
  return { ...m, maxRssBytes: m.maxRssBytes ?? summary.maxRssBytes, summary };
}
