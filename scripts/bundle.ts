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
import { COMMAND_NODE_OPTIONS } from '../src/util/node-options.js';
import { PROJECT_ROOT } from '../src/util/paths.js';

// The sources are ES modules; in a CommonJS bundle import.meta.url is the bundle's own URL.
const banner = "const __minewatchUrl = require('node:url').pathToFileURL(__filename).href;";

/**
 * Modules a replay does not need at start, loaded on first use instead. Built-ins: crypto (TLS
 * fingerprints, exports), zlib (gzip captures), child_process (commander's external
 * subcommands, the live sensor's privilege drop), worker_threads (--workers) and stream
 * (gzip, pipes; the commands print through cli/output.ts, which makes process.stdout only
 * when asked); together 6-8 ms of every start. Packages: pino, which with what it loads
 * (worker_threads, assert, its streams) took another 3 ms, and a replay logs only notes and
 * a damaged capture's warnings. Each import of one gets a stand-in whose properties (the
 * module's export names, listed here at build time) load the real module when first read;
 * a module that is a function (pino) gets a function that does the same when called. A
 * built-in stays external; a package is still bundled, and esbuild runs its code only when
 * the stand-in first requires it.
 */
const LAZY_BUILTINS = ['crypto', 'zlib', 'child_process', 'worker_threads', 'stream'];
const LAZY_PACKAGES = ['pino'];
const LAZY = 'lazy-module';
const lazyModules: Plugin = {
  name: 'lazy-modules',
  setup(b) {
    const builtin = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    const pkg = new RegExp(`^(${LAZY_PACKAGES.join('|')})$`);
    b.onResolve({ filter: builtin }, (args) => {
      const name = `node:${args.path.replace(/^node:/, '')}`;
      // The stand-in's own require is of the real module.
      return args.namespace === LAZY ? { path: name, external: true } : { path: name, namespace: LAZY };
    });
    // From the stand-in, undefined: esbuild resolves and bundles the real package.
    b.onResolve({ filter: pkg }, (args) => (args.namespace === LAZY ? undefined : { path: args.path, namespace: LAZY }));
    b.onLoad({ filter: /.*/, namespace: LAZY }, (args) => {
      const real: unknown = createRequire(join(PROJECT_ROOT, 'package.json'))(args.path);
      const names = Object.keys(real as object);
      const getters = names.map((n) => `  ${JSON.stringify(n)}: { get: () => load()[${JSON.stringify(n)}], enumerable: true },`);
      return {
        contents: [
          'let real;',
          `const load = () => (real ??= require(${JSON.stringify(args.path)}));`,
          typeof real === 'function' ? 'module.exports = function () { return load().apply(this, arguments); };' : '',
          'Object.defineProperties(module.exports, {',
          ...getters,
          '});',
        ].join('\n'),
        loader: 'js',
        resolveDir: PROJECT_ROOT,
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
    plugins: [lazyModules],
  });
  // The loader reads bundles as latin1, and V8 keeps an all-ASCII source at one byte per
  // character. esbuild escapes non-ASCII in strings and patterns but keeps comments as they
  // are; a \u escape means the same character anywhere in JavaScript, comments included.
  const code = readFileSync(outfile, 'utf8').replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  writeFileSync(outfile, buildStampLine(createHash('sha256').update(code).digest('hex')) + code, 'latin1');
}

// Warm runs on the bundled mix: the worker's cache from a run with two threads, then the
// command's from a run in one (the path a replay takes by default). Under the command's
// Node options: V8 takes a cache only under the flags it was made with.
const dir = mkdtempSync(join(tmpdir(), 'minewatch-build-'));
try {
  for (const [name, workers] of [['shard-worker', 2], ['minewatch', 1]] as const) {
    const args = ['replay', '-q', '--workers', String(workers), '--db', join(dir, `${name}.db`), join(PROJECT_ROOT, 'captures', 'mining-mix.pcapng')];
    const run = spawnSync(process.execPath, [...COMMAND_NODE_OPTIONS, join(PROJECT_ROOT, 'bin', 'minewatch.cjs'), ...args], {
      env: { ...process.env, [WRITE_CACHE_ENV]: name },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`warm run for the ${name} code cache failed: ${run.stderr || run.error?.message}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
