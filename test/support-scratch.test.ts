/** The tests' scratch folders (test/support/scratch.ts) are really removed after use. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeScratchDirs, scratchDir, scratchDirsPending } from './support/scratch.js';

describe('scratchDir', () => {
  it('makes distinct empty folders and removes them with their contents', () => {
    const before = scratchDirsPending();
    const a = scratchDir('minewatch-scratch-');
    const b = scratchDir('minewatch-scratch-');
    expect(a).not.toBe(b);
    writeFileSync(join(a, 'file'), 'x');
    expect(scratchDirsPending()).toBe(before + 2);
    removeScratchDirs();
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(false);
    expect(scratchDirsPending()).toBe(0);
  });
});
