/**
 * Live capture rate on a veth pair (root; Linux with `ip netns`, tcpreplay, tcpdump).
 *
 *   node --import tsx scripts/live-bench.ts [--pps 50000,100000,200000,300000]
 *        [--packets 1000000] [--backends pcap,tcpdump] [--capture captures/mining-mix.pcapng]
 *
 * Two namespaces joined by a veth pair; tcpreplay sends the capture in a loop (every loop
 * starts its TCP sessions over, so the sensor does full detection work on each) from one
 * end at each rate, and the sensor reads the other end:
 *   pcap     `minewatch run` (the pcap backend): packets read, kernel drops from libpcap
 *   tcpdump  `tcpdump -U -B 65536 -w -` piped into `minewatch replay -`: packets read,
 *            kernel drops as tcpdump reports them at exit
 * Prints one line per run and a JSON summary. Nothing leaves the two namespaces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { COMMAND_NODE_OPTIONS } from '../src/util/node-options.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { createVethPair, destroyVethPair, netnsAvailable, nsRun, nsSpawn, type VethPair } from '../test/support/netns.js';

interface Result {
  backend: string;
  targetPps: number;
  sent: number;
  sentPps: number;
  read: number;
  kernelDropped: number;
  lost: number;
}

const MAIN = join(PROJECT_ROOT, 'src', 'cli', 'main.ts');
/** Node's options as the systemd unit and bin/minewatch.cjs give them. */
const NODE = [process.execPath, ...COMMAND_NODE_OPTIONS] as const;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const rates = arg('pps', '50000,100000,200000,300000').split(',').map(Number);
const packets = Number(arg('packets', '1000000'));
const backends = arg('backends', 'pcap,tcpdump').split(',');
const capture = join(PROJECT_ROOT, arg('capture', 'captures/mining-mix.pcapng'));

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

function replayAt(pair: VethPair, pps: number): { sent: number; sentPps: number } {
  const r = nsRun(pair.nsA, 'tcpreplay', ['-i', pair.ifA, '-K', `--pps=${pps}`, '--loop=0', `--limit=${packets}`, capture], 600_000);
  const sent = Number(/Actual: (\d+) packets/.exec(r.stdout)?.[1] ?? NaN);
  const sentPps = Number(/Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(r.stdout)?.[1] ?? NaN);
  if (!Number.isFinite(sent)) throw new Error(`tcpreplay failed: ${r.stderr || r.stdout}`);
  return { sent, sentPps: Math.round(sentPps) };
}

async function benchPcap(pair: VethPair, pps: number, dir: string): Promise<Result> {
  const statsFile = join(dir, `stats-${pps}.json`);
  const db = join(dir, `pcap-${pps}.db`);
  const sensor = nsSpawn(pair.nsB, NODE[0], [NODE[1], '--import', 'tsx', MAIN, 'run', '-i', pair.ifB, '--db', db, '--stats-file', statsFile, '--stats-interval', '0.5', '--log-level', 'warn'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; i < 100 && !existsSync(statsFile); i++) await sleep(100);
    if (!existsSync(statsFile)) throw new Error('the sensor did not start');
    const { sent, sentPps } = replayAt(pair, pps);
    // SIGTERM makes the sensor read what the kernel still holds and write its final stats.
    await sleep(500);
    sensor.kill('SIGTERM');
    await exited(sensor);
    const stats = readStats(statsFile);
    return { backend: 'pcap', targetPps: pps, sent, sentPps, read: stats.packets, kernelDropped: stats.kernelDropped, lost: sent - stats.packets };
  } finally {
    sensor.kill('SIGTERM');
    await exited(sensor);
  }
}

function readStats(path: string): { packets: number; kernelDropped: number } {
  return JSON.parse(readFileSync(path, 'utf8')) as { packets: number; kernelDropped: number };
}

async function benchTcpdump(pair: VethPair, pps: number, dir: string): Promise<Result> {
  const tcpdump = nsSpawn(pair.nsB, 'tcpdump', ['-i', pair.ifB, '-n', '-B', '65536', '-s', '65535', '-U', '-w', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const replay = spawn(NODE[0], [NODE[1], '--import', 'tsx', MAIN, 'replay', '-q', '--json', '--db', join(dir, `tcpdump-${pps}.db`), '-'], { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  tcpdump.stdout!.pipe(replay.stdin!);
  let err = '';
  let out = '';
  tcpdump.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  replay.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  for (let i = 0; i < 100 && !err.includes('listening on'); i++) await sleep(100);
  const { sent, sentPps } = replayAt(pair, pps);
  await sleep(2000);
  tcpdump.kill('SIGTERM');
  await Promise.all([exited(tcpdump), exited(replay)]);
  const kernelDropped = Number(/(\d+) packets? dropped by kernel/.exec(err)?.[1] ?? NaN);
  const read = (JSON.parse(out) as { packets: number }).packets;
  return { backend: 'tcpdump', targetPps: pps, sent, sentPps, read, kernelDropped, lost: sent - read };
}

async function main(): Promise<void> {
  if (!netnsAvailable()) throw new Error('needs root and `ip netns`');
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-bench-'));
  const pair = createVethPair('bnch');
  // Interrupted: still remove the namespaces (and everything running in them).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      destroyVethPair(pair);
      process.exit(130);
    });
  }
  const results: Result[] = [];
  try {
    for (const pps of rates) {
      for (const backend of backends) {
        const r = backend === 'pcap' ? await benchPcap(pair, pps, dir) : await benchTcpdump(pair, pps, dir);
        results.push(r);
        console.log(
          `${r.backend.padEnd(8)} target ${String(r.targetPps).padStart(7)} pps, sent ${r.sent} at ${r.sentPps} pps, read ${r.read}, kernel drops ${r.kernelDropped}, lost ${r.lost}`,
        );
      }
    }
  } finally {
    destroyVethPair(pair);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
