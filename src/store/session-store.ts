/**
 * Sessions and recorded owners, on the HitStore's connection (HitStore.sessions). Writes
 * are batched like hits: add() buffers, flush() inserts in one transaction; a session
 * already stored (same source, endpoints and start) is ignored, so a replay of the same
 * capture inserts nothing.
 */
import type Database from 'better-sqlite3';
import type { DifficultyPoint, SessionRecord, ShareError } from '../detect/session-record.js';
import { microsToIso, parseIsoMicros } from './iso-time.js';
import { StoreError } from './types.js';

/** A stored session: the record plus its row id and ISO times. */
export interface SessionRow extends SessionRecord {
  id: number;
  started: string;
  ended: string;
}

/** An owner recorded for a miner IP from an asset map. */
export interface RecordedOwner {
  ip: string;
  prefix: string;
  ownerId: string | null;
  name: string | null;
  place: string | null;
  tags: string[];
  assetsFile: string;
  recordedAt: string;
}

export interface SessionFilter {
  /** Only these miner IPs (canonical text). */
  minerIps?: readonly string[];
  /** ISO times: sessions overlapping [since, until]. */
  since?: string;
  until?: string;
}

const FLUSH_AT = 1000;
const MAX_TEXT = 1024;

interface SessionDbRow {
  id: number;
  source: string;
  miner_ip: string;
  miner_port: number;
  pool_ip: string;
  pool_port: number;
  transport: string;
  dialect: string;
  algo: string;
  algo_assumed: number;
  algo_wire: string | null;
  started: string;
  ended: string;
  start_us: number;
  end_us: number;
  end_reason: string;
  window_start_us: number;
  window_end_us: number;
  first_share_us: number | null;
  last_share_us: number | null;
  agent: string | null;
  worker: string | null;
  login: string | null;
  wallet: string | null;
  pool_host: string | null;
  workers: string;
  wallets: string;
  shares_submitted: number;
  shares_accepted: number;
  shares_rejected: number;
  shares_stale: number;
  replies_unmatched: number;
  share_errors: string;
  difficulty_history: string;
  hashes_submitted: number | null;
  hashes_accepted: number | null;
  hashrate_unit: string | null;
  est_hashrate: number | null;
  est_hashrate_low: number | null;
  est_hashrate_high: number | null;
  self_hashrate: number | null;
  self_hashrate_reports: number;
  packets_to_pool: number;
  packets_to_miner: number;
  bytes_to_pool: number;
  bytes_to_miner: number;
}

interface OwnerDbRow {
  ip: string;
  prefix: string;
  owner_id: string | null;
  name: string | null;
  place: string | null;
  tags: string;
  assets_file: string;
  recorded_at: string;
}

export class SessionStore {
  private buffer: SessionRecord[] = [];
  private insert: Database.Statement | null = null;

  constructor(
    private readonly db: Database.Database,
    private readonly isReadonly: boolean,
  ) {}

  /** Buffers one session; flushes by itself every FLUSH_AT sessions. */
  add(s: SessionRecord): void {
    this.writable();
    this.buffer.push(s);
    if (this.buffer.length >= FLUSH_AT) this.flush();
  }

  pending(): number {
    return this.buffer.length;
  }

  /** Inserts the buffered sessions; returns how many were new. */
  flush(): number {
    if (this.buffer.length === 0) return 0;
    const insert = (this.insert ??= this.db.prepare(INSERT_SQL));
    const batch = this.buffer;
    const inserted = this.db.transaction(() => {
      let n = 0;
      for (const s of batch) {
        const params = toParams(s);
        n += insert.run(COLUMNS.map((c) => params[c])).changes;
      }
      return n;
    })();
    this.buffer = [];
    return inserted;
  }

  /** Sessions, oldest first (by start, then id). */
  list(filter: SessionFilter = {}): SessionRow[] {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (filter.since !== undefined) {
      where.push('end_us >= @since');
      params.since = isoParam('since', filter.since);
    }
    if (filter.until !== undefined) {
      where.push('start_us <= @until');
      params.until = isoParam('until', filter.until);
    }
    const base = `SELECT * FROM sessions${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
    let rows: SessionDbRow[];
    if (filter.minerIps === undefined) rows = this.db.prepare(`${base} ORDER BY start_us, id`).all(params) as SessionDbRow[];
    else {
      // One indexed lookup per IP keeps `show` and small exports cheap on a large table.
      const stmt = this.db.prepare(`${base}${where.length ? ' AND' : ' WHERE'} miner_ip = @ip ORDER BY start_us, id`);
      rows = filter.minerIps.flatMap((ip) => stmt.all({ ...params, ip }) as SessionDbRow[]);
      rows.sort((a, b) => a.start_us - b.start_us || a.id - b.id);
    }
    return rows.map(toRow);
  }

  count(): number {
    return this.db.prepare(`SELECT count(*) FROM sessions`).pluck().get() as number;
  }

  /** Records (or replaces) the owner of each IP as an asset map gave it. */
  recordOwners(owners: readonly RecordedOwner[]): void {
    this.writable();
    const stmt = this.db.prepare(`
      INSERT OR REPLACE INTO ip_owners (ip, prefix, owner_id, name, place, tags, assets_file, recorded_at)
      VALUES (@ip, @prefix, @ownerId, @name, @place, @tags, @assetsFile, @recordedAt)`);
    this.db.transaction(() => {
      for (const o of owners) stmt.run({ ...o, tags: JSON.stringify(o.tags) });
    })();
  }

  /** Recorded owners by IP. */
  recordedOwners(): Map<string, RecordedOwner> {
    const rows = this.db.prepare(`SELECT * FROM ip_owners`).all() as OwnerDbRow[];
    return new Map(
      rows.map((r) => [
        r.ip,
        {
          ip: r.ip,
          prefix: r.prefix,
          ownerId: r.owner_id,
          name: r.name,
          place: r.place,
          tags: parseJson<string[]>(r.tags, []),
          assetsFile: r.assets_file,
          recordedAt: r.recorded_at,
        },
      ]),
    );
  }

  private writable(): void {
    if (this.isReadonly) throw new StoreError('the store was opened read-only');
  }
}

const COLUMNS = [
  'source', 'miner_ip', 'miner_port', 'pool_ip', 'pool_port', 'transport', 'dialect', 'algo', 'algo_assumed',
  'algo_wire', 'started', 'ended', 'start_us', 'end_us', 'end_reason', 'window_start_us', 'window_end_us',
  'first_share_us', 'last_share_us', 'agent', 'worker', 'login', 'wallet', 'pool_host', 'workers', 'wallets',
  'shares_submitted', 'shares_accepted', 'shares_rejected', 'shares_stale', 'replies_unmatched', 'share_errors',
  'difficulty_history', 'hashes_submitted', 'hashes_accepted', 'hashrate_unit', 'est_hashrate', 'est_hashrate_low',
  'est_hashrate_high', 'self_hashrate', 'self_hashrate_reports', 'packets_to_pool', 'packets_to_miner',
  'bytes_to_pool', 'bytes_to_miner',
] as const;

// Positional parameters: better-sqlite3 looks named ones up by name, one property get each.
const INSERT_SQL = `INSERT OR IGNORE INTO sessions (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`;

function toParams(s: SessionRecord): Record<(typeof COLUMNS)[number], string | number | null> {
  const start = Math.trunc(s.startMicros);
  const end = Math.trunc(s.endMicros);
  return {
    source: clip(s.source),
    miner_ip: s.minerIp,
    miner_port: s.minerPort,
    pool_ip: s.poolIp,
    pool_port: s.poolPort,
    transport: s.transport,
    dialect: clip(s.dialect),
    algo: clip(s.algo),
    algo_assumed: s.algoAssumed ? 1 : 0,
    algo_wire: clipOrNull(s.algoWire),
    started: microsToIso(start),
    ended: microsToIso(end),
    start_us: start,
    end_us: end,
    end_reason: s.endReason,
    window_start_us: Math.trunc(s.windowStartMicros),
    window_end_us: Math.trunc(s.windowEndMicros),
    first_share_us: s.firstShareMicros,
    last_share_us: s.lastShareMicros,
    agent: clipOrNull(s.agent),
    worker: clipOrNull(s.worker),
    login: clipOrNull(s.login),
    wallet: clipOrNull(s.wallet),
    pool_host: clipOrNull(s.poolHost),
    workers: JSON.stringify(s.workers.map(clip)),
    wallets: JSON.stringify(s.wallets.map(clip)),
    shares_submitted: s.sharesSubmitted,
    shares_accepted: s.sharesAccepted,
    shares_rejected: s.sharesRejected,
    shares_stale: s.sharesStale,
    replies_unmatched: s.repliesUnmatched,
    share_errors: JSON.stringify(s.shareErrors),
    difficulty_history: JSON.stringify(s.difficultyHistory.map((p) => [p.tsMicros, p.raw, p.hashesPerShare])),
    hashes_submitted: s.hashesSubmitted,
    hashes_accepted: s.hashesAccepted,
    hashrate_unit: s.hashrateUnit,
    est_hashrate: s.estHashrate,
    est_hashrate_low: s.estHashrateLow,
    est_hashrate_high: s.estHashrateHigh,
    self_hashrate: s.selfHashrate,
    self_hashrate_reports: s.selfHashrateReports,
    packets_to_pool: s.packetsToPool,
    packets_to_miner: s.packetsToMiner,
    bytes_to_pool: s.bytesToPool,
    bytes_to_miner: s.bytesToMiner,
  };
}

function toRow(r: SessionDbRow): SessionRow {
  const history = parseJson<[number, string, number | null][]>(r.difficulty_history, []);
  return {
    id: r.id,
    started: r.started,
    ended: r.ended,
    source: r.source,
    minerIp: r.miner_ip,
    minerPort: r.miner_port,
    poolIp: r.pool_ip,
    poolPort: r.pool_port,
    transport: r.transport === 'udp' ? 'udp' : 'tcp',
    dialect: r.dialect,
    algo: r.algo,
    algoAssumed: r.algo_assumed === 1,
    algoWire: r.algo_wire,
    startMicros: r.start_us,
    endMicros: r.end_us,
    endReason: r.end_reason as SessionRow['endReason'],
    windowStartMicros: r.window_start_us,
    windowEndMicros: r.window_end_us,
    firstShareMicros: r.first_share_us,
    lastShareMicros: r.last_share_us,
    agent: r.agent,
    worker: r.worker,
    login: r.login,
    wallet: r.wallet,
    poolHost: r.pool_host,
    workers: parseJson<string[]>(r.workers, []),
    wallets: parseJson<string[]>(r.wallets, []),
    sharesSubmitted: r.shares_submitted,
    sharesAccepted: r.shares_accepted,
    sharesRejected: r.shares_rejected,
    sharesStale: r.shares_stale,
    repliesUnmatched: r.replies_unmatched,
    shareErrors: parseJson<ShareError[]>(r.share_errors, []),
    difficultyHistory: history.map(([tsMicros, raw, hashesPerShare]): DifficultyPoint => ({ tsMicros, raw, hashesPerShare })),
    hashesSubmitted: r.hashes_submitted,
    hashesAccepted: r.hashes_accepted,
    hashrateUnit: r.hashrate_unit,
    estHashrate: r.est_hashrate,
    estHashrateLow: r.est_hashrate_low,
    estHashrateHigh: r.est_hashrate_high,
    selfHashrate: r.self_hashrate,
    selfHashrateReports: r.self_hashrate_reports,
    packetsToPool: r.packets_to_pool,
    packetsToMiner: r.packets_to_miner,
    bytesToPool: r.bytes_to_pool,
    bytesToMiner: r.bytes_to_miner,
  };
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}

function clipOrNull(text: string | null): string | null {
  return text === null ? null : clip(text);
}

function isoParam(name: string, text: string): number {
  const micros = parseIsoMicros(text);
  if (micros === null) throw new StoreError(`${name} is not an ISO-8601 time: ${text}`);
  return micros;
}
