/**
 * `minewatch status`: the live sensor's health, from the capture_stats rows in the
 * database or from the stats file (--stats-file). Exit 0 when every interface is running
 * and reported recently, 1 when one is down, stopped or silent, 2 when there is nothing to
 * read.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { dropRatio } from '../live/health.js';
import type { CaptureStatsRow } from '../store/capture-stats.js';
import { HitStore } from '../store/hit-store.js';
import { DEFAULT_DB_PATH } from '../store/types.js';
import { stdout } from './output.js';

interface StatusOptions {
  db: string;
  statsFile?: string;
  json?: boolean;
  staleAfter: string;
}

export interface InterfaceStatus {
  latest: CaptureStatsRow;
  previous: CaptureStatsRow | null;
  ageSeconds: number;
  healthy: boolean;
  verdict: string;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("the live sensor's health: state, packets, drops, flows, hits, memory")
    .option('--db <path>', 'database the sensor writes', DEFAULT_DB_PATH)
    .option('--stats-file <path>', 'read the stats file the sensor writes instead of the database')
    .option('--stale-after <s>', 'seconds without a report before a sensor counts as silent', '180')
    .option('--json', 'print JSON')
    .action((opts: StatusOptions) => {
      process.exitCode = runStatus(opts);
    });
}

export function runStatus(opts: StatusOptions): number {
  const staleAfter = Number(opts.staleAfter);
  if (!Number.isFinite(staleAfter) || staleAfter <= 0) {
    process.stderr.write('minewatch: --stale-after must be a positive number of seconds\n');
    return 2;
  }
  let rows: CaptureStatsRow[];
  try {
    rows = opts.statsFile ? [readStatsFile(opts.statsFile)] : readDb(opts.db);
  } catch (err) {
    process.stderr.write(`minewatch: ${(err as Error).message}\n`);
    return 2;
  }
  if (rows.length === 0) {
    process.stderr.write(`minewatch: no live sensor has reported to ${opts.db} yet (start one with "minewatch run")\n`);
    return 2;
  }
  const statuses = groupByInterface(rows).map((group) => judge(group, staleAfter, Date.now()));
  stdout().write(opts.json ? `${JSON.stringify(statuses, null, 2)}\n` : statuses.map(formatStatus).join('\n'));
  return statuses.every((s) => s.healthy) ? 0 : 1;
}

function readDb(path: string): CaptureStatsRow[] {
  const store = HitStore.open(path, { readonly: true });
  try {
    return store.latestCaptureStats(2);
  } finally {
    store.close();
  }
}

function readStatsFile(path: string): CaptureStatsRow {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read stats file ${path}: ${(err as Error).message}`);
  }
  const row = value as Partial<CaptureStatsRow> | null;
  if (!row || typeof row.interface !== 'string' || typeof row.tsMicros !== 'number' || typeof row.packets !== 'number') {
    throw new Error(`${path} is not a minewatch stats file`);
  }
  return row as CaptureStatsRow;
}

/** Rows arrive newest first per interface. */
function groupByInterface(rows: CaptureStatsRow[]): CaptureStatsRow[][] {
  const groups = new Map<string, CaptureStatsRow[]>();
  for (const r of rows) {
    const g = groups.get(r.interface) ?? [];
    g.push(r);
    groups.set(r.interface, g);
  }
  return [...groups.values()];
}

function judge(group: CaptureStatsRow[], staleAfter: number, nowMs: number): InterfaceStatus {
  const latest = group[0]!;
  // A previous row of another process says nothing about this one's rates.
  const previous = group[1] && group[1].pid === latest.pid && group[1].startedAt === latest.startedAt ? group[1] : null;
  const ageSeconds = Math.max(0, (nowMs * 1000 - latest.tsMicros) / 1e6);
  let verdict: string;
  if (latest.state === 'stopped') verdict = 'stopped';
  else if (ageSeconds > staleAfter) verdict = `silent: no report for ${formatDuration(ageSeconds)} (process ${latest.pid} may have died)`;
  else if (latest.state === 'interface-down') verdict = 'interface down, retrying';
  else verdict = 'running';
  return { latest, previous, ageSeconds, healthy: verdict === 'running', verdict };
}

function formatStatus(s: InterfaceStatus): string {
  const r = s.latest;
  const p = s.previous;
  const seconds = p ? (r.tsMicros - p.tsMicros) / 1e6 : 0;
  const rate = (now: number, before: number | undefined, unit: string, scale = 1): string =>
    seconds > 0 && before !== undefined ? ` (${num(((now - before) * scale) / seconds)} ${unit})` : '';
  const uptime = (r.tsMicros / 1000 - Date.parse(r.startedAt)) / 1000;
  return [
    `${r.interface}: ${s.verdict}, pid ${r.pid}, up ${formatDuration(uptime)} (since ${r.startedAt})`,
    `  last report  ${r.ts ?? ''} (${formatDuration(s.ageSeconds)} ago)`,
    `  packets      ${num(r.packets)}${rate(r.packets, p?.packets, 'pps')}, bytes ${bytes(r.bytes)}${rate(r.bytes, p?.bytes, 'bit/s', 8)}`,
    `  drops        kernel ${num(r.kernelDropped)}, interface ${num(r.interfaceDropped)} (${(dropRatio(r) * 100).toFixed(4)}% of ${num(r.kernelReceived)} received)`,
    `  flows        active ${num(r.flowsActive)}, created ${num(r.flowsCreated)}, evicted ${num(r.flowsEvicted)}`,
    `  hits         detected ${num(r.evidence)}, stored ${num(r.hitsStored)}`,
    `  memory       rss ${bytes(r.rssBytes)}, heap ${bytes(r.heapBytes)}`,
    `  interface    went down ${num(r.downEvents)} time(s), capture reopened ${num(r.reopens)} time(s)`,
    '',
  ].join('\n');
}

function num(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
