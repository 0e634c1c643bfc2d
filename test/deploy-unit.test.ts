/**
 * The shipped systemd unit (deploy/minewatch.service) as systemd reads it: `systemd-analyze
 * verify` parses every directive and checks that the command it starts is executable.
 * Node is not always /usr/bin/node (the unit's path, Debian's), so a copy names the node
 * running the tests. Skipped where systemd-analyze is not installed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NODE_OPTIONS } from '../src/util/node-options.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { toolAvailable } from './support/netns.js';
import { scratchDir } from './support/scratch.js';

const UNIT = join(PROJECT_ROOT, 'deploy', 'minewatch.service');

function verify(text: string): { status: number | null; output: string } {
  const path = join(scratchDir('minewatch-unit-'), 'minewatch.service');
  writeFileSync(path, text);
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe.skipIf(!toolAvailable('systemd-analyze'))('deploy/minewatch.service', () => {
  const unit = readFileSync(UNIT, 'utf8');

  it('passes systemd-analyze verify without a warning', () => {
    // Node's options as the command gives them: V8 takes the code cache only under the same flags.
    expect(unit).toContain(`ExecStart=/usr/bin/node ${COMMAND_NODE_OPTIONS.join(' ')} /opt/minewatch/bin/minewatch.cjs run --config /etc/minewatch/minewatch.json`);
    const r = verify(unit.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('the check sees a broken unit', () => {
    const r = verify(unit.replace('Type=simple', 'Type=sometimes').replace('ExecStart=/usr/bin/node ', 'ExecStart=/nonexistent/node '));
    expect(r.output).toMatch(/Failed to parse service type/);
    expect(r.output).toMatch(/is not executable/);
    expect(r.status).not.toBe(0);
  });
});
