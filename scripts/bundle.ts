/**
 * Bundles the compiled CLI (dist/) into dist/bundle/: one file for the command and one for
 * the parallel-replay worker. Node then resolves and compiles two modules instead of ~150
 * plus each dependency's CommonJS export scan, which takes start-up from about 0.25 s to
 * 0.13 s; every replay, and every worker of a parallel one, pays start-up once.
 *
 * better-sqlite3 (a native addon) and the optional pcap binding stay outside and are
 * loaded from node_modules as before. The bundle sits two folders below the project root,
 * like dist/util/paths.js, so PROJECT_ROOT (and with it signatures/) resolves the same.
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/util/paths.js';

// Bundled CommonJS dependencies call require() for Node's built-ins.
const banner = "import { createRequire as __minewatchRequire } from 'node:module'; const require = __minewatchRequire(import.meta.url);";

const entries = [
  ['cli/main.js', 'minewatch.js'],
  ['parallel/shard-worker.js', 'shard-worker.js'],
] as const;

for (const [entry, out] of entries) {
  await build({
    entryPoints: [join(PROJECT_ROOT, 'dist', entry)],
    outfile: join(PROJECT_ROOT, 'dist', 'bundle', out),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'pcap'],
    banner: { js: banner },
    logLevel: 'warning',
  });
}
