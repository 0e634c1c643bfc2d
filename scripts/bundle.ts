/**
 * Bundles the compiled CLI (dist/) into dist/bundle/: one CommonJS file for the command and
 * one for the parallel-replay worker, then saves V8's code cache for each (see
 * src/util/bundle-loader.ts). Node then resolves two modules instead of ~150 plus each
 * dependency's CommonJS export scan, and compiles almost nothing: `minewatch --version`
 * takes 0.25 s unbundled, 0.15 s bundled, 0.12 s bundled with the cache. Every replay, and
 * every worker of a parallel one, pays start-up once.
 *
 * better-sqlite3 (a native addon) and the optional pcap binding stay outside and are
 * loaded from node_modules as before. The bundle sits two folders below the project root,
 * like dist/util/paths.js, so PROJECT_ROOT (and with it signatures/) resolves the same.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WRITE_CACHE_ENV, type BundleName } from '../src/util/bundle-loader.js';
import { PROJECT_ROOT } from '../src/util/paths.js';

// The sources are ES modules; in a CommonJS bundle import.meta.url is the bundle's own URL.
const banner = "const __minewatchUrl = require('node:url').pathToFileURL(__filename).href;";

const entries: [string, BundleName][] = [
  ['cli/main.js', 'minewatch'],
  ['parallel/shard-worker.js', 'shard-worker'],
];

for (const [entry, name] of entries) {
  // A build that fails after this point leaves no cache from the build before.
  rmSync(join(PROJECT_ROOT, 'dist', 'bundle', `${name}.cjs.cache`), { force: true });
  await build({
    entryPoints: [join(PROJECT_ROOT, 'dist', entry)],
    outfile: join(PROJECT_ROOT, 'dist', 'bundle', `${name}.cjs`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['better-sqlite3', 'pcap'],
    define: { 'import.meta.url': '__minewatchUrl' },
    banner: { js: banner },
    logLevel: 'warning',
  });
}

// Warm runs on the bundled mix: the worker's cache from a run with two threads, then the
// command's from a run in one (the path a replay takes by default).
const dir = mkdtempSync(join(tmpdir(), 'minewatch-build-'));
try {
  for (const [name, workers] of [['shard-worker', 2], ['minewatch', 1]] as const) {
    const args = ['replay', '-q', '--workers', String(workers), '--db', join(dir, `${name}.db`), join(PROJECT_ROOT, 'captures', 'mining-mix.pcapng')];
    const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'minewatch.js'), ...args], {
      env: { ...process.env, [WRITE_CACHE_ENV]: name },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`warm run for the ${name} code cache failed: ${run.stderr || run.error?.message}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
