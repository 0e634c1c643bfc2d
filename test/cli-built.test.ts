/**
 * The installed command (bin/minewatch.js → dist/bundle/, built by `npm run build`, which
 * `npm ci` runs): the tests elsewhere run src/ through tsx, so this checks that the bundle
 * a user runs replays in one process and in workers, finds the bundled miners, and reads the
 * shipped signatures from its place in dist/; that V8 takes the code caches the build saved
 * and ignores one that does not fit; and that an unbuilt clone says how to build.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundledCaptures } from '../src/synth/scenarios/bundle.js';
import { PROJECT_ROOT } from '../src/util/paths.js';

const BIN = join(PROJECT_ROOT, 'bin', 'minewatch.js');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the built command', () => {
  it('is built (npm ci runs npm run build), with code caches V8 takes', () => {
    for (const name of ['minewatch', 'shard-worker']) {
      const bundle = join(PROJECT_ROOT, 'dist', 'bundle', `${name}.cjs`);
      expect(existsSync(bundle), `${bundle} is missing: run npm run build`).toBe(true);
      expect(existsSync(`${bundle}.cache`), `${bundle}.cache is missing: run npm run build`).toBe(true);
    }
    // In a plain node (as the command runs, not under the test runner's flags), and in a
    // worker thread as the shard workers load theirs.
    const check = `
      const { Worker } = require('node:worker_threads');
      const loader = ${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'dist', 'util', 'bundle-loader.js')).href)};
      const boot = 'import(' + JSON.stringify(loader) + ').then((m) => require("node:worker_threads").parentPort.postMessage(m.compileBundle("shard-worker").cacheAccepted))';
      import(loader).then((m) => {
        const main = m.compileBundle('minewatch').cacheAccepted;
        new Worker(boot, { eval: true }).on('message', (worker) => console.log(JSON.stringify({ main, worker })));
      });`;
    const r = spawnSync(process.execPath, ['-e', check], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ main: true, worker: true });
  });

  it('ignores a code cache that does not fit the bundle, and still runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'minewatch-cache-'));
    const built = join(PROJECT_ROOT, 'dist', 'bundle', 'minewatch.cjs');
    // Another build of the bundle of the very same length (V8 itself tells sources apart by
    // length only): with the real cache beside it, the stale bytecode must not run.
    const source = readFileSync(built, 'utf8');
    const version = /\.version\("(\d+\.\d+\.\d+)"\)/.exec(source)![1]!;
    const other = version.replace(/\d/g, (d) => String((Number(d) + 1) % 10));
    writeFileSync(join(dir, 'minewatch.cjs'), source.replace(`.version("${version}")`, `.version("${other}")`));
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules')); // better-sqlite3 is not bundled
    const caches = [
      readFileSync(`${built}.cache`), // made for the real bundle
      readFileSync(join(PROJECT_ROOT, 'dist', 'bundle', 'shard-worker.cjs.cache')), // another bundle
      Buffer.from('not a code cache'),
    ];
    for (const cache of caches) {
      writeFileSync(join(dir, 'minewatch.cjs.cache'), cache);
      // A process each: V8 keeps compiled sources per process and would not look at the
      // second cache at all.
      const loader = pathToFileURL(join(PROJECT_ROOT, 'dist', 'util', 'bundle-loader.js')).href;
      const boot = `import(${JSON.stringify(loader)}).then((m) => {
        process.stderr.write('cache accepted: ' + m.compileBundle('minewatch', ${JSON.stringify(dir)}).cacheAccepted + '\\n');
        m.runBundle('minewatch', ${JSON.stringify(dir)});
      })`;
      // argv as the command gets it: node, a script name, then the arguments.
      const r = spawnSync(process.execPath, ['-e', boot, 'minewatch', '--version'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('cache accepted: false\n');
      expect(r.stdout.trim()).toBe(other);
    }
  });

  it('replays the bundled capture in one process and in two workers, with the same miners', () => {
    const capture = bundledCaptures().find((c) => c.file === 'mining-mix.pcapng')!;
    const dir = mkdtempSync(join(tmpdir(), 'minewatch-built-'));
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

  it('says how to build when there is nothing built', () => {
    // bin/ alone, as in a clone before npm ci.
    const dir = mkdtempSync(join(tmpdir(), 'minewatch-unbuilt-'));
    mkdirSync(join(dir, 'bin'));
    copyFileSync(BIN, join(dir, 'bin', 'minewatch.js'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'minewatch.js'), '--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('minewatch: not built yet: run npm ci (or npm run build) in the project folder\n');
  });

  it('checks the shipped signatures from dist/', () => {
    const r = run(['signatures', 'check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\d+ wildcard domains, .*\d+ evidence rules\nok/);
  });
});
