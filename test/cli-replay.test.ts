/**
 * `minewatch replay` end to end as a user runs it: a real process, real files, a real
 * SQLite database; exit codes and messages for bad inputs; stdin and gzip inputs.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HitStore } from '../src/store/hit-store.js';
import { bundledCaptures } from '../src/synth/scenarios/bundle.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { scratchDir } from './support/scratch.js';

const MAIN = join(PROJECT_ROOT, 'src', 'cli', 'main.ts');
const MIX = join(PROJECT_ROOT, 'captures', 'mining-mix.pcapng');
const MIX_MINERS = bundledCaptures().find((c) => c.file === 'mining-mix.pcapng')!.miners.length;

/** `input`: bytes piped to standard input, or a file descriptor it is redirected from. */
function minewatch(args: string[], input?: Buffer | number): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    ...(typeof input === 'number' ? { stdio: [input, 'pipe', 'pipe'] } : { input }),
    encoding: 'buffer',
    cwd: PROJECT_ROOT,
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function tmp(): string {
  return scratchDir('minewatch-cli-');
}

describe('minewatch replay', () => {
  it('replays a bundled capture into SQLite and prints a summary', () => {
    const db = join(tmp(), 'hits.db');
    const r = minewatch(['replay', '--db', db, '--quiet', MIX]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/replayed 1 input\(s\): [\d,]+ packets/);
    expect(r.stdout).toMatch(new RegExp(`miner IPs: ${MIX_MINERS} `));
    expect(r.stdout).toContain('192.0.2.18');
    const store = HitStore.open(db, { readonly: true });
    expect(store.listIps({ role: 'miner' })).toHaveLength(MIX_MINERS);
    expect(store.listRuns()).toHaveLength(1);
    store.close();
  });

  it('--json summary, and a second replay of the same file stores nothing new', () => {
    const db = join(tmp(), 'hits.db');
    const first = JSON.parse(minewatch(['replay', '--db', db, '--json', '--quiet', MIX]).stdout);
    const second = JSON.parse(minewatch(['replay', '--db', db, '--json', '--quiet', MIX]).stdout);
    expect(first.hitsInserted).toBeGreaterThan(0);
    expect(second.hitsInserted).toBe(0);
    expect(second.evidence).toBe(first.evidence);
    expect(first.miners).toHaveLength(MIX_MINERS);
  });

  it('reads standard input ("-") and gzip-compressed captures', () => {
    const dir = tmp();
    const gz = join(dir, 'mix.pcapng.gz');
    writeFileSync(gz, gzipSync(readFileSync(MIX)));
    const viaStdin = JSON.parse(minewatch(['replay', '--db', join(dir, 'a.db'), '--json', '-q', '-'], readFileSync(MIX)).stdout);
    const viaGzip = JSON.parse(minewatch(['replay', '--db', join(dir, 'b.db'), '--json', '-q', gz]).stdout);
    expect(viaStdin.miners).toHaveLength(MIX_MINERS);
    expect(viaGzip.miners).toHaveLength(MIX_MINERS);
    expect(viaGzip.packets).toBe(viaStdin.packets);
  });

  it('reads standard input redirected from a file (plain or gzip) like the file itself', () => {
    const dir = tmp();
    const gz = join(dir, 'mix.pcapng.gz');
    writeFileSync(gz, gzipSync(readFileSync(MIX)));
    const notCapture = join(dir, 'notes.txt');
    writeFileSync(notCapture, 'these are not packets\n');
    const byPath = JSON.parse(minewatch(['replay', '--db', join(dir, 'a.db'), '--json', '-q', MIX]).stdout);
    // `skip` bytes of the file are read before minewatch starts: it must begin where the
    // descriptor stands, as `{ head -c N >/dev/null; minewatch replay -; } < file` would.
    const redirected = (file: string, db: string, skip = 0): ReturnType<typeof minewatch> => {
      const fd = openSync(file, 'r');
      try {
        if (skip > 0) readSync(fd, Buffer.alloc(skip), 0, skip, null);
        return minewatch(['replay', '--db', join(dir, db), '--json', '-q', '-'], fd);
      } finally {
        closeSync(fd);
      }
    };
    const prefix = Buffer.from('a preamble that is no capture\n');
    const afterPrefix = (file: string): string => {
      const joined = join(dir, `prefixed-${basename(file)}`);
      writeFileSync(joined, Buffer.concat([prefix, readFileSync(file)]));
      return joined;
    };
    const cases = [
      [MIX, 'b.db', 0],
      [gz, 'c.db', 0],
      [afterPrefix(MIX), 'e.db', prefix.length],
      [afterPrefix(gz), 'f.db', prefix.length],
    ] as const;
    for (const [file, db, skip] of cases) {
      const r = JSON.parse(redirected(file, db, skip).stdout);
      expect(r.packets).toBe(byPath.packets);
      expect(r.bytes).toBe(byPath.bytes);
      expect(r.evidence).toBe(byPath.evidence);
      expect(r.miners).toEqual(byPath.miners);
    }
    const bad = redirected(notCapture, 'd.db');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('minewatch: stdin: not a pcap or pcapng capture');
  });

  it('a missing or non-capture file gets a one-line error and exit 1; the other files still run', () => {
    const dir = tmp();
    const notCapture = join(dir, 'notes.txt');
    writeFileSync(notCapture, 'these are not packets\n');
    const db = join(dir, 'hits.db');
    const r = minewatch(['replay', '--db', db, '-q', join(dir, 'missing.pcap'), notCapture, MIX]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('minewatch:'));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('missing.pcap');
    expect(errors[1]).toContain('not a pcap or pcapng capture');
    expect(r.stdout).toMatch(new RegExp(`miner IPs: ${MIX_MINERS} `));
  });

  it('a truncated capture keeps the hits found before the cut and says so', () => {
    const dir = tmp();
    const bytes = readFileSync(MIX);
    const cut = join(dir, 'cut.pcapng');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6) + 3));
    const r = minewatch(['replay', '--db', join(dir, 'h.db'), '-q', cut]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('truncated');
    expect(Number(/miner IPs: (\d+)/.exec(r.stdout)?.[1])).toBeGreaterThan(0);
  });

  it('prints its summary into a pipe that is full and non-blocking, after what was in it', async () => {
    // A FIFO whose write end the replay gets non-blocking, filled to the brim first: the
    // summary's direct write would block, so it goes through the stream, which waits.
    const dir = tmp();
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    let filled = 0;
    const block = Buffer.alloc(4096, 0x2e);
    for (;;) {
      try {
        filled += writeSync(writer, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw err;
      }
    }
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'replay', '--db', join(dir, 'h.db'), '-q', '--json', MIX], {
      stdio: ['ignore', writer, 'pipe'],
      cwd: PROJECT_ROOT,
    });
    closeSync(writer);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Let the child reach its summary against the full pipe, then drain it.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(65536);
    for (let idle = 0; idle < 200; ) {
      let n = 0;
      try {
        n = readSync(reader, buf);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      if (n > 0) {
        chunks.push(Buffer.from(buf.subarray(0, n)));
        idle = 0;
      } else if (child.exitCode !== null) {
        if (n === 0 && chunks.length > 0) break;
        idle++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      } else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    closeSync(reader);
    expect(await exited, stderr).toBe(0);
    const out = Buffer.concat(chunks);
    expect(out.subarray(0, filled).every((b) => b === 0x2e)).toBe(true);
    const summary = JSON.parse(out.subarray(filled).toString()) as { miners: unknown[] };
    expect(summary.miners).toHaveLength(MIX_MINERS);
  });

  it('ends quietly, with its own status, when the reader of its output has gone', async () => {
    const dir = tmp();
    const run = async (args: string[]): Promise<{ code: number | null; stderr: string }> => {
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: PROJECT_ROOT });
      child.stdout.destroy(); // the reader closes before anything is written
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      return { code, stderr };
    };
    expect(await run(['replay', '--db', join(dir, 'a.db'), '-q', MIX])).toEqual({ code: 0, stderr: '' });
    expect(await run(['--help'])).toEqual({ code: 0, stderr: '' });
    // A replay with a failed input still says so, and still stores what it found.
    const failed = await run(['replay', '--db', join(dir, 'b.db'), '-q', join(dir, 'missing.pcap'), MIX]);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toEqual([expect.stringContaining('missing.pcap')]);
    const store = HitStore.open(join(dir, 'b.db'), { readonly: true });
    expect(store.listIps().filter((r) => r.role === 'miner')).toHaveLength(MIX_MINERS);
    store.close();
  });

  it('rejects an impossible option with exit 2', () => {
    const r = minewatch(['replay', '--db', join(tmp(), 'x.db'), '--max-flows', 'lots', MIX]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--max-flows');
  });

  it('the installed bin runs when built (npm ci builds dist/)', () => {
    if (!existsSync(join(PROJECT_ROOT, 'dist', 'bundle', 'minewatch.cjs'))) execFileSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT });
    // Run as an installed command is: the file itself, through its shell line.
    const out = execFileSync(join(PROJECT_ROOT, 'bin', 'minewatch.cjs'), ['--help'], { encoding: 'utf8' });
    expect(out).toContain('replay');
    expect(out).toContain('export');
    expect(out).toContain('show');
  });
});
