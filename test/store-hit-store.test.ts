import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Evidence } from '../src/detect/types.js';
import { HitStore } from '../src/store/hit-store.js';
import { SCHEMA_VERSION } from '../src/store/schema.js';
import { StoreError, SUMMARY_LIST_CAP } from '../src/store/types.js';
import { scratchDir } from './support/scratch.js';

const T0 = Date.UTC(2024, 0, 15, 10, 0, 0) * 1000; // 2024-01-15T10:00:00Z in microseconds

function evidence(overrides: Partial<Evidence> = {}): Evidence {
  return {
    tsMicros: T0,
    minerIp: '192.0.2.10',
    minerPort: 50123,
    poolIp: '198.51.100.7',
    poolPort: 3333,
    transport: 'tcp',
    dialect: 'stratum',
    kind: 'mining.subscribe',
    confidence: 'high',
    detector: 'stratum',
    source: 'captures/sample.pcap',
    ...overrides,
  };
}

/** A small capture's worth of hits: two miners on one pool, one IPv6 pair. */
function replayBatch(): Evidence[] {
  return [
    evidence({ agent: 'cgminer/4.11.1' }),
    evidence({ tsMicros: T0 + 1_500, kind: 'mining.authorize', worker: 'rig01', agent: 'cgminer/4.11.1' }),
    evidence({ tsMicros: T0 + 60_000_000, kind: 'mining.submit', worker: 'rig01' }),
    evidence({
      tsMicros: T0 + 5_000_000,
      minerIp: '192.0.2.11',
      minerPort: 40000,
      dialect: 'cryptonote',
      kind: 'login',
      login: '44AFFq5kSiGBoZ.rigB',
      wallet: '44AFFq5kSiGBoZ',
      agent: 'XMRig/6.21.0',
    }),
    evidence({
      tsMicros: T0 + 7_000_000,
      minerIp: '2001:db8::10',
      minerPort: 51000,
      poolIp: '2001:db8:ffff::7',
      poolPort: 4444,
      dialect: 'ethproxy',
      kind: 'eth_submitLogin',
      login: '0x00000000000000000000000000000000000000aa',
    }),
  ];
}

let dir: string;
let dbPath: string;

beforeEach(() => {
  dir = scratchDir('minewatch-store-');
  dbPath = join(dir, 'minewatch.db');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function replayOnce(): number {
  const store = HitStore.open(dbPath);
  for (const e of replayBatch()) store.add(e);
  const inserted = store.flush();
  store.close();
  return inserted;
}

function countRows(table: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('HitStore add/flush', () => {
  it('buffers without writing until flush, then reports rows inserted', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence());
    store.add(evidence({ kind: 'mining.authorize' }));
    expect(store.pending()).toBe(2);
    expect(countRows('hits')).toBe(0);
    expect(store.flush()).toBe(2);
    expect(store.pending()).toBe(0);
    expect(countRows('hits')).toBe(2);
    expect(store.flush()).toBe(0);
    store.close();
  });

  it('replaying the same capture in a second session adds nothing', () => {
    expect(replayOnce()).toBe(5);
    const db = new Database(dbPath, { readonly: true });
    const before = db.prepare('SELECT * FROM ip_summary ORDER BY ip, role').all();
    db.close();

    expect(replayOnce()).toBe(0);
    expect(countRows('hits')).toBe(5);
    const after = new Database(dbPath, { readonly: true });
    expect(after.prepare('SELECT * FROM ip_summary ORDER BY ip, role').all()).toEqual(before);
    after.close();

    const store = HitStore.open(dbPath, { readonly: true });
    const miner = store.listIps({ role: 'miner' }).find((s) => s.ip === '192.0.2.10');
    expect(miner?.hits).toBe(3);
    store.close();
  });

  it('deduplicates inside one batch but keeps two logins sent in the same packet', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence({ kind: 'mining.authorize', worker: 'rigA' }));
    store.add(evidence({ kind: 'mining.authorize', worker: 'rigA' }));
    store.add(evidence({ kind: 'mining.authorize', worker: 'rigB' }));
    expect(store.flush()).toBe(2);
    expect(store.listIps({ role: 'miner' })[0]?.hits).toBe(2);
    store.close();
  });

  it('close() flushes what is still buffered', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence());
    store.close();
    store.close(); // second close is harmless
    expect(countRows('hits')).toBe(1);
  });

  it('stores times as ISO-8601 UTC with microseconds and absent fields as NULL', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence({ tsMicros: T0 + 123_456 }));
    store.close();
    const db = new Database(dbPath, { readonly: true });
    const row = db.prepare('SELECT ts, ts_us, agent, worker FROM hits').get();
    db.close();
    expect(row).toEqual({ ts: '2024-01-15T10:00:00.123456Z', ts_us: T0 + 123_456, agent: null, worker: null });
  });

  it('truncates oversized wire-supplied text', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence({ agent: 'A'.repeat(5000) }));
    store.flush();
    expect(store.evidenceFor('192.0.2.10')[0]?.agent).toHaveLength(1024);
    store.close();
  });

  it('runs at synchronous=NORMAL on a database it creates and on one it converts to WAL', () => {
    // The level is the connection's own (another connection cannot see it); a new file is
    // switched to WAL at OFF, which must not outlast the switch.
    const level = (store: HitStore): unknown => (store as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true });
    const created = HitStore.open(dbPath);
    expect(level(created)).toBe(1);
    created.add(evidence());
    created.flush();
    created.close();
    // The same database turned back to a rollback journal (as a copy made by another tool
    // may be): opened again, it goes to WAL with its hit kept.
    const plain = new Database(dbPath);
    expect(plain.pragma('journal_mode = DELETE', { simple: true })).toBe('delete');
    plain.close();
    const converted = HitStore.open(dbPath);
    expect(level(converted)).toBe(1);
    expect(converted.evidenceFor('192.0.2.10')).toHaveLength(1);
    converted.close();
    const check = new Database(dbPath, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    check.close();
  });

  it('uses WAL and records the schema version in meta', () => {
    HitStore.open(dbPath).close();
    const db = new Database(dbPath, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get()).toBe(
      String(SCHEMA_VERSION),
    );
    db.close();
  });
});

describe('ip_summary rollup', () => {
  it('tracks first/last seen, hit counts and distinct lists per role', () => {
    replayOnce();
    const store = HitStore.open(dbPath, { readonly: true });
    const all = store.listIps();
    store.close();

    const miner = all.find((s) => s.ip === '192.0.2.10' && s.role === 'miner');
    expect(miner).toEqual({
      ip: '192.0.2.10',
      role: 'miner',
      firstSeen: '2024-01-15T10:00:00.000000Z',
      lastSeen: '2024-01-15T10:01:00.000000Z',
      hits: 3,
      dialects: ['stratum'],
      peers: ['198.51.100.7:3333'],
      identities: ['rig01'],
      agents: ['cgminer/4.11.1'],
    });

    const pool = all.find((s) => s.ip === '198.51.100.7' && s.role === 'pool');
    expect(pool).toMatchObject({
      hits: 4,
      firstSeen: '2024-01-15T10:00:00.000000Z',
      lastSeen: '2024-01-15T10:01:00.000000Z',
      dialects: ['cryptonote', 'stratum'],
      peers: ['192.0.2.10:50123', '192.0.2.11:40000'],
      identities: ['44AFFq5kSiGBoZ', '44AFFq5kSiGBoZ.rigB', 'rig01'],
      agents: ['XMRig/6.21.0', 'cgminer/4.11.1'],
    });
  });

  it('writes IPv6 peers as [addr]:port on both sides', () => {
    replayOnce();
    const store = HitStore.open(dbPath, { readonly: true });
    const all = store.listIps();
    store.close();
    expect(all.find((s) => s.ip === '2001:db8::10')?.peers).toEqual(['[2001:db8:ffff::7]:4444']);
    expect(all.find((s) => s.ip === '2001:db8:ffff::7')?.peers).toEqual(['[2001:db8::10]:51000']);
  });

  it('widens first/last seen when an older capture is replayed later', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence({ tsMicros: T0 }));
    store.flush();
    store.add(evidence({ tsMicros: T0 - 3_600_000_000, kind: 'mining.authorize' }));
    store.add(evidence({ tsMicros: T0 + 3_600_000_000, kind: 'mining.submit' }));
    store.flush();
    const [miner] = store.listIps({ role: 'miner' });
    store.close();
    expect(miner?.firstSeen).toBe('2024-01-15T09:00:00.000000Z');
    expect(miner?.lastSeen).toBe('2024-01-15T11:00:00.000000Z');
    expect(miner?.hits).toBe(3);
  });

  it('caps each list at SUMMARY_LIST_CAP, keeping the first values stored, across flushes', () => {
    const store = HitStore.open(dbPath);
    const total = SUMMARY_LIST_CAP + 40;
    for (let i = 0; i < total; i++) {
      store.add(evidence({ tsMicros: T0 + i, minerPort: 10000 + i, worker: `w${String(i).padStart(4, '0')}` }));
      if (i % 100 === 99) store.flush(); // the cap must hold when merging into stored rows
    }
    store.flush();
    const [pool] = store.listIps({ role: 'pool' });
    expect(pool?.hits).toBe(total);
    expect(pool?.peers).toHaveLength(SUMMARY_LIST_CAP);
    expect(pool?.identities).toHaveLength(SUMMARY_LIST_CAP);
    expect(pool?.identities[0]).toBe('w0000');
    expect(pool?.identities.at(-1)).toBe(`w${String(SUMMARY_LIST_CAP - 1).padStart(4, '0')}`);

    // A full rebuild from the hits table lands on exactly the same rows.
    const incremental = store.listIps();
    store.rebuildSummaries();
    expect(store.listIps()).toEqual(incremental);
    store.close();
  });

  it('ignores empty identity and agent strings', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence({ worker: '', login: '', agent: '' }));
    store.flush();
    const [miner] = store.listIps({ role: 'miner' });
    store.close();
    expect(miner?.identities).toEqual([]);
    expect(miner?.agents).toEqual([]);
  });
});

describe('listIps filters', () => {
  beforeEach(() => {
    const store = HitStore.open(dbPath);
    // 192.0.2.1 active 10:00-10:10, 192.0.2.2 active 12:00-12:05, both on one pool.
    store.add(evidence({ minerIp: '192.0.2.1', tsMicros: T0 }));
    store.add(evidence({ minerIp: '192.0.2.1', tsMicros: T0 + 600_000_000, kind: 'mining.submit' }));
    store.add(evidence({ minerIp: '192.0.2.2', tsMicros: T0 + 7_200_000_000 }));
    store.add(evidence({ minerIp: '192.0.2.2', tsMicros: T0 + 7_500_000_000, kind: 'mining.submit' }));
    store.close();
  });

  const ips = (f: Parameters<HitStore['listIps']>[0]): string[] => {
    const store = HitStore.open(dbPath, { readonly: true });
    try {
      return store.listIps(f).map((s) => `${s.role}:${s.ip}`);
    } finally {
      store.close();
    }
  };

  it('filters by role', () => {
    expect(ips({ role: 'miner' })).toEqual(['miner:192.0.2.1', 'miner:192.0.2.2']);
    expect(ips({ role: 'pool' })).toEqual(['pool:198.51.100.7']);
    expect(ips({ role: 'any' })).toEqual(['miner:192.0.2.1', 'miner:192.0.2.2', 'pool:198.51.100.7']);
    expect(ips({})).toHaveLength(3);
  });

  it('keeps IPs whose activity overlaps [since, until]', () => {
    expect(ips({ role: 'miner', since: '2024-01-15T10:10:00Z' })).toEqual(['miner:192.0.2.1', 'miner:192.0.2.2']);
    expect(ips({ role: 'miner', since: '2024-01-15T10:10:00.000001Z' })).toEqual(['miner:192.0.2.2']);
    expect(ips({ role: 'miner', until: '2024-01-15T11:59:59Z' })).toEqual(['miner:192.0.2.1']);
    expect(ips({ role: 'miner', since: '2024-01-15T10:30:00Z', until: '2024-01-15T11:30:00Z' })).toEqual([]);
    expect(ips({ role: 'miner', since: '2024-01-15T10:05:00Z', until: '2024-01-15T12:01:00Z' })).toEqual([
      'miner:192.0.2.1',
      'miner:192.0.2.2',
    ]);
    // Offsets are honoured: 13:00+02:00 is 11:00Z.
    expect(ips({ role: 'miner', until: '2024-01-15T13:00:00+02:00' })).toEqual(['miner:192.0.2.1']);
  });

  it('rejects an unparseable time or role', () => {
    const store = HitStore.open(dbPath, { readonly: true });
    expect(() => store.listIps({ since: 'yesterday' })).toThrow(StoreError);
    expect(() => store.listIps({ until: '2024-02-30' })).toThrow(/until/);
    expect(() => store.listIps({ role: 'victim' as 'miner' })).toThrow(/role/);
    store.close();
  });

  it('orders IPv4 before IPv6, numerically', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence({ minerIp: '192.0.2.100' }));
    store.add(evidence({ minerIp: '2001:db8::2' }));
    store.add(evidence({ minerIp: '192.0.2.20' }));
    store.flush();
    expect(store.listIps({ role: 'miner' }).map((s) => s.ip)).toEqual([
      '192.0.2.1',
      '192.0.2.2',
      '192.0.2.20',
      '192.0.2.100',
      '2001:db8::2',
    ]);
    store.close();
  });
});

describe('evidenceFor', () => {
  it('returns hits for the IP in either role, newest first, limited', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence({ tsMicros: T0 + 2, kind: 'mining.submit' }));
    store.add(evidence({ tsMicros: T0, kind: 'mining.subscribe' }));
    store.add(evidence({ tsMicros: T0 + 1, kind: 'mining.authorize' }));
    // 192.0.2.10 is the pool side here (a proxy relaying to another pool).
    store.add(evidence({ tsMicros: T0 + 3, minerIp: '192.0.2.50', poolIp: '192.0.2.10', kind: 'mining.notify' }));
    store.add(evidence({ tsMicros: T0 + 9, minerIp: '192.0.2.99', kind: 'mining.subscribe' }));
    store.flush();

    const rows = store.evidenceFor('192.0.2.10');
    expect(rows.map((r) => r.kind)).toEqual(['mining.notify', 'mining.submit', 'mining.authorize', 'mining.subscribe']);
    expect(rows[0]).toMatchObject({ minerIp: '192.0.2.50', poolIp: '192.0.2.10', ts: '2024-01-15T10:00:00.000003Z' });
    expect(store.evidenceFor('192.0.2.10', 2).map((r) => r.kind)).toEqual(['mining.notify', 'mining.submit']);
    expect(store.evidenceFor('203.0.113.1')).toEqual([]);
    expect(() => store.evidenceFor('192.0.2.10', 0)).toThrow(StoreError);
    store.close();
  });

  it('breaks timestamp ties by storage order, newest stored first', () => {
    const store = HitStore.open(dbPath);
    store.add(evidence({ kind: 'a' }));
    store.add(evidence({ kind: 'b' }));
    store.add(evidence({ kind: 'c' }));
    store.flush();
    expect(store.evidenceFor('198.51.100.7').map((r) => r.kind)).toEqual(['c', 'b', 'a']);
    store.close();
  });
});

describe('runs', () => {
  it('records what was replayed', () => {
    const store = HitStore.open(dbPath);
    store.recordRun({
      source: 'captures/sample.pcap',
      startedAt: '2024-01-15T10:00:00.000Z',
      finishedAt: '2024-01-15T10:00:02.500Z',
      packets: 1200,
      bytes: 345678,
      flows: 17,
      hitsInserted: 5,
      warnings: ['truncated record at offset 4096'],
    });
    store.close();
    const reader = HitStore.open(dbPath, { readonly: true });
    expect(reader.listRuns()).toEqual([
      {
        id: 1,
        source: 'captures/sample.pcap',
        startedAt: '2024-01-15T10:00:00.000Z',
        finishedAt: '2024-01-15T10:00:02.500Z',
        packets: 1200,
        bytes: 345678,
        flows: 17,
        hitsInserted: 5,
        warnings: ['truncated record at offset 4096'],
      },
    ]);
    reader.close();
  });
});

describe('HitStore.open', () => {
  it('refuses a missing file for readers and with mustExist, and creates nothing', () => {
    expect(() => HitStore.open(dbPath, { readonly: true })).toThrow(/database not found/);
    expect(() => HitStore.open(dbPath, { mustExist: true })).toThrow(StoreError);
    expect(() => countRows('hits')).toThrow(); // still no file
  });

  it('refuses a file that is not a minewatch database', () => {
    writeFileSync(dbPath, 'this is not sqlite, just some text that is long enough '.repeat(20));
    expect(() => HitStore.open(dbPath, { readonly: true })).toThrow(/not a minewatch database/);
    expect(() => HitStore.open(dbPath)).toThrow(/not a minewatch database/);

    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY)');
    db.close();
    expect(() => HitStore.open(other)).toThrow(/not a minewatch database/);
  });

  it('refuses an empty database for readers and a newer schema for everyone', () => {
    new Database(dbPath).close();
    expect(() => HitStore.open(dbPath, { readonly: true })).toThrow(/not a minewatch database/);

    HitStore.open(dbPath).close();
    const db = new Database(dbPath);
    db.prepare(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`).run();
    db.close();
    expect(() => HitStore.open(dbPath)).toThrow(/schema version 99/);
    expect(() => HitStore.open(dbPath, { readonly: true })).toThrow(/schema version 99/);
  });

  it('does not allow writes through a read-only store', () => {
    HitStore.open(dbPath).close();
    const store = HitStore.open(dbPath, { readonly: true });
    expect(() => store.add(evidence())).toThrow(/read-only/);
    store.close();
  });
});

describe('HitStore bulk writer (replay)', () => {
  /** The WAL's size after 12 flushes of 2,000 hits of about 1 KiB each (the store still open). */
  function walAfterManyFlushes(bulk: boolean): { wal: number; walAfterClose: boolean; rows: number } {
    const store = HitStore.open(dbPath, { bulk });
    const detail = 'x'.repeat(1000);
    for (let flush = 0; flush < 12; flush++) {
      for (let i = 0; i < 2000; i++) store.add(evidence({ tsMicros: T0 + (flush * 2000 + i) * 1000, detail }));
      store.flush();
    }
    const wal = statSync(`${dbPath}-wal`).size;
    store.close();
    return { wal, walAfterClose: existsSync(`${dbPath}-wal`), rows: countRows('hits') };
  }

  it('copies the WAL back every 8,192 pages instead of every 1,000; the same rows either way', () => {
    const plain = walAfterManyFlushes(false);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
    const bulk = walAfterManyFlushes(true);
    expect(plain.rows).toBe(24_000);
    expect(bulk.rows).toBe(24_000);
    // Some 30 MB of pages were written: SQLite's default checkpoints keep the WAL near 4 MB
    // (plus the transaction that crossed the mark); the bulk writer has not checkpointed yet.
    expect(plain.wal).toBeLessThan(8 * 1024 * 1024);
    expect(bulk.wal).toBeGreaterThan(16 * 1024 * 1024);
    expect(bulk.wal).toBeLessThan(40 * 1024 * 1024); // 32 MiB plus the transaction that crossed it
    // Closing checkpoints and removes the WAL.
    expect(plain.walAfterClose).toBe(false);
    expect(bulk.walAfterClose).toBe(false);
  });
});
