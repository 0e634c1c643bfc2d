/**
 * The benchmark's inputs, generated once and cached under bench-out/ by kind, seed and size
 * (generation is deterministic, so the cache is only ever a shortcut). A capture counts as
 * cached when its manifest exists and the file has the manifest's size.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFlood } from '../../src/synth/scenarios/flood.js';
import { writeTrafficMix, type GeneratedCapture } from '../../src/synth/scenarios/traffic-mix.js';

/** Bumped whenever the generators change what they write, so old caches are not reused. */
const GENERATOR_VERSION = 2;

export type CaptureSpec = { kind: 'mix'; seed: number; sizeBytes: number } | { kind: 'flood'; seed: number; flows: number };

export function captureName(spec: CaptureSpec): string {
  const size = spec.kind === 'mix' ? `${spec.sizeBytes}` : `${spec.flows}flows`;
  return `${spec.kind}-v${GENERATOR_VERSION}-s${spec.seed}-${size}`;
}

/** The capture for `spec`, from the cache or generated now (`log` hears about generation). */
export async function benchCapture(spec: CaptureSpec, outDir: string, log: (line: string) => void): Promise<GeneratedCapture> {
  mkdirSync(outDir, { recursive: true });
  const name = captureName(spec);
  const path = join(outDir, `${name}.pcap`);
  const manifestPath = join(outDir, `${name}.json`);
  if (existsSync(manifestPath) && existsSync(path)) {
    const cached = JSON.parse(readFileSync(manifestPath, 'utf8')) as GeneratedCapture;
    if (statSync(path).size === cached.bytes) return { ...cached, path };
  }
  log(`generating ${path} ...`);
  const started = Date.now();
  const partial = `${path}.part`;
  const made = spec.kind === 'mix' ? await writeTrafficMix(partial, spec) : await writeFlood(partial, spec);
  renameSync(partial, path);
  const capture = { ...made, path };
  writeFileSync(manifestPath, `${JSON.stringify(capture, null, 2)}\n`);
  log(`generated ${(capture.bytes / 1e6).toFixed(0)} MB, ${capture.packets} packets in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return capture;
}
