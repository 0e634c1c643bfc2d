/**
 * The whole project (src, test, scripts) type-checks under tsconfig.json's strict settings.
 * The build compiles src/ only and vitest strips types without checking them, so without this
 * a type error in a test or a script would pass CI.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/util/paths.js';

describe('npm run typecheck', () => {
  it('finds no type error in src, test or scripts', () => {
    const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(PROJECT_ROOT, 'tsconfig.json'), '--noEmit'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 180_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
