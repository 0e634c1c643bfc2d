/**
 * Two network namespaces joined by a veth pair, for live-capture tests and the live
 * benchmark: all traffic stays between them. Names are unique per call; destroy() removes
 * both namespaces (and with them the veth pair) and is safe to call more than once.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadPcapModule } from '../../src/capture/pcap-backend.js';

export interface VethPair {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  /** Documentation addresses (RFC 5737) on each end. */
  ipA: string;
  ipB: string;
}

/** Root, and `ip netns` works: what the live tests need. */
export function netnsAvailable(): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  const r = spawnSync('ip', ['netns', 'list'], { stdio: 'ignore', timeout: 5000 });
  return r.status === 0;
}

export function toolAvailable(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** Whether the optional pcap module (live capture) is installed and built. */
export function pcapLoads(): boolean {
  try {
    loadPcapModule();
    return true;
  } catch {
    return false;
  }
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
}

export function createVethPair(tag: string, ipA = '198.51.100.1', ipB = '198.51.100.2'): VethPair {
  const id = `${tag.slice(0, 4)}${randomBytes(3).toString('hex')}`;
  const pair: VethPair = { nsA: `mwtest-${id}-a`, nsB: `mwtest-${id}-b`, ifA: `mw${id}a`, ifB: `mw${id}b`, ipA, ipB };
  try {
    ip(['netns', 'add', pair.nsA]);
    ip(['netns', 'add', pair.nsB]);
    ip(['link', 'add', pair.ifA, 'netns', pair.nsA, 'type', 'veth', 'peer', 'name', pair.ifB, 'netns', pair.nsB]);
    ip(['-n', pair.nsA, 'addr', 'add', `${ipA}/24`, 'dev', pair.ifA]);
    ip(['-n', pair.nsB, 'addr', 'add', `${ipB}/24`, 'dev', pair.ifB]);
    for (const [ns, dev] of [
      [pair.nsA, pair.ifA],
      [pair.nsB, pair.ifB],
      [pair.nsA, 'lo'],
      [pair.nsB, 'lo'],
    ] as const) {
      ip(['-n', ns, 'link', 'set', dev, 'up']);
    }
    // IPv6 router solicitations and DAD would add stray packets to exact counts.
    for (const [ns, dev] of [
      [pair.nsA, pair.ifA],
      [pair.nsB, pair.ifB],
    ] as const) {
      spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`], { stdio: 'ignore' });
    }
  } catch (err) {
    destroyVethPair(pair);
    throw err;
  }
  return pair;
}

export function destroyVethPair(pair: VethPair | null | undefined): void {
  if (!pair) return;
  for (const ns of [pair.nsA, pair.nsB]) {
    // Anything still running inside would keep the namespace alive.
    spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      .stdout?.split('\n')
      .filter((p) => /^\d+$/.test(p.trim()))
      .forEach((p) => {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          // already gone
        }
      });
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
}

/** Runs a command inside a namespace to completion. */
export function nsRun(ns: string, cmd: string, args: string[], timeoutMs = 60_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Starts a command inside a namespace (`ip netns exec` execs it: the pid is the command's). */
export function nsSpawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Sets an interface down or up inside its namespace. */
export function setLink(ns: string, dev: string, state: 'up' | 'down'): void {
  ip(['-n', ns, 'link', 'set', dev, state]);
}
