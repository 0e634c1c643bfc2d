/**
 * Scratch folders for tests, removed once the test file has run (scratch-cleanup.ts, a
 * vitest setup file), so that running the suite leaves nothing behind in the temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new empty folder in the system's temp folder, named `prefix` plus six random characters. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every folder scratchDir made (and what is in it). */
export function removeScratchDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** How many folders are waiting for removal (for the helper's own test). */
export function scratchDirsPending(): number {
  return made.length;
}
