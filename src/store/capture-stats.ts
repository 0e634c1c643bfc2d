/**
 * The capture_stats table (schema.ts, migration 2): one row per stats interval of a live
 * sensor, read back by `minewatch status`.
 */
import type Database from 'better-sqlite3';

export type SensorState = 'running' | 'interface-down' | 'stopped';

/** Totals since the sensor process started. */
export interface CaptureStatsRecord {
  tsMicros: number;
  interface: string;
  pid: number;
  startedAt: string;
  state: SensorState;
  packets: number;
  bytes: number;
  kernelReceived: number;
  kernelDropped: number;
  ifDropped: number;
  interfaceDropped: number;
  reopens: number;
  downEvents: number;
  flowsActive: number;
  flowsCreated: number;
  flowsEvicted: number;
  evidence: number;
  hitsStored: number;
  rssBytes: number;
  heapBytes: number;
}

export interface CaptureStatsRow extends CaptureStatsRecord {
  ts: string;
}

/** Rows older than this are deleted as new ones are written. */
const RETENTION_MICROS = 30 * 24 * 3600 * 1_000_000;

const COLUMNS: ReadonlyArray<[keyof CaptureStatsRecord, string]> = [
  ['tsMicros', 'ts_us'],
  ['interface', 'interface'],
  ['pid', 'pid'],
  ['startedAt', 'started_at'],
  ['state', 'state'],
  ['packets', 'packets'],
  ['bytes', 'bytes'],
  ['kernelReceived', 'kernel_received'],
  ['kernelDropped', 'kernel_dropped'],
  ['ifDropped', 'if_dropped'],
  ['interfaceDropped', 'interface_dropped'],
  ['reopens', 'reopens'],
  ['downEvents', 'down_events'],
  ['flowsActive', 'flows_active'],
  ['flowsCreated', 'flows_created'],
  ['flowsEvicted', 'flows_evicted'],
  ['evidence', 'evidence'],
  ['hitsStored', 'hits_stored'],
  ['rssBytes', 'rss_bytes'],
  ['heapBytes', 'heap_bytes'],
];

export function insertCaptureStats(db: Database.Database, ts: string, record: CaptureStatsRecord): void {
  const names = COLUMNS.map(([, c]) => c);
  const insert = db.prepare(
    `INSERT INTO capture_stats (ts, ${names.join(', ')}) VALUES (@ts, ${COLUMNS.map(([k]) => `@${k}`).join(', ')})`,
  );
  const prune = db.prepare(`DELETE FROM capture_stats WHERE ts_us < ?`);
  db.transaction(() => {
    insert.run({ ts, ...record, tsMicros: Math.trunc(record.tsMicros) });
    prune.run(Math.trunc(record.tsMicros) - RETENTION_MICROS);
  })();
}

/**
 * The newest rows for each interface (newest first within an interface): two per
 * interface, so a reader can compute rates. Interfaces are ordered by name.
 */
export function latestCaptureStats(db: Database.Database, perInterface = 2): CaptureStatsRow[] {
  const interfaces = db.prepare(`SELECT DISTINCT interface FROM capture_stats ORDER BY interface`).pluck().all() as string[];
  const latest = db.prepare(`SELECT * FROM capture_stats WHERE interface = ? ORDER BY ts_us DESC, id DESC LIMIT ?`);
  return interfaces.flatMap((name) => (latest.all(name, perInterface) as Record<string, unknown>[]).map(toRecord));
}

function toRecord(row: Record<string, unknown>): CaptureStatsRow {
  const out: Record<string, unknown> = { ts: row.ts };
  for (const [key, column] of COLUMNS) out[key] = row[column];
  return out as unknown as CaptureStatsRow;
}
