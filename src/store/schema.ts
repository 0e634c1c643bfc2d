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
 *   provenance   why (migration 4): the detector and the signature lines behind the hit,
 *                '; '-separated ('tls; pools/mining-pools.txt:74 *.bitminter.com; ...')
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
 *
 * capture_stats  one row per stats interval of a live sensor (`minewatch run`); counters
 *              are totals since that sensor process started (started_at, pid); rows older
 *              than 30 days are pruned as new ones arrive
 *   ts, ts_us, interface, pid, started_at, state ('running' | 'interface-down' | 'stopped')
 *   packets, bytes            read by the sensor
 *   kernel_received           passed the BPF filter in the kernel
 *   kernel_dropped            dropped by the kernel: capture ring full
 *   if_dropped                dropped by the interface, as libpcap reports it
 *   interface_dropped         the driver's rx_dropped + rx_missed_errors (sysfs)
 *   reopens, down_events      capture reopened after, interface seen going down
 *   flows_active, flows_created, flows_evicted, evidence (hits detected),
 *   hits_stored (newly inserted), rss_bytes, heap_bytes
 *   INDEX capture_stats_interface_ts (interface, ts_us), capture_stats_ts (ts_us)
 *
 * sessions     one row per confirmed mining flow (store/session-store.ts)
 *   source, miner_ip/port, pool_ip/port, transport, dialect
 *   algo, algo_assumed (1: the dialect's default, no message named one), algo_wire
 *   started/ended (ISO), start_us/end_us: the flow's first and last packet; end_reason
 *   window_start_us, window_end_us: the estimate's window (first work sent to the miner,
 *                or the flow's start when a share came first, to its last packet)
 *   first_share_us, last_share_us
 *   agent, worker, login, wallet, pool_host; workers, wallets (JSON arrays, distinct)
 *   shares_submitted, shares_accepted, shares_rejected, shares_stale, replies_unmatched
 *   share_errors        JSON [{code, message, count}]
 *   difficulty_history  JSON [[ts_us, "as sent", hashes per share or null]] (changes only)
 *   hashes_submitted, hashes_accepted   expected work behind the shares (REAL)
 *   hashrate_unit ('H/s', 'Sol/s'), est_hashrate, est_hashrate_low, est_hashrate_high
 *                (90 % interval); NULL when the algorithm has no conversion
 *   self_hashrate (last self-reported H/s), self_hashrate_reports
 *   packets_to_pool, packets_to_miner, bytes_to_pool, bytes_to_miner
 *   UNIQUE (source, miner_ip, miner_port, pool_ip, pool_port, start_us): replaying a
 *   capture again inserts nothing.  INDEX sessions_miner (miner_ip, start_us), sessions_end
 *
 * ip_owners    owner of a miner IP per the asset map given to replay (--assets), as it
 *              was when recorded: ip PRIMARY KEY, prefix (matched), owner_id, name,
 *              place, tags (JSON array), assets_file, recorded_at (ISO)
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
  // 2: live sensor health (`minewatch run` writes a row per stats interval, `status` reads).
  `
  CREATE TABLE capture_stats (
    id               INTEGER PRIMARY KEY,
    ts               TEXT    NOT NULL,
    ts_us            INTEGER NOT NULL,
    interface        TEXT    NOT NULL,
    pid              INTEGER NOT NULL,
    started_at       TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    packets          INTEGER NOT NULL,
    bytes            INTEGER NOT NULL,
    kernel_received  INTEGER NOT NULL,
    kernel_dropped   INTEGER NOT NULL,
    if_dropped       INTEGER NOT NULL,
    interface_dropped INTEGER NOT NULL,
    reopens          INTEGER NOT NULL,
    down_events      INTEGER NOT NULL,
    flows_active     INTEGER NOT NULL,
    flows_created    INTEGER NOT NULL,
    flows_evicted    INTEGER NOT NULL,
    evidence         INTEGER NOT NULL,
    hits_stored      INTEGER NOT NULL,
    rss_bytes        INTEGER NOT NULL,
    heap_bytes       INTEGER NOT NULL
  );
  CREATE INDEX capture_stats_interface_ts ON capture_stats (interface, ts_us);
  CREATE INDEX capture_stats_ts ON capture_stats (ts_us);
  `,
  // 3: mining sessions (one row per confirmed mining flow, store/session-store.ts) and the
  // owners an asset map gave miner IPs at capture time.
  `
  CREATE TABLE sessions (
    id                 INTEGER PRIMARY KEY,
    source             TEXT    NOT NULL,
    miner_ip           TEXT    NOT NULL,
    miner_port         INTEGER NOT NULL,
    pool_ip            TEXT    NOT NULL,
    pool_port          INTEGER NOT NULL,
    transport          TEXT    NOT NULL,
    dialect            TEXT    NOT NULL,
    algo               TEXT    NOT NULL,
    algo_assumed       INTEGER NOT NULL,
    algo_wire          TEXT,
    started            TEXT    NOT NULL,
    ended              TEXT    NOT NULL,
    start_us           INTEGER NOT NULL,
    end_us             INTEGER NOT NULL,
    end_reason         TEXT    NOT NULL,
    window_start_us    INTEGER NOT NULL,
    window_end_us      INTEGER NOT NULL,
    first_share_us     INTEGER,
    last_share_us      INTEGER,
    agent              TEXT,
    worker             TEXT,
    login              TEXT,
    wallet             TEXT,
    pool_host          TEXT,
    workers            TEXT    NOT NULL DEFAULT '[]',
    wallets            TEXT    NOT NULL DEFAULT '[]',
    shares_submitted   INTEGER NOT NULL,
    shares_accepted    INTEGER NOT NULL,
    shares_rejected    INTEGER NOT NULL,
    shares_stale       INTEGER NOT NULL,
    replies_unmatched  INTEGER NOT NULL,
    share_errors       TEXT    NOT NULL DEFAULT '[]',
    difficulty_history TEXT    NOT NULL DEFAULT '[]',
    hashes_submitted   REAL,
    hashes_accepted    REAL,
    hashrate_unit      TEXT,
    est_hashrate       REAL,
    est_hashrate_low   REAL,
    est_hashrate_high  REAL,
    self_hashrate      REAL,
    self_hashrate_reports INTEGER NOT NULL,
    packets_to_pool    INTEGER NOT NULL,
    packets_to_miner   INTEGER NOT NULL,
    bytes_to_pool      INTEGER NOT NULL,
    bytes_to_miner     INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX sessions_flow ON sessions (source, miner_ip, miner_port, pool_ip, pool_port, start_us);
  CREATE INDEX sessions_miner ON sessions (miner_ip, start_us);
  CREATE INDEX sessions_end ON sessions (end_us);

  CREATE TABLE ip_owners (
    ip          TEXT NOT NULL PRIMARY KEY,
    prefix      TEXT NOT NULL,
    owner_id    TEXT,
    name        TEXT,
    place       TEXT,
    tags        TEXT NOT NULL DEFAULT '[]',
    assets_file TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // Signature provenance of each hit (signatures/ file and line, detector).
  `
  ALTER TABLE hits ADD COLUMN provenance TEXT;
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
