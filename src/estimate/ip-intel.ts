/**
 * Per-IP mining intelligence from its sessions: how many sessions, workers, wallets and
 * pools; the hashrate per algorithm and the power across algorithms; the farm flag.
 *
 * Summing: sessions add up only while they run at the same time, so a hashrate is the sum
 * at the moment of peak concurrency (a miner that reconnects ten times is one rig, not
 * ten). Hashrates add only within one algorithm (H/s of SHA-256d and Sol/s of Equihash are
 * different units); the intervals of concurrent sessions, independent Poisson counts,
 * combine in quadrature (each side's half-width). Across algorithms the common unit is
 * power: each algorithm's power comes from its hashrate and efficiency range, and the
 * IP's power is their sum (an upper figure if the algorithms peaked at different times).
 */
import type { SessionRow } from '../store/session-store.js';
import { defaultAlgorithmCatalog, type AlgorithmCatalog } from './algorithms.js';
import { peakCount, peakSet } from './concurrency.js';
import { defaultEfficiencyTable, type EfficiencyTable } from './efficiency.js';
import { defaultFarmThresholds, farmReasons, type FarmThresholds } from './farm.js';
import type { RateEstimate } from './hashrate.js';
import { addPower, powerFrom, type PowerEstimate } from './power.js';
import { endpoint } from '../store/ip-address.js';
import { microsToIso } from '../store/iso-time.js';

export interface AlgorithmFigure {
  algo: string;
  /** True when at least one session's algorithm was the dialect default, not named. */
  assumed: boolean;
  unit: string | null;
  coins: string[];
  sessions: number;
  sharesSubmitted: number;
  /** Peak concurrent sum of the sessions' estimates (null when none has one). */
  hashrate: RateEstimate | null;
  /** Peak concurrent sum of the latest self-reported rates (H/s), never mixed into hashrate. */
  selfReported: number | null;
  /** Efficiency row used ("17.5–34 J/TH"), or null when the table has none. */
  efficiency: string | null;
  power: PowerEstimate | null;
}

export interface IpIntel {
  ip: string;
  sessions: number;
  concurrentSessions: number;
  /** Most sessions open at once that submitted shares (probes and failed logins left out). */
  concurrentMining: number;
  workers: string[];
  wallets: string[];
  /** Pool endpoints as ip:port. */
  pools: string[];
  coins: string[];
  /** By power (then shares), largest first. */
  algorithms: AlgorithmFigure[];
  sharesSubmitted: number;
  sharesAccepted: number;
  sharesRejected: number;
  /** Power of the sessions running together at the peak, across algorithms. */
  power: PowerEstimate | null;
  /** Algorithms with a hashrate but no efficiency row: their power is not in `power`. */
  powerMissingFor: string[];
  firstSeen: string;
  lastSeen: string;
  farm: boolean;
  farmReasons: string[];
}

export interface IntelTables {
  catalog: AlgorithmCatalog;
  efficiency: EfficiencyTable;
  farm: FarmThresholds;
}

export function defaultIntelTables(farm: Partial<FarmThresholds> = {}): IntelTables {
  return { catalog: defaultAlgorithmCatalog(), efficiency: defaultEfficiencyTable(), farm: { ...defaultFarmThresholds(), ...farm } };
}

interface Estimated {
  session: SessionRow;
  rate: RateEstimate | null;
}

/** Intelligence per miner IP over the given sessions. */
export function intelByIp(sessions: readonly SessionRow[], tables: IntelTables = defaultIntelTables()): Map<string, IpIntel> {
  const byIp = new Map<string, SessionRow[]>();
  for (const s of sessions) {
    const list = byIp.get(s.minerIp);
    if (list) list.push(s);
    else byIp.set(s.minerIp, [s]);
  }
  const out = new Map<string, IpIntel>();
  for (const [ip, list] of byIp) out.set(ip, ipIntel(ip, list, tables));
  return out;
}

export function ipIntel(ip: string, sessions: readonly SessionRow[], tables: IntelTables): IpIntel {
  const estimated: Estimated[] = sessions.map((session) => ({ session, rate: rateOf(session) }));
  const algorithms = [...groupBy(estimated, (e) => e.session.algo)].map(([algo, group]) => algorithmFigure(algo, group, tables));
  algorithms.sort((a, b) => (b.power?.watts ?? -1) - (a.power?.watts ?? -1) || b.sharesSubmitted - a.sharesSubmitted || (a.algo < b.algo ? -1 : 1));

  const power = sumPower(algorithms.flatMap((a) => (a.power ? [a.power] : [])));
  const workers = distinct(sessions.flatMap((s) => s.workers));
  const concurrentSessions = peakCount(sessions);
  const concurrentMining = peakCount(sessions.filter((s) => s.sharesSubmitted > 0));
  const reasons = farmReasons({ workers: workers.length, concurrentSessions: concurrentMining, powerWattsLow: power?.wattsLow ?? null }, tables.farm);
  return {
    ip,
    sessions: sessions.length,
    concurrentSessions,
    concurrentMining,
    workers,
    wallets: distinct(sessions.flatMap((s) => s.wallets)),
    pools: distinct(sessions.map((s) => endpoint(s.poolIp, s.poolPort))),
    coins: distinct(algorithms.flatMap((a) => a.coins)),
    algorithms,
    sharesSubmitted: sum(sessions, (s) => s.sharesSubmitted),
    sharesAccepted: sum(sessions, (s) => s.sharesAccepted),
    sharesRejected: sum(sessions, (s) => s.sharesRejected),
    power,
    powerMissingFor: algorithms.filter((a) => a.hashrate !== null && a.power === null).map((a) => a.algo),
    firstSeen: microsToIso(Math.min(...sessions.map((s) => s.startMicros))),
    lastSeen: microsToIso(Math.max(...sessions.map((s) => s.endMicros))),
    farm: reasons.length > 0,
    farmReasons: reasons,
  };
}

/** The figure the one-number columns show: the algorithm with the most power, else the most shares. */
export function dominantAlgorithm(intel: IpIntel): AlgorithmFigure | undefined {
  return intel.algorithms.find((a) => a.hashrate !== null) ?? intel.algorithms[0];
}

function algorithmFigure(algo: string, group: Estimated[], tables: IntelTables): AlgorithmFigure {
  const info = tables.catalog.lookup(algo);
  const rated = group.filter((e) => e.rate !== null);
  const hashrate = combine(peakSet(rated, toInterval, (e) => e.rate!.value).map((e) => e.rate!));
  const eff = tables.efficiency.get(algo);
  const selfReporting = group.filter((e) => e.session.selfHashrate !== null);
  const selfPeak = peakSet(selfReporting, toInterval, (e) => e.session.selfHashrate!);
  return {
    algo,
    assumed: group.some((e) => e.session.algoAssumed),
    unit: info?.unit ?? group.find((e) => e.session.hashrateUnit !== null)?.session.hashrateUnit ?? null,
    coins: info?.coins ?? [],
    sessions: group.length,
    sharesSubmitted: sum(group, (e) => e.session.sharesSubmitted),
    hashrate,
    selfReported: selfPeak.length === 0 ? null : sum(selfPeak, (e) => e.session.selfHashrate!),
    efficiency: eff?.label ?? null,
    power: hashrate && eff ? powerFrom(hashrate, eff) : null,
  };
}

function rateOf(s: SessionRow): RateEstimate | null {
  if (s.estHashrate === null || s.estHashrateLow === null || s.estHashrateHigh === null) return null;
  return { value: s.estHashrate, low: s.estHashrateLow, high: s.estHashrateHigh };
}

function toInterval(e: Estimated): { startMicros: number; endMicros: number } {
  return { startMicros: e.session.startMicros, endMicros: e.session.endMicros };
}

/** Sum of independent estimates: values add, each side's half-widths add in quadrature. */
function combine(rates: RateEstimate[]): RateEstimate | null {
  if (rates.length === 0) return null;
  let value = 0;
  let below = 0;
  let above = 0;
  for (const r of rates) {
    value += r.value;
    below += (r.value - r.low) ** 2;
    above += (r.high - r.value) ** 2;
  }
  return { value, low: Math.max(0, value - Math.sqrt(below)), high: value + Math.sqrt(above) };
}

function sumPower(list: PowerEstimate[]): PowerEstimate | null {
  return list.length === 0 ? null : list.reduce(addPower);
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))].sort();
}

function sum<T>(items: readonly T[], f: (t: T) => number): number {
  let total = 0;
  for (const it of items) total += f(it);
  return total;
}
