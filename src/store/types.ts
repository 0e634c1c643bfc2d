/**
 * Contract between the store and its readers (export, show). Hits and summaries are
 * returned as plain objects; times are ISO-8601 UTC strings with microseconds.
 */

/** Where `minewatch` keeps its database unless --db says otherwise (relative to the cwd). */
export const DEFAULT_DB_PATH = './minewatch.db';

/** Distinct values kept per JSON array column of ip_summary, so rows stay bounded. */
export const SUMMARY_LIST_CAP = 256;

export type Role = 'miner' | 'pool';
export type RoleFilter = Role | 'any';
export const ROLE_FILTERS: readonly RoleFilter[] = ['miner', 'pool', 'any'];

/** One row of ip_summary: everything seen for one IP in one role. */
export interface IpSummary {
  ip: string;
  role: Role;
  firstSeen: string;
  lastSeen: string;
  hits: number;
  /** Distinct values, sorted, at most SUMMARY_LIST_CAP each (the first ones seen). */
  dialects: string[];
  /** The other side as ip:port, IPv6 as [addr]:port. */
  peers: string[];
  /** Distinct non-empty worker, login and wallet values. */
  identities: string[];
  agents: string[];
}

/** One row of hits: one evidence event. Absent optional fields are null. */
export interface HitRow {
  id: number;
  ts: string;
  tsMicros: number;
  minerIp: string;
  minerPort: number;
  poolIp: string;
  poolPort: number;
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
  poolHost: string | null;
  detail: string | null;
  /** The detector and signature lines behind the hit (null for hits stored before provenance). */
  provenance: string | null;
}

/** What one replay did, as passed to HitStore.recordRun. */
export interface RunRecord {
  source: string;
  startedAt: string;
  finishedAt: string;
  packets: number;
  bytes: number;
  flows: number;
  hitsInserted: number;
  warnings: string[];
}

export interface RunRow extends RunRecord {
  id: number;
}

/** Evidence confidence levels, weakest first (detect/types.ts Confidence). */
export const CONFIDENCE_LEVELS = ['low', 'medium', 'high'] as const;
export type ConfidenceLevel = (typeof CONFIDENCE_LEVELS)[number];

/** The levels at or above `min`. */
export function levelsFrom(min: ConfidenceLevel): ConfidenceLevel[] {
  return CONFIDENCE_LEVELS.slice(CONFIDENCE_LEVELS.indexOf(min));
}

export interface IpFilter {
  /** Default 'any'. */
  role?: RoleFilter;
  /** Count only hits at or above this confidence (default 'low': all, from ip_summary). */
  minConfidence?: ConfidenceLevel;
  /** ISO times; an IP matches when its [first_seen, last_seen] overlaps [since, until]. */
  since?: string;
  until?: string;
}

export interface OpenOptions {
  /** Open read-only (implies mustExist); the schema must already be current. */
  readonly?: boolean;
  /** Fail instead of creating the database file when it is missing. */
  mustExist?: boolean;
  /**
   * A batch writer (replay): the WAL is copied back into the database every
   * BULK_CHECKPOINT_PAGES pages instead of SQLite's 1,000, each copy ending in fsyncs, so a
   * replay that stores many hits syncs an eighth as often. The live sensor keeps the
   * default: a longer copy would stall its packet thread for longer.
   */
  bulk?: boolean;
}

/** Pages (4 KiB) of WAL between checkpoints for a bulk writer: 32 MiB. */
export const BULK_CHECKPOINT_PAGES = 8192;

/** Errors a user can act on (missing database, wrong file, bad filter); the CLI prints
 *  the message as is. */
export class StoreError extends Error {
  override name = 'StoreError';
}
