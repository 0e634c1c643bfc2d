/**
 * The installed command (bin/minewatch.cjs → dist/bundle/, built by `npm run build`, which
 * `npm ci` runs): the tests elsewhere run src/ through tsx, so this checks that the bundle
 * a user runs replays in one process and in workers, finds the bundled miners, and reads the
 * shipped signatures from its place in dist/; that V8 takes the code caches the build saved
 * under the command's Node options (and only under them) and ignores one that does not fit;
 * that the command starts (under BusyBox's sh and env too) without NODE_EXTRA_CA_CERTS, with
 * those options and V8's helper threads one fewer than the cores; that crypto, zlib,
 * child_process, worker_threads, stream and pino load only when used; and that an unbuilt
 * clone says how to build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundledCaptures } from '../src/synth/scenarios/bundle.js';
import { writeTrafficMix } from '../src/synth/scenarios/traffic-mix.js';
import { COMMAND_NODE_OPTIONS } from '../src/util/node-options.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { scratchDir } from './support/scratch.js';

const BIN = join(PROJECT_ROOT, 'bin', 'minewatch.cjs');
const BUNDLES = join(PROJECT_ROOT, 'dist', 'bundle');
const LOADER = pathToFileURL(join(PROJECT_ROOT, 'dist', 'util', 'bundle-loader.js')).href;

/** Node as the command starts it (bin/minewatch.cjs's first line). */
const NODE = [process.execPath, ...COMMAND_NODE_OPTIONS];

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(NODE[0]!, [...NODE.slice(1), BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the built command', () => {
  it('is built (npm ci runs npm run build), with code caches V8 takes', () => {
    for (const name of ['minewatch', 'shard-worker']) {
      const bundle = join(PROJECT_ROOT, 'dist', 'bundle', `${name}.cjs`);
      expect(existsSync(bundle), `${bundle} is missing: run npm run build`).toBe(true);
      expect(existsSync(`${bundle}.cache`), `${bundle}.cache is missing: run npm run build`).toBe(true);
    }
    // In a node with the command's options (not under the test runner's flags), and in a
    // worker thread as the shard workers load theirs; a node with other V8 flags is refused
    // them, which is why everything that runs the bundle passes the same options.
    const check = `
      const { Worker } = require('node:worker_threads');
      const loader = ${JSON.stringify(LOADER)};
      const boot = 'import(' + JSON.stringify(loader) + ').then((m) => require("node:worker_threads").parentPort.postMessage(m.compileBundle("shard-worker").cacheAccepted))';
      import(loader).then((m) => {
        const main = m.compileBundle('minewatch').cacheAccepted;
        new Worker(boot, { eval: true }).on('message', (worker) => console.log(JSON.stringify({ main, worker })));
      });`;
    const accepted = (options: readonly string[]): unknown => {
      const r = spawnSync(process.execPath, [...options, '-e', check], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    expect(accepted(COMMAND_NODE_OPTIONS)).toEqual({ main: true, worker: true });
    expect(accepted([])).toEqual({ main: false, worker: false });
  });

  it('stamps each bundle with the SHA-256 of its content, and keeps it ASCII', () => {
    for (const name of ['minewatch', 'shard-worker', 'loader']) {
      const source = readFileSync(join(BUNDLES, `${name}.cjs`), 'latin1');
      const newline = source.indexOf('\n');
      const stamp = /^\/\/ minewatch build ([0-9a-f]{64})$/.exec(source.slice(0, newline));
      expect(stamp, name).not.toBeNull();
      expect(stamp![1]).toBe(createHash('sha256').update(source.slice(newline + 1), 'latin1').digest('hex'));
      expect(/[^\x00-\x7f]/.test(source), name).toBe(false);
    }
  });

  it('hands V8 a code cache only for the bundle it was made from, and still runs without one', () => {
    const built = join(BUNDLES, 'minewatch.cjs');
    const source = readFileSync(built, 'latin1');
    const { mtime } = statSync(built);
    const version = /\.version\("(\d+\.\d+\.\d+)"\)/.exec(source)![1]!;
    const other = version.replace(/\d/g, (d) => String((Number(d) + 1) % 10));
    // Another build of the very same length (V8 itself tells sources apart by length only).
    const edited = source.replace(`.version("${version}")`, `.version("${other}")`);
    const body = edited.slice(edited.indexOf('\n') + 1);
    const rebuilt = `// minewatch build ${createHash('sha256').update(body, 'latin1').digest('hex')}\n${body}`;
    const cache = readFileSync(`${built}.cache`);
    const cases: { what: string; bundle: string; cache: Buffer; sameTime: boolean; accepted: boolean }[] = [
      { what: 'the bundle copied with its time', bundle: source, cache, sameTime: true, accepted: true },
      { what: 'a rebuild given the same time', bundle: rebuilt, cache, sameTime: true, accepted: false },
      { what: 'an edit that keeps the stamp', bundle: edited, cache, sameTime: false, accepted: false },
      { what: "another bundle's cache", bundle: rebuilt, cache: readFileSync(join(BUNDLES, 'shard-worker.cjs.cache')), sameTime: false, accepted: false },
      { what: 'garbage', bundle: rebuilt, cache: Buffer.from('not a code cache'), sameTime: false, accepted: false },
    ];
    for (const c of cases) {
      const dir = scratchDir('minewatch-cache-');
      symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules')); // better-sqlite3's addon and `pcap` are loaded from there
      writeFileSync(join(dir, 'minewatch.cjs'), c.bundle, 'latin1');
      if (c.sameTime) utimesSync(join(dir, 'minewatch.cjs'), mtime, mtime);
      writeFileSync(join(dir, 'minewatch.cjs.cache'), c.cache);
      // A process each: V8 keeps compiled sources per process and would not look at the
      // second cache at all.
      const boot = `import(${JSON.stringify(LOADER)}).then((m) => {
        process.stderr.write('cache accepted: ' + m.compileBundle('minewatch', ${JSON.stringify(dir)}).cacheAccepted + '\\n');
        m.runBundle('minewatch', ${JSON.stringify(dir)});
      })`;
      // argv as the command gets it: node, a script name, then the arguments.
      const r = spawnSync(NODE[0]!, [...NODE.slice(1), '-e', boot, 'minewatch', '--version'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr, c.what).toBe(`cache accepted: ${c.accepted}\n`);
      expect(r.stdout.trim(), c.what).toBe(c.bundle === source ? version : other);
    }
  });

  /** A waiting command (a replay of standard input, kept open): its threads and its argv. */
  const waiting = async (argv: string[]): Promise<{ threads: number; argv: string[] }> => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    try {
      child.stdin.write(readFileSync(join(PROJECT_ROOT, 'captures', 'mining-mix.pcapng')).subarray(0, 4096));
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(child.exitCode).toBeNull();
      return {
        threads: readdirSync(`/proc/${child.pid}/task`).length,
        argv: readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').slice(0, -1),
      };
    } finally {
      child.kill();
    }
  };
  const replayStdin = (): string[] => ['replay', '-q', '--db', join(scratchDir('minewatch-pool-'), 'pool.db'), '-'];

  it("runs V8's helper threads one fewer than the cores", async () => {
    // The same command under explicit pool sizes and as the executable.
    const one = (await waiting([process.execPath, '--v8-pool-size=1', BIN, ...replayStdin()])).threads;
    const four = (await waiting([process.execPath, '--v8-pool-size=4', BIN, ...replayStdin()])).threads;
    expect(four - one).toBe(3);
    const helpers = Math.max(1, availableParallelism() - 1);
    expect((await waiting([BIN, ...replayStdin()])).threads).toBe(one + helpers - 1);
  });

  it("starts Node with src/util/node-options.ts's options, under which the code caches were made", async () => {
    const args = replayStdin();
    const { argv } = await waiting([BIN, ...args]);
    expect(argv).toEqual(['node', ...COMMAND_NODE_OPTIONS, BIN, ...args]);
  });

  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((path) => existsSync(path));
  it.skipIf(!busybox)("starts under BusyBox's sh and env (Alpine's), whose env has no -S", () => {
    const applets = scratchDir('minewatch-busybox-');
    for (const applet of ['sh', 'env']) symlinkSync(busybox!, join(applets, applet));
    const env = { ...process.env, PATH: `${applets}:${process.env.PATH}`, NODE_EXTRA_CA_CERTS: join(tmpdir(), 'minewatch-no-such-ca.pem') };
    const r = spawnSync(join(applets, 'sh'), [BIN, 'replay', '-q', '--db', join(applets, 'bb.db'), join(PROJECT_ROOT, 'captures', 'mining-mix.pcapng')], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/sessions stored: \d+/);
  });

  it('starts without reading NODE_EXTRA_CA_CERTS (it opens no TLS connection)', () => {
    // Node reads the file before any script runs and warns when it cannot; the command's
    // shell line removes the variable, so the warning must not appear.
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: join(tmpdir(), 'minewatch-no-such-ca.pem') };
    const plain = spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8', env });
    expect(plain.stderr).toContain('Ignoring extra certs');
    const r = spawnSync(BIN, ['--version'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('replays the bundled capture in one process and in two workers, with the same miners', () => {
    const capture = bundledCaptures().find((c) => c.file === 'mining-mix.pcapng')!;
    const dir = scratchDir('minewatch-built-');
    const miners = (workers: number): string[] => {
      const r = run(['replay', '--db', join(dir, `w${workers}.db`), '--json', '-q', '--workers', String(workers), join(PROJECT_ROOT, 'captures', capture.file)]);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as { workers: number; miners: { ip: string }[] };
      expect(summary.workers).toBe(workers);
      return summary.miners.map((m) => m.ip).sort();
    };
    const one = miners(1);
    expect(one).toEqual(capture.miners.map((m) => m.miner).sort());
    expect(miners(2)).toEqual(one);
  });

  it('loads crypto, zlib, child_process, worker_threads, stream and pino only when a replay uses them', async () => {
    const dir = scratchDir('minewatch-built-');
    // A little of the benchmark's mix: TLS downloads among its flows, and planted miners.
    const mix = await writeTrafficMix(join(dir, 'mix.pcap'), { seed: 3, sizeBytes: 2_000_000 });
    const hook = join(dir, 'record-modules.cjs');
    writeFileSync(hook, "process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_OUT, process.moduleLoadList.join('\\n')));\n");
    // pino is bundled; what it loads (assert, worker_threads) shows whether it ran.
    const lazy = ['crypto', 'zlib', 'child_process', 'worker_threads', 'stream', 'assert'];
    const replay = (input: string, name: string): { miners: string[]; builtins: Set<string>; log: string } => {
      const out = join(dir, `${name}.modules`);
      const r = spawnSync(NODE[0]!, [...NODE.slice(1), '-r', hook, BIN, 'replay', '--db', join(dir, `${name}.db`), '--json', '-q', input], {
        encoding: 'utf8',
        env: { ...process.env, MODULES_OUT: out },
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const loaded = readFileSync(out, 'utf8').split('\n');
      const builtins = new Set(lazy.filter((m) => loaded.includes(`NativeModule ${m}`)));
      return { miners: (JSON.parse(r.stdout) as { miners: { ip: string }[] }).miners.map((m) => m.ip).sort(), builtins, log: r.stderr };
    };
    const bytes = readFileSync(mix.path);
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, bytes.subarray(0, 24)); // the file header only
    const gz = join(dir, 'mix.pcap.gz');
    writeFileSync(gz, gzipSync(bytes));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10)); // ends inside a record: a warning
    expect(replay(empty, 'empty')).toEqual({ miners: [], builtins: new Set(), log: '' });
    // Gzip needs zlib and streams, and the TLS hellos crypto (JA3/JA4): all arrive on first
    // use. (The summary goes into a pipe here, without a stream.)
    const gzip = replay(gz, 'gzip');
    expect(gzip).toEqual({ miners: mix.miners.map((m) => m.miner).sort(), builtins: new Set(['crypto', 'zlib', 'stream']), log: '' });
    // The warning is pino's line, from the pino the stand-in loaded on first use.
    const warned = replay(cut, 'cut');
    expect(warned.miners).toEqual(gzip.miners);
    expect(warned.builtins.has('worker_threads') && warned.builtins.has('assert')).toBe(true);
    const line = JSON.parse(warned.log.trim()) as { level: number; name: string; file: string; msg: string };
    expect(line).toMatchObject({ level: 40, name: 'minewatch', file: cut });
    expect(line.msg).toMatch(/^input ends inside a record at offset \d+/);
  });

  it('says how to build when there is nothing built', () => {
    // bin/ alone, as in a clone before npm ci.
    const dir = scratchDir('minewatch-unbuilt-');
    mkdirSync(join(dir, 'bin'));
    copyFileSync(BIN, join(dir, 'bin', 'minewatch.cjs'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'minewatch.cjs'), '--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('minewatch: not built yet: run npm ci (or npm run build) in the project folder\n');
  });

  it('checks the shipped signatures from dist/', () => {
    const r = run(['signatures', 'check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\d+ wildcard domains, .*\d+ evidence rules\nok/);
  });
});
