/**
 * `minewatch status` from capture_stats rows and from a stats file, and `minewatch run`
 * without the optional pcap module: one line saying what to install, non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MISSING_PCAP_MESSAGE, loadPcapModule } from '../src/capture/pcap-backend.js';
import type { CaptureStatsRecord } from '../src/store/capture-stats.js';
import { HitStore } from '../src/store/hit-store.js';
import { microsToIso } from '../src/store/iso-time.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { scratchDir } from './support/scratch.js';

const MAIN = join(PROJECT_ROOT, 'src', 'cli', 'main.ts');
const HIDE_PCAP = join(PROJECT_ROOT, 'test', 'support', 'hide-pcap.cjs');

function minewatch(args: string[], preload: string[] = []): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...preload, '--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: PROJECT_ROOT, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const STARTED = new Date(Date.now() - 3_600_000).toISOString();

function record(over: Partial<CaptureStatsRecord> = {}): CaptureStatsRecord {
  const now = Date.now() * 1000;
  return {
    tsMicros: now, interface: 'mir0', pid: 4242, startedAt: STARTED, state: 'running',
    packets: 1_000_000, bytes: 600_000_000, kernelReceived: 1_000_000, kernelDropped: 0, ifDropped: 0, interfaceDropped: 0,
    reopens: 1, downEvents: 1, flowsActive: 120, flowsCreated: 9000, flowsEvicted: 0, evidence: 42, hitsStored: 40,
    rssBytes: 150_000_000, heapBytes: 30_000_000, ...over,
  };
}

function dbWith(rows: CaptureStatsRecord[]): string {
  const db = join(scratchDir('minewatch-status-'), 'live.db');
  const store = HitStore.open(db);
  for (const r of rows) store.recordCaptureStats(r);
  store.close();
  return db;
}

describe('minewatch status', () => {
  it('shows a running sensor with rates from its last two reports, exit 0', () => {
    const now = Date.now() * 1000;
    const db = dbWith([record({ tsMicros: now - 60e6, packets: 400_000, bytes: 240_000_000 }), record({ tsMicros: now, kernelDropped: 10, kernelReceived: 999_990 })]);
    const r = minewatch(['status', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mir0: running, pid 4242, up 1h 0m');
    expect(r.stdout).toMatch(/packets +1,000,000 \(10,000 pps\)/);
    expect(r.stdout).toMatch(/drops +kernel 10, interface 0 \(0\.0010% of 999,990 received\)/);
    expect(r.stdout).toMatch(/hits +detected 42, stored 40/);
    expect(r.stdout).toMatch(/went down 1 time\(s\), capture reopened 1 time\(s\)/);
    const json = JSON.parse(minewatch(['status', '--db', db, '--json']).stdout) as Array<{ healthy: boolean; latest: CaptureStatsRecord }>;
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ healthy: true, latest: { kernelDropped: 10, interface: 'mir0' } });
  });

  it('exit 1 for a stopped, silent or interface-down sensor', () => {
    const now = Date.now() * 1000;
    expect(minewatch(['status', '--db', dbWith([record({ state: 'stopped' })])])).toMatchObject({ code: 1, stdout: expect.stringContaining('mir0: stopped') });
    const silent = minewatch(['status', '--db', dbWith([record({ tsMicros: now - 600e6 })])]);
    expect(silent.code).toBe(1);
    expect(silent.stdout).toMatch(/silent: no report for 10m \d+s/);
    expect(minewatch(['status', '--db', dbWith([record({ state: 'interface-down' })])]).stdout).toContain('interface down, retrying');
  });

  it('reads the stats file, and exit 2 when there is nothing to read', () => {
    const dir = scratchDir('minewatch-status-');
    const file = join(dir, 'stats.json');
    const r = record();
    writeFileSync(file, JSON.stringify({ ts: microsToIso(r.tsMicros), ...r }));
    expect(minewatch(['status', '--stats-file', file])).toMatchObject({ code: 0, stdout: expect.stringContaining('mir0: running') });
    expect(minewatch(['status', '--stats-file', join(dir, 'missing.json')]).code).toBe(2);
    expect(minewatch(['status', '--db', join(dir, 'missing.db')]).code).toBe(2);
    const empty = minewatch(['status', '--db', dbWith([])]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no live sensor has reported');
  });
});

describe('minewatch run without the pcap module', () => {
  it('prints one line saying what to install and exits non-zero', () => {
    const r = minewatch(['run', '--interface', 'lo', '--db', join(scratchDir('minewatch-nopcap-'), 'x.db')], ['--require', HIDE_PCAP]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`minewatch: ${MISSING_PCAP_MESSAGE}\n`);
    expect(() => loadPcapModule('minewatch-no-such-module')).toThrow(MISSING_PCAP_MESSAGE);
  });

  it('bad options exit 2 before any capture starts', () => {
    expect(minewatch(['run']).stderr).toContain('an interface is required');
    const r = minewatch(['run', '-i', 'lo', '--listen', '0.0.0.0:8765']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('without a token');
  });
});
