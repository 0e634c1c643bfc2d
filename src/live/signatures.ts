/**
 * Signatures of the live sensor and their reload on SIGHUP. With --signatures DIR the
 * sensor detects with that folder, otherwise with the shipped one. A reload re-reads the
 * folder in use and swaps the whole set in for new flows; a folder with problems leaves
 * the running set in force (the engine's reloadSignatures, src/detect/engine.ts).
 */
import type { DetectionEngine } from '../detect/engine.js';
import { ReloadableSignatures, tryReload } from '../signatures/reloadable.js';

export interface ReloadResult {
  reloaded: boolean;
  detail: string;
}

/** The folder as the sensor's signature source; throws SignatureLoadError when unusable. */
export function openSignatureDir(dir: string | null): ReloadableSignatures | undefined {
  return dir === null ? undefined : ReloadableSignatures.open(dir);
}

/** SIGHUP: reload the folder in use; never throws. */
export function reloadSignatures(engine: DetectionEngine): ReloadResult {
  const outcome = tryReload(engine, null);
  return { reloaded: outcome.ok, detail: outcome.ok ? outcome.message : `signature reload refused: ${outcome.message}` };
}
