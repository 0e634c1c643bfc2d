/**
 * Runs one of the CommonJS bundles in dist/bundle/ (scripts/bundle.ts) from V8's code cache.
 *
 * Compiling the 0.8 MB bundle, and then each function the first time it runs, is some 60 ms
 * of every replay's start (a 400 MB replay takes about half a second). The build runs the
 * bundled capture once and saves the bytecode V8 made into `<bundle>.cache`; later runs hand
 * it back to V8, which checks that it was made by the same V8 with the same flags, and
 * otherwise ignores it and compiles as usual. A missing or refused cache costs only the time
 * it would have saved. Node 22 has this built in (module.enableCompileCache); Node 20 offers
 * it only for scripts, hence CommonJS bundles.
 *
 * V8 recognises "the same source" by its length only, so a cache left from another build of
 * the same length would run that build's code. The build therefore stamps each bundle's first
 * line with the SHA-256 of its content, and a cache starts with that stamp and the bundle's
 * size and modification time (whole seconds, which a copy keeps exactly): a cache is handed
 * to V8 only when all three match, which a rebuild or an edit of the bundle breaks. (Hashing
 * the bundle here instead would load node:crypto and hash 0.8 MB on every start: 7 ms of a
 * 30 ms Node start.)
 *
 * The command's entry (bin/minewatch.cjs) and the shard workers load this file as its own
 * CommonJS bundle, dist/bundle/loader.cjs: an ES module entry costs Node another 5 ms.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { PROJECT_ROOT } from './paths.js';

/** Set by the build (to a bundle name) to save that bundle's cache when the process ends. */
export const WRITE_CACHE_ENV = 'MINEWATCH_WRITE_CODE_CACHE';

export type BundleName = 'minewatch' | 'shard-worker';

/** Error code when the bundle was never built. */
export const NOT_BUILT = 'MINEWATCH_NOT_BUILT';

export const BUNDLE_DIR = join(PROJECT_ROOT, 'dist', 'bundle');

/** The first line of every bundle: this prefix, 64 hex digits of SHA-256, a newline. */
export const BUILD_STAMP_PREFIX = '// minewatch build ';
const STAMP_HEX = 64;
const STAMP_LINE = BUILD_STAMP_PREFIX.length + STAMP_HEX + 1;

/** The stamp line for a bundle whose content (without the line) hashes to `sha256Hex`. */
export function buildStampLine(sha256Hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new Error(`not a SHA-256 in hex: ${sha256Hex}`);
  return `${BUILD_STAMP_PREFIX}${sha256Hex}\n`;
}

/** Compiles a bundle, from its code cache when it fits and V8 accepts it. */
export function compileBundle(name: BundleName, dir = BUNDLE_DIR): { script: Script; cacheKey: Buffer; cacheAccepted: boolean } {
  const file = join(dir, `${name}.cjs`);
  let source: string;
  let cacheKey: Buffer;
  try {
    // The build keeps bundles ASCII (esbuild escapes the rest), so latin1 reads them as UTF-8
    // would, without decoding.
    const { mtimeMs } = statSync(file);
    source = readFileSync(file, 'latin1');
    cacheKey = keyOf(source, mtimeMs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw Object.assign(new Error(`${file} is missing: run npm run build (npm ci runs it)`), { code: NOT_BUILT });
  }
  let cachedData: Buffer | undefined;
  if (cacheKey.length > 0) {
    try {
      const cache = readFileSync(`${file}.cache`);
      if (cache.length > cacheKey.length && cache.subarray(0, cacheKey.length).equals(cacheKey)) cachedData = cache.subarray(cacheKey.length);
    } catch {
      // No cache (not built yet, or removed): compile from source.
    }
  }
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  return { script, cacheKey, cacheAccepted: cachedData !== undefined && script.cachedDataRejected === false };
}

/**
 * What a cache must start with to be used for this source: its build stamp, size and
 * modification time. Empty (no cache used or saved) for a bundle without a stamp.
 */
function keyOf(source: string, mtimeMs: number): Buffer {
  if (source.length < STAMP_LINE || !source.startsWith(BUILD_STAMP_PREFIX) || source.charCodeAt(STAMP_LINE - 1) !== 0x0a) return Buffer.alloc(0);
  const key = Buffer.alloc(STAMP_HEX + 16);
  key.write(source.slice(BUILD_STAMP_PREFIX.length, STAMP_LINE - 1), 0, 'latin1');
  key.writeDoubleLE(source.length, STAMP_HEX);
  key.writeDoubleLE(Math.floor(mtimeMs / 1000), STAMP_HEX + 8); // whole seconds: what a copy keeps exactly
  return key;
}

/** Runs a bundle as the CommonJS module it is. */
export function runBundle(name: BundleName, dir = BUNDLE_DIR): void {
  const { script, cacheKey } = compileBundle(name, dir);
  const file = join(dir, `${name}.cjs`);
  // Saved after the run, so the cache holds every function the run compiled, not just the
  // top level: at exit for the command, whose run is asynchronous; right after the call
  // for a shard worker (always a worker thread), whose run is synchronous.
  const saveCache =
    process.env[WRITE_CACHE_ENV] === name && cacheKey.length > 0
      ? () => writeFileSync(`${file}.cache`, Buffer.concat([cacheKey, script.createCachedData()]))
      : null;
  const isCommand = name === 'minewatch';
  if (saveCache && isCommand) process.once('exit', saveCache);
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  if (saveCache && !isCommand) saveCache();
}
