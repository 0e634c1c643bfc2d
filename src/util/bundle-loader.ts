/**
 * Runs one of the CommonJS bundles in dist/bundle/ (scripts/bundle.ts) from V8's code cache.
 *
 * Compiling the 0.8 MB bundle, and then each function the first time it runs, is some 60 ms
 * of every replay's start (a 400 MB replay takes about 0.6 s). The build runs the bundled
 * capture once and saves the bytecode V8 made into `<bundle>.cache`; later runs hand it back
 * to V8, which checks that it was made by the same V8 with the same flags, and otherwise
 * ignores it and compiles as usual. V8 recognises "the same source" by its length only, so
 * a cache left from another build of the same length would run that build's code: the file
 * therefore starts with the SHA-256 of the source it was made from, and a cache whose hash
 * differs is not handed to V8 at all. A missing or stale cache costs only the time it would
 * have saved. Node 22 has this built in (module.enableCompileCache); Node 20 offers it only
 * for scripts, hence CommonJS bundles.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { isMainThread } from 'node:worker_threads';
import { PROJECT_ROOT } from './paths.js';

/** Set by the build (to a bundle name) to save that bundle's cache when the process ends. */
export const WRITE_CACHE_ENV = 'MINEWATCH_WRITE_CODE_CACHE';

export type BundleName = 'minewatch' | 'shard-worker';

/** Error code when the bundle was never built. */
export const NOT_BUILT = 'MINEWATCH_NOT_BUILT';

export const BUNDLE_DIR = join(PROJECT_ROOT, 'dist', 'bundle');

/** Compiles a bundle, from its code cache when V8 accepts it. */
export function compileBundle(name: BundleName, dir = BUNDLE_DIR): { script: Script; sourceHash: Buffer; cacheAccepted: boolean } {
  const file = join(dir, `${name}.cjs`);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw Object.assign(new Error(`${file} is missing: run npm run build (npm ci runs it)`), { code: NOT_BUILT });
  }
  const sourceHash = hashOf(source);
  let cachedData: Buffer | undefined;
  try {
    const cache = readFileSync(`${file}.cache`);
    if (cache.length > HASH_BYTES && cache.subarray(0, HASH_BYTES).equals(sourceHash)) cachedData = cache.subarray(HASH_BYTES);
  } catch {
    // No cache (not built yet, or removed): compile from source.
  }
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  return { script, sourceHash, cacheAccepted: cachedData !== undefined && script.cachedDataRejected === false };
}

const HASH_BYTES = 32;

function hashOf(source: string): Buffer {
  return createHash('sha256').update(source).digest();
}

/** Runs a bundle as the CommonJS module it is. */
export function runBundle(name: BundleName, dir = BUNDLE_DIR): void {
  const { script, sourceHash } = compileBundle(name, dir);
  const file = join(dir, `${name}.cjs`);
  // Saved after the run, so the cache holds every function the run compiled, not just the
  // top level: at exit for the command, whose run is asynchronous; right after the call
  // for a shard worker, whose run is synchronous.
  const saveCache =
    process.env[WRITE_CACHE_ENV] === name ? () => writeFileSync(`${file}.cache`, Buffer.concat([sourceHash, script.createCachedData()])) : null;
  if (saveCache && isMainThread) process.once('exit', saveCache);
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  if (saveCache && !isMainThread) saveCache();
}
