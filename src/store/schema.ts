/**
 * minewatch database schema (SQLite, WAL journal, synchronous=NORMAL).
 *
 * meta         key TEXT PRIMARY KEY, value TEXT
 *              'schema_version' -> the version below; upgrades run in order on open.
 *
 * hits         one row per evidence event
 *   id           INTEGER PRIMARY KEY
 *   ts           TEXT     capture time, ISO-8601 UTC with microseconds
 *   ts_us        INTEGER  the same, microseconds since the epoch
 *   miner_ip, miner_port, pool_ip, pool_port
 *   transport    'tcp' | 'udp'
 *   dialect      stratum, cryptonote, ethproxy, ethstratum1, ethstratum2, getwork, ...
 *   kind         method or evidence kind ('mining.subscribe', 'login', 'http.getwork')
 *   confidence   'low' | 'medium' | 'high'
 *   detector     detector that produced the hit
 *   source       capture file, '-' for stdin, or 'if:<name>'
 *   agent, worker, login, wallet, algo, pool_host, detail   TEXT, NULL when absent
 *   UNIQUE (ts_us, miner_ip, miner_port, pool_ip, pool_port, dialect, kind,
 *           coalesce(worker, ''), coalesce(login, ''))   -- index hits_event:
 *     replaying a capture again inserts nothing; two logins in one packet stay apart.
 *   INDEX hits_miner (miner_ip, ts_us), hits_pool (pool_ip, ts_us)
 *
 * ip_summary   rollup per IP and role, kept current by every flush
 *   ip, role     PRIMARY KEY; role 'miner' (from hits.miner_ip) or 'pool' (from pool_ip)
 *   first_seen, last_seen         TEXT ISO-8601 UTC with microseconds
 *   first_seen_us, last_seen_us   INTEGER, for time filters
 *   hits         number of hits rows for the IP in that role
 *   dialects, peers, identities, agents
 *                JSON arrays of distinct strings, sorted, each holding at most 256
 *                values (the first ones stored). peers: the other side as ip:port,
 *                IPv6 as [addr]:port. identities: non-empty worker, login and wallet.
 *   INDEX ip_summary_first_seen (first_seen_us), ip_summary_last_seen (last_seen_us)
 *
 * runs         one row per replay
 *   id, source, started_at, finished_at (ISO), packets, bytes, flows, hits_inserted,
 *   warnings (JSON array of strings)
 */
import type Database from 'better-sqlite3';
import { StoreError } from './types.js';


/** MIGRATIONS[n] takes a database from version n to n + 1. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE hits (
    id         INTEGER PRIMARY KEY,
    ts         TEXT    NOT NULL,
    ts_us      INTEGER NOT NULL,
    miner_ip   TEXT    NOT NULL,
    miner_port INTEGER NOT NULL,
    pool_ip    TEXT    NOT NULL,
    pool_port  INTEGER NOT NULL,
    transport  TEXT    NOT NULL,
    dialect    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    confidence TEXT    NOT NULL,
    detector   TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    agent      TEXT,
    worker     TEXT,
    login      TEXT,
    wallet     TEXT,
    algo       TEXT,
    pool_host  TEXT,
    detail     TEXT
  );
  CREATE UNIQUE INDEX hits_event ON hits (
    ts_us, miner_ip, miner_port, pool_ip, pool_port, dialect, kind,
    coalesce(worker, ''), coalesce(login, '')
  );
  CREATE INDEX hits_miner ON hits (miner_ip, ts_us);
  CREATE INDEX hits_pool ON hits (pool_ip, ts_us);

  CREATE TABLE ip_summary (
    ip            TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('miner', 'pool')),
    first_seen    TEXT    NOT NULL,
    last_seen     TEXT    NOT NULL,
    first_seen_us INTEGER NOT NULL,
    last_seen_us  INTEGER NOT NULL,
    hits          INTEGER NOT NULL,
    dialects      TEXT    NOT NULL DEFAULT '[]',
    peers         TEXT    NOT NULL DEFAULT '[]',
    identities    TEXT    NOT NULL DEFAULT '[]',
    agents        TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (ip, role)
  ) WITHOUT ROWID;
  CREATE INDEX ip_summary_first_seen ON ip_summary (first_seen_us);
  CREATE INDEX ip_summary_last_seen ON ip_summary (last_seen_us);

  CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    source        TEXT    NOT NULL,
    started_at    TEXT    NOT NULL,
    finished_at   TEXT    NOT NULL,
    packets       INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    flows         INTEGER NOT NULL,
    hits_inserted INTEGER NOT NULL,
    warnings      TEXT    NOT NULL DEFAULT '[]'
  );
  `,
];

/** Each migration appended above raises the version by one. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Version recorded in meta, 0 for an empty database; throws for a foreign database. */
export function readSchemaVersion(db: Database.Database, path: string): number {
  const tables = db
    .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
    .pluck()
    .all() as string[];
  if (tables.length === 0) return 0;
  if (!tables.includes('meta')) throw new StoreError(`not a minewatch database: ${path}`);
  const value = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get();
  const version = Number(value);
  if (!Number.isInteger(version) || version < 1) {
    throw new StoreError(`not a minewatch database (no schema_version): ${path}`);
  }
  return version;
}

/** Creates or upgrades the schema in one transaction. */
export function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const from = readSchemaVersion(db, path);
    if (from > SCHEMA_VERSION) {
      throw new StoreError(
        `${path} has schema version ${from}; this minewatch understands up to ${SCHEMA_VERSION}`,
      );
    }
    if (from === SCHEMA_VERSION) return;
    if (from === 0) db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(
      String(SCHEMA_VERSION),
    );
  }).immediate();
}
