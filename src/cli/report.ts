/**
 * `minewatch report`: the miner IPs ranked for an inspector, by estimated power (default),
 * hashrate or workers: owner, coins, workers, sessions, hashrate with its 90 % interval,
 * power and kWh per day as a range, first and last seen, and the farm flag.
 */
import type { Command } from 'commander';
import { dominantAlgorithm, type IpIntel } from '../estimate/ip-intel.js';
import { kwhPerDay } from '../estimate/power.js';
import { withPrefix } from '../estimate/units.js';
import type { ExportContext } from '../export/records.js';
import { HitStore } from '../store/hit-store.js';
import { parseIsoMicros } from '../store/iso-time.js';
import { ownerLabel, type OwnerView } from '../store/owners.js';
import { DEFAULT_DB_PATH, type IpSummary } from '../store/types.js';
import { addAssetsOption, addFarmOptions, farmOverrides, intelContext, loadAssets, type AssetsOption, type FarmOptions } from './intel-options.js';
import { stdout } from './output.js';

export const REPORT_ORDERS = ['power', 'hashrate', 'workers'] as const;
export type ReportOrder = (typeof REPORT_ORDERS)[number];

export interface ReportOptions extends AssetsOption, FarmOptions {
  db: string;
  top: string;
  by: string;
  since?: string;
  until?: string;
  json?: boolean;
}

export interface ReportEntry {
  rank: number;
  ip: string;
  summary: IpSummary;
  intel: IpIntel | undefined;
  owner: OwnerView;
}

const MAX_CELL = 36;

export function registerReport(program: Command): void {
  const cmd = program
    .command('report')
    .description('rank the miner IPs by estimated power, hashrate or workers, with owners and intervals')
    .option('--db <path>', 'database file', DEFAULT_DB_PATH)
    .option('--top <n>', 'rows to show', '20')
    .option('--by <order>', `ranking: ${REPORT_ORDERS.join(', ')}`, 'power')
    .option('--since <iso>', 'only IPs and sessions active at or after this time')
    .option('--until <iso>', 'only IPs and sessions active at or before this time')
    .option('--json', 'print JSON instead of a table');
  addFarmOptions(addAssetsOption(cmd)).action((opts: ReportOptions) => {
    process.exitCode = runReport(opts);
  });
}

/** Runs the report; returns the exit code (0 ok, 2 usage or database error). */
export function runReport(opts: ReportOptions): number {
  const fail = (message: string): number => {
    process.stderr.write(`minewatch report: ${message}\n`);
    return 2;
  };
  if (!/^\d+$/.test(opts.top) || Number(opts.top) < 1) return fail(`--top must be a positive integer, got '${opts.top}'`);
  if (!(REPORT_ORDERS as readonly string[]).includes(opts.by)) return fail(`--by must be one of ${REPORT_ORDERS.join(', ')}`);
  for (const [flag, value] of [['--since', opts.since], ['--until', opts.until]] as const) {
    if (value !== undefined && parseIsoMicros(value) === null) return fail(`${flag} is not an ISO-8601 time: '${value}'`);
  }
  const farm = farmOverrides(opts);
  if (typeof farm === 'string') return fail(farm);

  let entries: ReportEntry[];
  let total: number;
  try {
    const assets = loadAssets(opts);
    const store = HitStore.open(opts.db, { readonly: true });
    try {
      const ctx = intelContext(store, assets, farm, { since: opts.since, until: opts.until });
      const miners = store.listIps({ role: 'miner', since: opts.since, until: opts.until });
      const ranked = rankMiners(miners, ctx, opts.by as ReportOrder);
      total = ranked.length;
      entries = ranked.slice(0, Number(opts.top));
    } finally {
      store.close();
    }
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  stdout().write(opts.json ? `${JSON.stringify(entries.map(entryJson), null, 2)}\n` : renderTable(entries, total, opts.by as ReportOrder));
  return 0;
}

/** Miner IPs in report order; ties (and IPs without an estimate) by workers, shares, then IP order. */
export function rankMiners(miners: readonly IpSummary[], ctx: ExportContext, by: ReportOrder): ReportEntry[] {
  const rows = miners.map((summary) => ({ summary, intel: ctx.intel.get(summary.ip), owner: ctx.owner(summary.ip) }));
  const key = (r: (typeof rows)[number]): number => {
    const i = r.intel;
    if (!i) return -1;
    if (by === 'power') return i.power?.watts ?? -1;
    if (by === 'hashrate') return dominantAlgorithm(i)?.hashrate?.value ?? -1;
    return i.workers.length;
  };
  // listIps is in IP order already; a stable sort keeps it for ties.
  const sorted = [...rows].sort(
    (a, b) =>
      key(b) - key(a) ||
      (b.intel?.workers.length ?? 0) - (a.intel?.workers.length ?? 0) ||
      (b.intel?.sharesSubmitted ?? 0) - (a.intel?.sharesSubmitted ?? 0),
  );
  return sorted.map((r, i) => ({ rank: i + 1, ip: r.summary.ip, ...r }));
}

function renderTable(entries: ReportEntry[], total: number, by: ReportOrder): string {
  const header = ['#', 'IP', 'OWNER', 'COINS', 'WORKERS', 'SESS', 'HASHRATE [90% interval]', 'POWER [range]', 'KWH/DAY [range]', 'FIRST SEEN', 'LAST SEEN', 'FARM'];
  const rows = entries.map((e) => {
    const i = e.intel;
    const power = i?.power ?? null;
    return [
      String(e.rank),
      e.ip,
      clip(printable(ownerLabel(e.owner))),
      clip(i && i.coins.length ? i.coins.join(',') : '-'),
      String(i?.workers.length ?? 0),
      i ? `${i.sessions}${i.concurrentSessions > 1 ? ` (${i.concurrentSessions} at once)` : ''}` : '0',
      i ? hashrateCell(i) : '-',
      power ? `${withPrefix(power.watts, 'W')} [${withPrefix(power.wattsLow, 'W')} – ${withPrefix(power.wattsHigh, 'W')}]${i!.powerMissingFor.length ? ' + ?' : ''}` : powerGap(i),
      power ? `${fixed(kwhPerDay(power.watts))} [${fixed(kwhPerDay(power.wattsLow))} – ${fixed(kwhPerDay(power.wattsHigh))}]` : '-',
      (i?.firstSeen ?? e.summary.firstSeen).slice(0, 19).replace('T', ' '),
      (i?.lastSeen ?? e.summary.lastSeen).slice(0, 19).replace('T', ' '),
      i?.farm ? 'FARM' : '',
    ];
  });
  const out = [`Miner IPs by estimated ${by} (${entries.length} of ${total}):`, ...align([header, ...rows]), ''];
  out.push(
    'hashrate: share work (difficulty x hashes per difficulty) / observed seconds, per algorithm, summed over',
    'concurrent sessions; 90 % Poisson interval. power: hashrate x efficiency range (signatures/efficiency.json),',
    'summed over algorithms; kWh/day at that draw around the clock. * = algorithm assumed from the dialect.',
  );
  const partial = entries.filter((e) => e.intel?.power && e.intel.powerMissingFor.length);
  for (const p of partial) out.push(`+ ? ${p.ip}: no efficiency figure for ${p.intel!.powerMissingFor.join(', ')} (add a row to signatures/efficiency.json)`);
  const farms = entries.filter((e) => e.intel?.farm);
  for (const f of farms) out.push(`farm ${f.ip}: ${f.intel!.farmReasons.join('; ')}`);
  return `${out.join('\n')}\n`;
}

function hashrateCell(i: IpIntel): string {
  const parts = i.algorithms
    .filter((a) => a.hashrate !== null)
    .map((a) => `${withPrefix(a.hashrate!.value, a.unit ?? 'H/s')} [${withPrefix(a.hashrate!.low, a.unit ?? 'H/s')} – ${withPrefix(a.hashrate!.high, a.unit ?? 'H/s')}] ${a.algo}${a.assumed ? '*' : ''}`);
  return parts.length ? parts.join('; ') : `- (${i.sharesSubmitted} shares, no conversion)`;
}

function powerGap(i: IpIntel | undefined): string {
  if (!i) return '-';
  return i.powerMissingFor.length ? `- (no efficiency for ${i.powerMissingFor.join(',')})` : '-';
}

function entryJson(e: ReportEntry): object {
  const i = e.intel;
  return {
    rank: e.rank,
    ip: e.ip,
    owner: e.owner,
    first_seen: i?.firstSeen ?? e.summary.firstSeen,
    last_seen: i?.lastSeen ?? e.summary.lastSeen,
    hits: e.summary.hits,
    sessions: i?.sessions ?? 0,
    concurrent_sessions: i?.concurrentSessions ?? 0,
    workers: i?.workers ?? [],
    wallets: i?.wallets ?? [],
    pools: i?.pools ?? [],
    coins: i?.coins ?? [],
    shares: { submitted: i?.sharesSubmitted ?? 0, accepted: i?.sharesAccepted ?? 0, rejected: i?.sharesRejected ?? 0 },
    algorithms: (i?.algorithms ?? []).map((a) => ({
      algo: a.algo,
      assumed: a.assumed,
      unit: a.unit,
      sessions: a.sessions,
      shares_submitted: a.sharesSubmitted,
      est_hashrate: a.hashrate?.value ?? null,
      est_hashrate_low: a.hashrate?.low ?? null,
      est_hashrate_high: a.hashrate?.high ?? null,
      self_reported_hashrate: a.selfReported,
      efficiency: a.efficiency,
      est_power_w: a.power?.watts ?? null,
    })),
    est_power_w: i?.power?.watts ?? null,
    est_power_w_low: i?.power?.wattsLow ?? null,
    est_power_w_high: i?.power?.wattsHigh ?? null,
    est_kwh_day: i?.power ? kwhPerDay(i.power.watts) : null,
    est_kwh_day_low: i?.power ? kwhPerDay(i.power.wattsLow) : null,
    est_kwh_day_high: i?.power ? kwhPerDay(i.power.wattsHigh) : null,
    farm: i?.farm ?? false,
    farm_reasons: i?.farmReasons ?? [],
  };
}

function fixed(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(3);
}

function align(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

function clip(text: string): string {
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

/** Owner names come from an operator file, coins from a table: still keep control characters out of the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
}
