/**
 * The intelligence as users get it: `report` ranks miners with owners and intervals,
 * `export` carries the new columns and the owner fields (csv, json) and writes Suricata
 * EVE alert lines, `show` lists the sessions, `replay --assets` records owners. The data
 * comes from scripted sessions replayed through the real pipeline.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { HitStore } from '../src/store/hit-store.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { hex } from '../src/synth/scenarios/mining.js';
import { captureOf, replayBytes } from './support/pipeline.js';
import { shareSession, uniformTimes } from './support/intel-scripts.js';
import { scratchDir } from './support/scratch.js';

const notify = (job: string): unknown => ({
  id: null,
  method: 'mining.notify',
  params: [job, hex(64, 2), `01000000${hex(110, 3)}`, `ffffffff${hex(90, 4)}`, [hex(64, 5)], '20000000', '17030ecd', '66f2a1b0', true],
});

/** A SHA-256d rig: `shares` shares at `difficulty` over `seconds`, as `worker`, from `client`. */
function rig(client: { ip: string; port: number }, worker: string, difficulty: number, shares: number, seconds: number, seed: number) {
  return shareSession({
    setup: [
      { from: 'client', data: `${JSON.stringify({ id: 1, method: 'mining.subscribe', params: ['bmminer/2.0.0'] })}\n` },
      { from: 'server', data: `${JSON.stringify({ id: 1, result: [[['mining.notify', 'ae68']], 'f3b0d3c5', 8], error: null })}\n` },
      { from: 'client', data: `${JSON.stringify({ id: 2, method: 'mining.authorize', params: [`farmco.${worker}`, 'x'] })}\n` },
      { from: 'server', data: `${JSON.stringify({ id: 2, result: true, error: null })}\n` },
      { from: 'server', data: `${JSON.stringify({ id: null, method: 'mining.set_difficulty', params: [difficulty] })}\n` },
      { from: 'server', data: `${JSON.stringify(notify('1a7f'))}\n` },
    ],
    shareTimes: uniformTimes(shares, seconds, seed),
    submit: (i) => ({ id: 4, method: 'mining.submit', params: [`farmco.${worker}`, '1a7f', hex(16, i), '66f2a1b0', hex(8, i)] }),
    reply: () => ({ id: 4, result: true, error: null }),
    endAt: seconds,
    serverPort: 3333,
    client,
  });
}

const ASSETS = `prefix,owner_id,name,place,tags
192.0.2.0/24,ISP-7,Example Broadband,Region North,residential
192.0.2.40,SUB-4040,"Farm Co, Ltd",Warehouse 4,business;industrial
`;

let dir: string;
let db: string;
let assets: string;

beforeAll(async () => {
  dir = scratchDir('minewatch-intel-');
  db = join(dir, 'intel.db');
  assets = join(dir, 'assets.csv');
  writeFileSync(assets, ASSETS);
  // 192.0.2.40: twelve S19-class rigs at once (about 141 TH/s each); 192.0.2.41: one small rig;
  // 198.51.100.9: a miner no asset-map row covers.
  const farm = Array.from({ length: 12 }, (_, k) => rig({ ip: '192.0.2.40', port: 40000 + k }, `s19-${k}`, 65536, 300, 600, 100 + k));
  const small = rig({ ip: '192.0.2.41', port: 41000 }, 'home', 1024, 60, 600, 7);
  const stranger = rig({ ip: '198.51.100.9', port: 42000 }, 'x', 4096, 30, 300, 8);
  await replayBytes(captureOf([...farm, small, stranger]), db);
});

describe('minewatch report', () => {
  it('ranks miners by power with owner, coins, workers, hashrate interval, power and kWh/day, first/last seen, farm flag', async () => {
    const r = await runCli('report', '--db', db, '--assets', assets);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Miner IPs by estimated power (3 of 3):');
    expect(lines[1]).toMatch(/^#\s+IP\s+OWNER\s+COINS\s+WORKERS\s+SESS\s+HASHRATE \[90% interval\]\s+POWER \[range\]\s+KWH\/DAY \[range\]\s+FIRST SEEN\s+LAST SEEN\s+FARM$/);
    const row = (ip: string): string => lines.find((l) => l.includes(` ${ip} `))!;
    expect(lines[2]).toContain('192.0.2.40');
    expect(row('192.0.2.40')).toMatch(/Farm Co, Ltd \(SUB-4040\)\s+BCH,BTC\s+12\s+12 \(12 at once\)\s+1\.69 PH\/s \[1\.6\d PH\/s – 1\.7\d PH\/s\] sha256d\s+/);
    expect(row('192.0.2.40')).toMatch(/FARM$/);
    expect(row('192.0.2.41')).toContain('Example Broadband (ISP-7)');
    expect(row('198.51.100.9')).toContain('(no owner)');
    expect(r.stdout).toContain('farm 192.0.2.40: 12 workers >= 10; 12 concurrent mining sessions >= 10; power >=');
  });

  it('--by workers and --top, --json, and bad options', async () => {
    const top = await runCli('report', '--db', db, '--by', 'workers', '--top', '1', '--json');
    const parsed = JSON.parse(top.stdout) as { rank: number; ip: string; workers: string[]; algorithms: { algo: string; est_hashrate: number }[]; owner: { status: string }; est_power_w: number }[];
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ rank: 1, ip: '192.0.2.40', owner: { status: 'no-asset-map' } });
    expect(parsed[0]!.workers).toHaveLength(12);
    expect(parsed[0]!.algorithms[0]!.est_hashrate / (12 * 1.407e14)).toBeCloseTo(1, 2);
    // 1.69 PH/s at 17.5–34 J/TH: about 43 kW in the middle.
    expect(parsed[0]!.est_power_w / 1000).toBeGreaterThan(35);
    expect(parsed[0]!.est_power_w / 1000).toBeLessThan(50);
    expect((await runCli('report', '--db', db, '--by', 'luck')).code).toBe(2);
    expect((await runCli('report', '--db', db, '--top', '0')).code).toBe(2);
    expect((await runCli('report', '--db', db, '--farm-kw', 'lots')).code).toBe(2);
    expect((await runCli('report', '--db', join(dir, 'missing.db'))).code).toBe(2);
    const badAssets = join(dir, 'bad.csv');
    writeFileSync(badAssets, 'prefix,owner\nnot-an-ip,x\n');
    const bad = await runCli('report', '--db', db, '--assets', badAssets);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.csv:2: not an IP address/);
  });

  it('farm thresholds can be raised for a run', async () => {
    const r = await runCli('report', '--db', db, '--farm-workers', '50', '--farm-sessions', '50', '--farm-kw', '1000', '--json');
    expect((JSON.parse(r.stdout) as { farm: boolean }[]).every((e) => !e.farm)).toBe(true);
  });
});

describe('minewatch export', () => {
  it('csv and json carry sessions, workers, estimates, power and the owner fields', async () => {
    const csv = await runCli('export', '--db', db, '--assets', assets);
    const [header, ...rows] = csv.stdout.trim().split('\r\n');
    const fields = header!.split(',');
    for (const f of ['sessions', 'workers', 'est_hashrate', 'est_hashrate_low', 'est_hashrate_high', 'est_power_w', 'est_kwh_day', 'owner_id', 'owner_name', 'owner_place', 'owner_tags', 'owner_status']) {
      expect(fields).toContain(f);
    }
    expect(rows).toHaveLength(3);
    const json = JSON.parse((await runCli('export', '--db', db, '--format', 'json', '--assets', assets)).stdout) as Record<string, unknown>[];
    const farm = json.find((r) => r.ip === '192.0.2.40')!;
    expect(farm).toMatchObject({
      sessions: 12,
      concurrent_sessions: 12,
      workers: 12,
      hashrate_algo: 'sha256d',
      hashrate_unit: 'H/s',
      farm: true,
      owner_status: 'matched',
      owner_id: 'SUB-4040',
      owner_name: 'Farm Co, Ltd',
      owner_place: 'Warehouse 4',
      owner_tags: ['business', 'industrial'],
      owner_prefix: '192.0.2.40/32',
    });
    expect(farm.est_hashrate_low as number).toBeLessThan(farm.est_hashrate as number);
    expect(farm.est_hashrate_high as number).toBeGreaterThan(farm.est_hashrate as number);
    expect(farm.est_kwh_day as number).toBeCloseTo(((farm.est_power_w as number) * 24) / 1000, 6);
    expect(json.find((r) => r.ip === '198.51.100.9')).toMatchObject({ owner_status: 'no-owner', owner_id: null, sessions: 1 });
  });

  it('--format eve writes one Suricata alert line per session with the documented fields', async () => {
    const r = await runCli('export', '--db', db, '--format', 'eve', '--assets', assets);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(14);
    for (const line of lines) {
      const e = JSON.parse(line) as Record<string, unknown> & { alert: Record<string, unknown>; minewatch: Record<string, unknown> };
      expect(e.event_type).toBe('alert');
      expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$/);
      expect(e.proto).toBe('TCP');
      expect(typeof e.src_ip).toBe('string');
      expect(typeof e.src_port).toBe('number');
      expect(e.dest_ip).toBe('203.0.113.5');
      expect(e.dest_port).toBe(3333);
      expect(e.alert).toMatchObject({ signature_id: 9400001, category: 'Crypto Currency Mining Activity Detected', gid: 1, rev: 1, action: 'allowed' });
      expect(typeof e.alert.signature).toBe('string');
      expect([1, 2]).toContain(e.alert.severity);
      expect(e.minewatch).toHaveProperty('est_hashrate');
      expect(e.minewatch).toHaveProperty('shares.submitted');
      expect(e.minewatch).toHaveProperty('owner.status');
    }
    const farmAlert = lines.map((l) => JSON.parse(l) as { src_ip: string; alert: { severity: number }; minewatch: { owner: { id: string }; ip: { farm: boolean }; worker: string } }).find((e) => e.src_ip === '192.0.2.40')!;
    expect(farmAlert.alert.severity).toBe(1);
    expect(farmAlert.minewatch.ip.farm).toBe(true);
    expect(farmAlert.minewatch.owner.id).toBe('SUB-4040');
    expect(farmAlert.minewatch.worker).toMatch(/^s19-\d+$/);
  });
});

describe('minewatch show', () => {
  it('lists the owner, the estimates and the sessions of an IP', async () => {
    const r = await runCli('show', '192.0.2.41', '--db', db, '--assets', assets, '--limit', '2');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('192.0.2.41 as miner');
    expect(r.stdout).toContain('owner         Example Broadband (ISP-7), Region North, tags residential, prefix 192.0.2.0/24');
    expect(r.stdout).toMatch(/hashrate {6}sha256d: \d+(\.\d+)? [kMGT]?H\/s \[/);
    expect(r.stdout).toContain('Sessions, oldest first (1 of 1):');
    expect(r.stdout).toMatch(/shares 60 sub \/ 60 acc \/ 0 rej; difficulty 1024;/);
    const json = JSON.parse((await runCli('show', '192.0.2.41', '--db', db, '--json')).stdout) as { owner: { status: string }; sessions: unknown[]; intel: { sessions: number } };
    expect(json.owner.status).toBe('no-asset-map');
    expect(json.sessions).toHaveLength(1);
    expect(json.intel.sessions).toBe(1);
  });
});

describe('minewatch replay --assets', () => {
  it('records the owners of the miner IPs it found, used later without an asset map', () => {
    const capture = join(dir, 'small.pcap');
    writeFileSync(capture, captureOf([rig({ ip: '192.0.2.40', port: 45000 }, 'late', 65536, 20, 60, 9)]));
    const replayDb = join(dir, 'replayed.db');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'main.ts'), 'replay', '--db', replayDb, '--quiet', '--assets', assets, capture], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('sessions stored: 1');
    expect(r.stdout).toContain('owners: 1 of 1 miner IP(s) matched');
    const store = HitStore.open(replayDb, { readonly: true });
    expect(store.sessions.recordedOwners().get('192.0.2.40')).toMatchObject({ ownerId: 'SUB-4040', prefix: '192.0.2.40/32', assetsFile: assets });
    store.close();
    expect(readFileSync(capture).length).toBeGreaterThan(0);
  });
});
