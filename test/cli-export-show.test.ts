import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import type { Evidence } from '../src/detect/types.js';
import { HitStore } from '../src/store/hit-store.js';
import { scratchDir } from './support/scratch.js';

const T0 = Date.UTC(2024, 4, 20, 14, 0, 0) * 1000; // 2024-05-20T14:00:00Z

function evidence(overrides: Partial<Evidence>): Evidence {
  return {
    tsMicros: T0,
    minerIp: '192.0.2.10',
    minerPort: 41000,
    poolIp: '198.51.100.7',
    poolPort: 3333,
    transport: 'tcp',
    dialect: 'stratum',
    kind: 'mining.subscribe',
    confidence: 'high',
    detector: 'stratum',
    source: 'captures/office.pcap',
    ...overrides,
  };
}

let dir: string;
let db: string;

beforeAll(() => {
  dir = scratchDir('minewatch-cli-');
  db = join(dir, 'minewatch.db');
  const store = HitStore.open(db);
  store.add(evidence({ agent: 'cgminer/4.11.1' }));
  store.add(evidence({ tsMicros: T0 + 2_000_000, kind: 'mining.authorize', worker: 'rig01', agent: 'cgminer/4.11.1' }));
  store.add(evidence({ tsMicros: T0 + 3_600_000_000, kind: 'mining.submit', worker: 'rig01' }));
  // A second miner active a day later, with a hostile agent string.
  store.add(
    evidence({
      tsMicros: T0 + 86_400_000_000,
      minerIp: '192.0.2.20',
      minerPort: 42000,
      dialect: 'cryptonote',
      kind: 'login',
      login: '4AdUndXHHZ.worker7',
      wallet: '4AdUndXHHZ',
      agent: '\u001b[31mXMRig\u202e/6.21',
    }),
  );
  // 192.0.2.10 also acts as a pool for a downstream miner (a proxy).
  store.add(evidence({ tsMicros: T0 + 5_000_000, minerIp: '203.0.113.50', minerPort: 43000, poolIp: '192.0.2.10', poolPort: 3334 }));
  // IPv6 pair.
  store.add(
    evidence({ tsMicros: T0 + 10_000_000, minerIp: '2001:db8::10', minerPort: 44000, poolIp: '2001:db8:1::7', poolPort: 4444, dialect: 'ethproxy', kind: 'eth_submitLogin' }),
  );
  store.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function csvIps(csv: string): string[] {
  return csv
    .split('\r\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.split(',').slice(0, 2).join('/'));
}

describe('minewatch export', () => {
  it('defaults to csv of miners on stdout', async () => {
    const r = await runCli('export', '--db', db);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.startsWith('ip,role,first_seen,last_seen,hits,')).toBe(true);
    expect(csvIps(r.stdout)).toEqual(['192.0.2.10/miner', '192.0.2.20/miner', '203.0.113.50/miner', '2001:db8::10/miner']);
  });

  it('exports json for every role', async () => {
    const r = await runCli('export', '--db', db, '--format', 'json', '--role', 'any');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { ip: string; role: string; hits: number; peers: string[] }[];
    expect(rows.map((x) => `${x.ip}/${x.role}`)).toEqual([
      '192.0.2.10/miner',
      '192.0.2.10/pool',
      '192.0.2.20/miner',
      '198.51.100.7/pool',
      '203.0.113.50/miner',
      '2001:db8::10/miner',
      '2001:db8:1::7/pool',
    ]);
    expect(rows.find((x) => x.ip === '198.51.100.7')).toMatchObject({ hits: 4, peers: ['192.0.2.10:41000', '192.0.2.20:42000'] });
    expect(rows.find((x) => x.ip === '2001:db8::10')?.peers).toEqual(['[2001:db8:1::7]:4444']);
  });

  it('applies --since/--until to the activity window', async () => {
    const nextDay = await runCli('export', '--db', db, '--format', 'ndjson', '--since', '2024-05-21');
    expect(nextDay.code).toBe(0);
    expect(nextDay.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { ip: string }).ip)).toEqual(['192.0.2.20']);

    const firstHour = await runCli('export', '--db', db, '--format', 'txt', '--role', 'any', '--until', '2024-05-20T14:00:01Z');
    expect(firstHour.stdout).toBe('192.0.2.10\n198.51.100.7\n');

    const empty = await runCli('export', '--db', db, '--format', 'txt', '--since', '2025-01-01T00:00:00Z');
    expect(empty).toMatchObject({ code: 0, stdout: '' });
  });

  it('--out replaces the file atomically and prints nothing', async () => {
    const out = join(dir, 'miners.txt');
    writeFileSync(out, 'stale\n');
    const r = await runCli('export', '--db', db, '--format', 'txt', '--out', out);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe('192.0.2.10\n192.0.2.20\n203.0.113.50\n2001:db8::10\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it.each([
    [['--format', 'xml'], /unknown format 'xml'/],
    [['--role', 'victim'], /unknown role 'victim'/],
    [['--since', 'last tuesday'], /--since is not an ISO-8601 time/],
    [['--until', '2024-02-30'], /--until is not an ISO-8601 time/],
    [['--since', '2024-05-21', '--until', '2024-05-20'], /--since is later than --until/],
  ])('rejects %j with exit 2 and writes nothing', async (args, message) => {
    const out = join(dir, 'rejected.csv');
    const r = await runCli('export', '--db', db, ...args, '--out', out);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('fails on a missing database without creating it', async () => {
    const missing = join(dir, 'nope.db');
    const r = await runCli('export', '--db', missing);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`minewatch export: database not found: ${missing}\n`);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('minewatch show', () => {
  it('prints the summaries then an aligned evidence table, newest first', async () => {
    const r = await runCli('show', '192.0.2.10', '--db', db);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('192.0.2.10 as miner');
    expect(r.stdout).toContain('  first seen  2024-05-20T14:00:00.000000Z\n  last seen   2024-05-20T15:00:00.000000Z\n  hits        3\n');
    expect(r.stdout).toContain('192.0.2.10 as pool\n');
    expect(r.stdout).toContain('  peers       203.0.113.50:43000\n');
    expect(r.stdout).toContain('Evidence, newest first (4 of 4):');

    const headerAt = lines.findIndex((l) => l.startsWith('TIME'));
    const header = lines[headerAt]!;
    const table = lines.slice(headerAt + 1).filter(Boolean);
    expect(table.map((l) => l.slice(0, 27))).toEqual([
      '2024-05-20T15:00:00.000000Z',
      '2024-05-20T14:00:05.000000Z',
      '2024-05-20T14:00:02.000000Z',
      '2024-05-20T14:00:00.000000Z',
    ]);
    // Columns line up under their headings.
    const col = (name: string): number => header.indexOf(name);
    expect(table[1]!.slice(col('ROLE'), col('PEER')).trim()).toBe('pool');
    expect(table[1]!.slice(col('PEER'), col('DIALECT')).trim()).toBe('203.0.113.50:43000');
    expect(table[0]!.slice(col('KIND'), col('CONF')).trim()).toBe('mining.submit');
    expect(table[0]!.slice(col('IDENTITY'), col('SOURCE')).trim()).toBe('worker=rig01');
    expect(table[2]!.slice(col('AGENT'), col('IDENTITY')).trim()).toBe('cgminer/4.11.1');
    expect(table[3]!.slice(col('SOURCE'))).toBe('captures/office.pcap');
  });

  it('--json prints one object with summaries and evidence', async () => {
    const r = await runCli('show', '192.0.2.10', '--db', db, '--json', '--limit', '2');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      ip: string;
      summaries: { role: string; hits: number }[];
      evidence_total: number;
      evidence: { kind: string; ts: string; worker: string | null }[];
    };
    expect(doc.ip).toBe('192.0.2.10');
    expect(doc.summaries.map((s) => [s.role, s.hits])).toEqual([
      ['miner', 3],
      ['pool', 1],
    ]);
    expect(doc.evidence_total).toBe(4);
    expect(doc.evidence.map((e) => e.kind)).toEqual(['mining.submit', 'mining.subscribe']);
    expect(doc.evidence[0]).toMatchObject({ ts: '2024-05-20T15:00:00.000000Z', worker: 'rig01' });
  });

  it('finds an IPv6 address however it is written', async () => {
    const r = await runCli('show', '2001:DB8:0:0:0:0:0:10', '--db', db, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { ip: string; summaries: { peers: string[] }[] };
    expect(doc.ip).toBe('2001:db8::10');
    expect(doc.summaries[0]?.peers).toEqual(['[2001:db8:1::7]:4444']);
  });

  it('escapes terminal control and bidi characters from the wire', async () => {
    const r = await runCli('show', '192.0.2.20', '--db', db);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).not.toContain('\u202e');
    expect(r.stdout).toContain('\\x1b[31mXMRig\\u202e/6.21');
  });

  it('exits 1 with a clear line for an IP with no evidence', async () => {
    const r = await runCli('show', '203.0.113.99', '--db', db);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `minewatch show: no evidence for IP 203.0.113.99 in ${db}\n` });
  });

  it.each([
    [['192.0.2.256'], /not an IP address: '192.0.2.256'/],
    [['example.org'], /not an IP address/],
    [['fe80::1%eth0'], /not an IP address/],
    [['192.0.2.10', '--limit', '0'], /--limit must be a positive integer/],
    [['192.0.2.10', '--limit', 'ten'], /--limit must be a positive integer/],
  ])('rejects %j with exit 2', async (args, message) => {
    const r = await runCli('show', ...args, '--db', db);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 on a missing database without creating it', async () => {
    const missing = join(dir, 'absent.db');
    const r = await runCli('show', '192.0.2.10', '--db', missing);
    expect(r).toEqual({ code: 2, stdout: '', stderr: `minewatch show: database not found: ${missing}\n` });
    expect(existsSync(missing)).toBe(false);
  });
});

describe('minewatch binary (src/cli/main.ts)', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
    });

  it('exports, shows and reports exit codes as a real process', () => {
    const exported = cli('export', '--db', db, '--format', 'txt', '--role', 'pool');
    expect(exported.stderr).toBe('');
    expect(exported.status).toBe(0);
    expect(exported.stdout).toBe('192.0.2.10\n198.51.100.7\n2001:db8:1::7\n');

    const shown = cli('show', '198.51.100.7', '--db', db, '--json');
    expect(shown.status).toBe(0);
    expect((JSON.parse(shown.stdout) as { evidence: unknown[] }).evidence).toHaveLength(4);

    expect(cli('show', '203.0.113.99', '--db', db).status).toBe(1);
    expect(cli('show', 'not-an-ip', '--db', db).status).toBe(2);
    const missing = cli('export', '--db', join(dir, 'missing.db'));
    expect(missing.status).toBe(2);
    expect(missing.stdout).toBe('');
  });
});
