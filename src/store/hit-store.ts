/**
 * SQLite store for evidence. Writes are batched: add() only buffers, flush() inserts the
 * batch and updates the per-IP rollup in one transaction (see schema.ts for the tables).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Evidence } from '../detect/types.js';
import { microsToIso, parseIsoMicros } from './iso-time.js';
import { mergeSummary, RollupBuilder, type StoredSummary } from './rollup.js';
import { insertCaptureStats, latestCaptureStats, type CaptureStatsRecord, type CaptureStatsRow } from './capture-stats.js';
import { migrate, readSchemaVersion, SCHEMA_VERSION } from './schema.js';
import { SessionStore } from './session-store.js';
import { compareSummaries } from './summary-order.js';
import {
  ROLE_FILTERS,
  StoreError,
  type HitRow,
  type IpFilter,
  type IpSummary,
  levelsFrom,
  type ConfidenceLevel,
  BULK_CHECKPOINT_PAGES,
  type OpenOptions,
  type Role,
  type RunRecord,
  type RunRow,
} from './types.js';

/** Longest text kept per column: agents, logins and kinds come off the wire. */
const MAX_TEXT = 1024;
const DEFAULT_EVIDENCE_LIMIT = 100;
/** Hits buffered at most while flushes fail. */
const MAX_PENDING_HITS = 1_000_000;

/** Named parameters of the hits insert; also what the rollup reads. */
type HitParams = Omit<HitRow, 'id'>;

interface SummaryDbRow {
  ip: string;
  role: Role;
  first_seen_us: number;
  last_seen_us: number;
  hits: number;
  dialects: string;
  peers: string;
  identities: string;
  agents: string;
}

interface HitDbRow {
  id: number;
  ts: string;
  ts_us: number;
  miner_ip: string;
  miner_port: number;
  pool_ip: string;
  pool_port: number;
  transport: string;
  dialect: string;
  kind: string;
  confidence: string;
  detector: string;
  source: string;
  agent: string | null;
  worker: string | null;
  login: string | null;
  wallet: string | null;
  algo: string | null;
  pool_host: string | null;
  detail: string | null;
  provenance: string | null;
}

interface RunDbRow {
  id: number;
  source: string;
  started_at: string;
  finished_at: string;
  packets: number;
  bytes: number;
  flows: number;
  hits_inserted: number;
  warnings: string;
}

export class HitStore {
  private buffer: Evidence[] = [];
  private closed = false;
  private sessionStore: SessionStore | undefined;
  private readonly insertHit: Database.Statement | null;
  private readonly selectSummary: Database.Statement;
  private readonly replaceSummary: Database.Statement | null;

  private constructor(
    private readonly db: Database.Database,
    private readonly isReadonly: boolean,
  ) {
    this.selectSummary = db.prepare(`SELECT * FROM ip_summary WHERE ip = ? AND role = ?`);
    this.insertHit = isReadonly
      ? null
      : db.prepare(`
        INSERT OR IGNORE INTO hits (ts, ts_us, miner_ip, miner_port, pool_ip, pool_port,
          transport, dialect, kind, confidence, detector, source,
          agent, worker, login, wallet, algo, pool_host, detail, provenance)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.replaceSummary = isReadonly
      ? null
      : db.prepare(`
        INSERT OR REPLACE INTO ip_summary (ip, role, first_seen, last_seen, first_seen_us,
          last_seen_us, hits, dialects, peers, identities, agents)
        VALUES (@ip, @role, @firstSeen, @lastSeen, @firstUs, @lastUs, @hits,
          @dialects, @peers, @identities, @agents)`);
  }

  /**
   * Opens (and for writers creates or upgrades) a database. Readers pass readonly: the
   * file must exist and already hold the current schema; it is never created.
   */
  static open(path: string, opts: OpenOptions = {}): HitStore {
    const readonly = opts.readonly ?? false;
    const mustExist = readonly || (opts.mustExist ?? false);
    const exists = path === ':memory:' || existsSync(path);
    if (mustExist && !exists) throw new StoreError(`database not found: ${path}`);
    const created = !readonly && !exists;
    let db: Database.Database;
    try {
      db = new Database(path, { readonly, fileMustExist: mustExist, nativeBinding: sqliteAddon() });
    } catch (err) {
      throw new StoreError(`cannot open database ${path}: ${messageOf(err)}`);
    }
    try {
      if (readonly) {
        const version = readSchemaVersion(db, path);
        if (version === 0) throw new StoreError(`not a minewatch database (empty): ${path}`);
        if (version !== SCHEMA_VERSION) {
          throw new StoreError(
            `${path} has schema version ${version}, expected ${SCHEMA_VERSION}; ` +
              'open it once for writing (replay) to upgrade',
          );
        }
      } else {
        // Switching a file to WAL writes its header in a rollback-journal transaction, with
        // four fsyncs at the default level; a file this open creates holds nothing to lose
        // (0.7 ms of every replay into a new database).
        if (created) db.pragma('synchronous = OFF');
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        if (opts.bulk) db.pragma(`wal_autocheckpoint = ${BULK_CHECKPOINT_PAGES}`);
        migrate(db, path);
      }
      return new HitStore(db, readonly);
    } catch (err) {
      db.close();
      if (err instanceof StoreError) throw err;
      if (isSqliteCode(err, 'SQLITE_NOTADB')) throw new StoreError(`not a minewatch database: ${path}`);
      throw err;
    }
  }

  /** Buffers one hit; no SQL runs until flush(). */
  add(e: Evidence): void {
    if (this.isReadonly) throw new StoreError('the store was opened read-only');
    // A database that keeps failing (disk full) must not make a 24/7 sensor grow without
    // bound: beyond the cap new hits are counted and dropped.
    if (this.buffer.length >= MAX_PENDING_HITS) {
      this.droppedHits++;
      return;
    }
    this.buffer.push(e);
  }

  /** Hits dropped because the buffer was full while writes were failing. */
  droppedHits = 0;

  pending(): number {
    return this.buffer.length;
  }

  /**
   * Writes the buffered hits in one transaction (duplicates of stored hits are ignored)
   * and folds the new ones into ip_summary. Returns the number of hits newly stored.
   * On error nothing is written and the buffer is kept.
   */
  flush(): number {
    if (this.buffer.length === 0) return 0;
    const batch = this.buffer;
    const insertHit = this.insertHit!;
    const inserted = this.db.transaction(() => {
      const rollup = new RollupBuilder();
      let count = 0;
      for (const e of batch) {
        const p = toParams(e);
        // Positional: better-sqlite3 looks named parameters up by name, one property get each
        // (a mining-heavy replay spent 15 % more time with them).
        const inserted = insertHit.run(
          p.ts, p.tsMicros, p.minerIp, p.minerPort, p.poolIp, p.poolPort, p.transport, p.dialect, p.kind, p.confidence,
          p.detector, p.source, p.agent, p.worker, p.login, p.wallet, p.algo, p.poolHost, p.detail, p.provenance,
        );
        if (inserted.changes === 1) {
          count++;
          rollup.add(p);
        }
      }
      this.applyRollup(rollup);
      return count;
    })();
    this.buffer = [];
    return inserted;
  }

  /** Recomputes ip_summary from the hits table (repair; flush keeps it current). */
  rebuildSummaries(): void {
    if (this.isReadonly) throw new StoreError('the store was opened read-only');
    this.db.transaction(() => {
      const rollup = new RollupBuilder();
      const rows = this.db.prepare(`SELECT * FROM hits ORDER BY id`).iterate() as Iterable<HitDbRow>;
      for (const row of rows) rollup.add(toHitRow(row));
      this.db.exec(`DELETE FROM ip_summary`);
      this.applyRollup(rollup);
    })();
  }

  recordRun(run: RunRecord): void {
    if (this.isReadonly) throw new StoreError('the store was opened read-only');
    this.db
      .prepare(
        `INSERT INTO runs (source, started_at, finished_at, packets, bytes, flows,
           hits_inserted, warnings)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.source,
        run.startedAt,
        run.finishedAt,
        run.packets,
        run.bytes,
        run.flows,
        run.hitsInserted,
        JSON.stringify(run.warnings),
      );
  }

  /** One live-sensor health row (capture-stats.ts). */
  recordCaptureStats(record: CaptureStatsRecord): void {
    if (this.isReadonly) throw new StoreError('the store was opened read-only');
    insertCaptureStats(this.db, microsToIso(Math.trunc(record.tsMicros)), record);
  }

  /** The newest capture_stats rows per interface (newest first), for `status`. */
  latestCaptureStats(perInterface = 2): CaptureStatsRow[] {
    return latestCaptureStats(this.db, perInterface);
  }

  /** Recorded runs, oldest first. */
  listRuns(): RunRow[] {
    const rows = this.db.prepare(`SELECT * FROM runs ORDER BY id`).all() as RunDbRow[];
    return rows.map((r) => ({
      id: r.id,
      source: r.source,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      packets: r.packets,
      bytes: r.bytes,
      flows: r.flows,
      hitsInserted: r.hits_inserted,
      warnings: parseList(r.warnings),
    }));
  }

  /**
   * Summary rows, ordered by IP (IPv4 then IPv6, numerically) then role. With since/until
   * an IP is kept when it was active at some point in [since, until].
   */
  listIps(filter: IpFilter = {}): IpSummary[] {
    const role = filter.role ?? 'any';
    if (!ROLE_FILTERS.includes(role)) throw new StoreError(`unknown role: ${String(role)}`);
    if (filter.minConfidence !== undefined && filter.minConfidence !== 'low') return this.listIpsAtConfidence(filter);
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (role !== 'any') {
      where.push('role = @role');
      params.role = role;
    }
    if (filter.since !== undefined) {
      where.push('last_seen_us >= @since');
      params.since = isoParam('since', filter.since);
    }
    if (filter.until !== undefined) {
      where.push('first_seen_us <= @until');
      params.until = isoParam('until', filter.until);
    }
    const sql = `SELECT * FROM ip_summary${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
    const rows = this.db.prepare(sql).all(params) as SummaryDbRow[];
    return rows.map(toSummary).sort(compareSummaries);
  }

  /** The summary rows of one IP: as miner and/or as pool. */
  summaryFor(ip: string, minConfidence: ConfidenceLevel = 'low'): IpSummary[] {
    if (minConfidence !== 'low') return this.rollupFromHits(levelsFrom(minConfidence), ip).sort(compareSummaries);
    const rows = this.db
      .prepare(`SELECT * FROM ip_summary WHERE ip = ? ORDER BY role`)
      .all(ip) as SummaryDbRow[];
    return rows.map(toSummary);
  }

  /** Hits where the IP is miner or pool, newest first (ties: last stored first). */
  evidenceFor(ip: string, limit = DEFAULT_EVIDENCE_LIMIT, minConfidence: ConfidenceLevel = 'low'): HitRow[] {
    if (!Number.isInteger(limit) || limit < 1) throw new StoreError(`bad evidence limit: ${limit}`);
    const levels = levelsFrom(minConfidence);
    const confidenceSql = minConfidence === 'low' ? '' : ` AND confidence IN (${levels.map(() => '?').join(', ')})`;
    const levelParams = minConfidence === 'low' ? [] : levels;
    // One ordered index walk per side, merged here: a UNION would sort every hit of a
    // busy pool just to return the newest few.
    const side = (column: string): HitDbRow[] =>
      this.db
        .prepare(`SELECT * FROM hits WHERE ${column} = ?${confidenceSql} ORDER BY ts_us DESC, id DESC LIMIT ?`)
        .all(ip, ...levelParams, limit) as HitDbRow[];
    const seen = new Set<number>();
    const merged: HitDbRow[] = [];
    for (const row of [...side('miner_ip'), ...side('pool_ip')]) {
      if (!seen.has(row.id)) {
        seen.add(row.id);
        merged.push(row);
      }
    }
    merged.sort((a, b) => b.ts_us - a.ts_us || b.id - a.id);
    return merged.slice(0, limit).map(toHitRow);
  }

  /** Mining sessions and recorded owners, on this connection (session-store.ts). */
  get sessions(): SessionStore {
    this.sessionStore ??= new SessionStore(this.db, this.isReadonly);
    return this.sessionStore;
  }

  /**
   * listIps counting only hits at or above a confidence: rolled up from those hits (the
   * ip_summary table counts all of them), then filtered by role and time the same way.
   */
  private listIpsAtConfidence(filter: IpFilter): IpSummary[] {
    const since = filter.since === undefined ? undefined : isoParam('since', filter.since);
    const until = filter.until === undefined ? undefined : isoParam('until', filter.until);
    const role = filter.role ?? 'any';
    return this.rollupFromHits(levelsFrom(filter.minConfidence ?? 'low'))
      .filter((s) => role === 'any' || s.role === role)
      .filter((s) => since === undefined || parseIsoMicros(s.lastSeen)! >= since)
      .filter((s) => until === undefined || parseIsoMicros(s.firstSeen)! <= until)
      .sort(compareSummaries);
  }

  /** Summaries built from the hits at the given confidence levels (optionally of one IP). */
  private rollupFromHits(levels: readonly ConfidenceLevel[], ip?: string): IpSummary[] {
    const marks = levels.map(() => '?').join(', ');
    const sql = ip === undefined
      ? `SELECT * FROM hits WHERE confidence IN (${marks}) ORDER BY id`
      : `SELECT * FROM hits WHERE confidence IN (${marks}) AND (miner_ip = ? OR pool_ip = ?) ORDER BY id`;
    const params: string[] = ip === undefined ? [...levels] : [...levels, ip, ip];
    const rollup = new RollupBuilder();
    for (const row of this.db.prepare(sql).iterate(...params) as Iterable<HitDbRow>) rollup.add(toHitRow(row));
    const out: IpSummary[] = [];
    for (const entry of rollup.entries()) {
      if (ip !== undefined && entry.ip !== ip) continue;
      const merged = mergeSummary(undefined, entry);
      out.push({
        ip: entry.ip,
        role: entry.role,
        firstSeen: microsToIso(merged.firstUs),
        lastSeen: microsToIso(merged.lastUs),
        hits: merged.hits,
        dialects: merged.dialects,
        peers: merged.peers,
        identities: merged.identities,
        agents: merged.agents,
      });
    }
    return out;
  }

  /** Flushes what is buffered, then closes. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    try {
      if (!this.isReadonly) {
        this.flush();
        this.sessionStore?.flush();
      }
    } finally {
      this.closed = true;
      this.db.close();
    }
  }

  private applyRollup(rollup: RollupBuilder): void {
    const replace = this.replaceSummary!;
    for (const entry of rollup.entries()) {
      const row = this.selectSummary.get(entry.ip, entry.role) as SummaryDbRow | undefined;
      const merged = mergeSummary(row && toStored(row), entry);
      replace.run({
        ip: entry.ip,
        role: entry.role,
        firstSeen: microsToIso(merged.firstUs),
        lastSeen: microsToIso(merged.lastUs),
        firstUs: merged.firstUs,
        lastUs: merged.lastUs,
        hits: merged.hits,
        dialects: JSON.stringify(merged.dialects),
        peers: JSON.stringify(merged.peers),
        identities: JSON.stringify(merged.identities),
        agents: JSON.stringify(merged.agents),
      });
    }
  }
}

function toParams(e: Evidence): HitParams {
  const tsMicros = Math.trunc(e.tsMicros);
  return {
    ts: microsToIso(tsMicros),
    tsMicros,
    minerIp: e.minerIp,
    minerPort: e.minerPort,
    poolIp: e.poolIp,
    poolPort: e.poolPort,
    transport: e.transport,
    dialect: clip(e.dialect),
    kind: clip(e.kind),
    confidence: e.confidence,
    detector: clip(e.detector),
    source: clip(e.source),
    agent: clipOptional(e.agent),
    worker: clipOptional(e.worker),
    login: clipOptional(e.login),
    wallet: clipOptional(e.wallet),
    algo: clipOptional(e.algo),
    poolHost: clipOptional(e.poolHost),
    detail: clipOptional(e.detail),
    provenance: clipOptional(e.provenance),
  };
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}

function clipOptional(text: string | undefined): string | null {
  return text === undefined ? null : clip(text);
}

function toHitRow(r: HitDbRow): HitRow {
  return {
    id: r.id,
    ts: r.ts,
    tsMicros: r.ts_us,
    minerIp: r.miner_ip,
    minerPort: r.miner_port,
    poolIp: r.pool_ip,
    poolPort: r.pool_port,
    transport: r.transport,
    dialect: r.dialect,
    kind: r.kind,
    confidence: r.confidence,
    detector: r.detector,
    source: r.source,
    agent: r.agent,
    worker: r.worker,
    login: r.login,
    wallet: r.wallet,
    algo: r.algo,
    poolHost: r.pool_host,
    detail: r.detail,
    provenance: r.provenance,
  };
}

function toStored(r: SummaryDbRow): StoredSummary {
  return {
    firstUs: r.first_seen_us,
    lastUs: r.last_seen_us,
    hits: r.hits,
    dialects: parseList(r.dialects),
    peers: parseList(r.peers),
    identities: parseList(r.identities),
    agents: parseList(r.agents),
  };
}

function toSummary(r: SummaryDbRow): IpSummary {
  return {
    ip: r.ip,
    role: r.role,
    firstSeen: microsToIso(r.first_seen_us),
    lastSeen: microsToIso(r.last_seen_us),
    hits: r.hits,
    dialects: parseList(r.dialects),
    peers: parseList(r.peers),
    identities: parseList(r.identities),
    agents: parseList(r.agents),
  };
}

function parseList(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function isoParam(name: string, text: string): number {
  const micros = parseIsoMicros(text);
  if (micros === null) throw new StoreError(`${name} is not an ISO-8601 time: ${text}`);
  return micros;
}

function isSqliteCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let addon: string | null | undefined;

/**
 * better-sqlite3's addon where its install builds it, or undefined to let the package find
 * it: its finder (the `bindings` package) tries a list of paths by failing requires, 3 ms of
 * every start.
 */
function sqliteAddon(): string | undefined {
  if (addon === undefined) {
    addon = null;
    try {
      const file = join(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
      if (existsSync(file)) addon = file;
    } catch {
      // Not resolvable from here: the package's own search still applies.
    }
  }
  return addon ?? undefined;
}
