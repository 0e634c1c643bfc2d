import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project root (the folder holding package.json), from src/ or dist/. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** ../shared/captures beside the project, when present (third-party conformance data). */
export function sharedCapturesDir(): string | null {
  const dir = resolve(PROJECT_ROOT, '..', 'shared', 'captures');
  return existsSync(dir) ? dir : null;
}
