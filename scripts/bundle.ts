/**
 * Bundles the compiled CLI (dist/) into dist/bundle/: one CommonJS file for the command, one
 * for the parallel-replay worker and one for the loader that runs them (bin/minewatch.cjs
 * requires it), stamps each with the SHA-256 of its content, then saves V8's code cache for
 * the first two (see src/util/bundle-loader.ts). Node then resolves a few modules instead of
 * ~150 plus each dependency's CommonJS export scan, and compiles almost nothing:
 * `minewatch --version` takes 0.25 s unbundled, 0.15 s bundled, 0.12 s bundled with the
 * cache (0.05-0.06 s with bin/minewatch.cjs's start-up line, 0.04 s with the lazy built-ins
 * below). Every replay, and every
 * worker of a parallel one, pays start-up once.
 *
 * better-sqlite3's JavaScript is bundled; its native addon and the optional pcap binding
 * are loaded from node_modules. The bundle sits two folders below the project root,
 * like dist/util/paths.js, so PROJECT_ROOT (and with it signatures/) resolves the same.
 */
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildStampLine, WRITE_CACHE_ENV } from '../src/util/bundle-loader.js';
import { PROJECT_ROOT } from '../src/util/paths.js';

// The sources are ES modules; in a CommonJS bundle import.meta.url is the bundle's own URL.
const banner = "const __minewatchUrl = require('node:url').pathToFileURL(__filename).href;";

/**
 * Built-in modules a replay does not need at start, loaded on first use instead: crypto (TLS
 * fingerprints, exports), zlib (gzip captures) and child_process (commander's external
 * subcommands, the live sensor's privilege drop) cost 4-5 ms of every start together. Each
 * import of one gets a stand-in whose properties (the module's export names, listed here at
 * build time by the Node that runs the bundle) load the real module when first read.
 */
const LAZY_BUILTINS = ['crypto', 'zlib', 'child_process'];
const lazyBuiltins: Plugin = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter }, (args) => {
      const name = args.path.replace(/^node:/, '');
      // The stand-in's own require is of the real module.
      if (args.namespace === 'lazy-builtin') return { path: `node:${name}`, external: true };
      return { path: name, namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const names = Object.keys(createRequire(import.meta.url)(`node:${args.path}`) as object);
      const getters = names.map((n) => `  ${JSON.stringify(n)}: { get: () => load()[${JSON.stringify(n)}], enumerable: true },`);
      return {
        contents: [
          'let real;',
          `const load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}));`,
          'Object.defineProperties(module.exports, {',
          ...getters,
          '});',
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

const entries: [string, string][] = [
  ['cli/main.js', 'minewatch'],
  ['parallel/shard-worker.js', 'shard-worker'],
  ['util/bundle-loader.js', 'loader'],
];

for (const [entry, name] of entries) {
  const outfile = join(PROJECT_ROOT, 'dist', 'bundle', `${name}.cjs`);
  // A build that fails after this point leaves no cache from the build before.
  rmSync(`${outfile}.cache`, { force: true });
  await build({
    entryPoints: [join(PROJECT_ROOT, 'dist', entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // better-sqlite3's JavaScript is bundled (its 13 files cost 3-4 ms of resolving and
    // reading at every start); its addon is loaded by path (store/hit-store.ts), so the finder
    // it would otherwise use, `bindings`, stays out.
    external: ['bindings', 'pcap'],
    define: { 'import.meta.url': '__minewatchUrl' },
    banner: { js: banner },
    logLevel: 'warning',
    plugins: [lazyBuiltins],
  });
  // The loader reads bundles as latin1, and V8 keeps an all-ASCII source at one byte per
  // character. esbuild escapes non-ASCII in strings and patterns but keeps comments as they
  // are; a \u escape means the same character anywhere in JavaScript, comments included.
  const code = readFileSync(outfile, 'utf8').replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  writeFileSync(outfile, buildStampLine(createHash('sha256').update(code).digest('hex')) + code, 'latin1');
}

// Warm runs on the bundled mix: the worker's cache from a run with two threads, then the
// command's from a run in one (the path a replay takes by default).
const dir = mkdtempSync(join(tmpdir(), 'minewatch-build-'));
try {
  for (const [name, workers] of [['shard-worker', 2], ['minewatch', 1]] as const) {
    const args = ['replay', '-q', '--workers', String(workers), '--db', join(dir, `${name}.db`), join(PROJECT_ROOT, 'captures', 'mining-mix.pcapng')];
    const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'minewatch.cjs'), ...args], {
      env: { ...process.env, [WRITE_CACHE_ENV]: name },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`warm run for the ${name} code cache failed: ${run.stderr || run.error?.message}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
