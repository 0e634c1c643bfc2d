/**
 * The installed command (bin/minewatch.js → dist/bundle/, built by `npm run build`, which
 * `npm ci` runs): the tests elsewhere run src/ through tsx, so this checks that the bundle
 * a user runs replays in one process and in workers, finds the bundled miners, and reads the
 * shipped signatures from its place in dist/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledCaptures } from '../src/synth/scenarios/bundle.js';
import { PROJECT_ROOT } from '../src/util/paths.js';

const BIN = join(PROJECT_ROOT, 'bin', 'minewatch.js');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the built command', () => {
  it('is built (npm ci runs npm run build)', () => {
    expect(existsSync(join(PROJECT_ROOT, 'dist', 'bundle', 'minewatch.js')), 'dist/bundle/minewatch.js is missing: run npm run build').toBe(true);
    expect(existsSync(join(PROJECT_ROOT, 'dist', 'bundle', 'shard-worker.js'))).toBe(true);
  });

  it('replays the bundled capture in one process and in two workers, with the same miners', () => {
    const capture = bundledCaptures().find((c) => c.file === 'mining-mix.pcapng')!;
    const dir = mkdtempSync(join(tmpdir(), 'minewatch-built-'));
    const miners = (workers: number): string[] => {
      const r = run(['replay', '--db', join(dir, `w${workers}.db`), '--json', '-q', '--workers', String(workers), join(PROJECT_ROOT, 'captures', capture.file)]);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as { workers: number; miners: { ip: string }[] };
      expect(summary.workers).toBe(workers);
      return summary.miners.map((m) => m.ip).sort();
    };
    const one = miners(1);
    expect(one).toEqual(capture.miners.map((m) => m.miner).sort());
    expect(miners(2)).toEqual(one);
  });

  it('checks the shipped signatures from dist/', () => {
    const r = run(['signatures', 'check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\d+ wildcard domains, .*\d+ evidence rules\nok/);
  });
});
