/**
 * The exported shape of a summary row (snake_case, as in the database) and its order,
 * with the IP's mining intelligence (sessions, workers, estimates) and its owner.
 */
import { dominantAlgorithm, type IpIntel } from '../estimate/ip-intel.js';
import { kwhPerDay } from '../estimate/power.js';
import type { SessionRow } from '../store/session-store.js';
import { ownerLookup, type OwnerLookup, type OwnerStatus } from '../store/owners.js';
import { compareSummaries } from '../store/summary-order.js';
import type { IpSummary, Role } from '../store/types.js';

export interface ExportRecord {
  ip: string;
  role: Role;
  first_seen: string;
  last_seen: string;
  hits: number;
  dialects: string[];
  peers: string[];
  identities: string[];
  agents: string[];
  /** Mining sessions (flows) of the IP as miner, and the most open at once. */
  sessions: number;
  concurrent_sessions: number;
  /** Distinct worker names and wallets across the sessions. */
  workers: number;
  wallets: number;
  algorithms: string[];
  coins: string[];
  shares_submitted: number;
  shares_accepted: number;
  shares_rejected: number;
  /** The estimate columns give the dominant algorithm (most power, else most shares). */
  hashrate_algo: string | null;
  hashrate_unit: string | null;
  est_hashrate: number | null;
  est_hashrate_low: number | null;
  est_hashrate_high: number | null;
  self_reported_hashrate: number | null;
  /** Power over all algorithms at peak concurrency, watts; kWh per day at that draw. */
  est_power_w: number | null;
  est_power_w_low: number | null;
  est_power_w_high: number | null;
  est_kwh_day: number | null;
  est_kwh_day_low: number | null;
  est_kwh_day_high: number | null;
  farm: boolean;
  owner_status: OwnerStatus;
  owner_prefix: string | null;
  owner_id: string | null;
  owner_name: string | null;
  owner_place: string | null;
  owner_tags: string[];
}

/** Column order of the csv export and key order of the json exports. */
export const EXPORT_FIELDS = [
  'ip',
  'role',
  'first_seen',
  'last_seen',
  'hits',
  'dialects',
  'peers',
  'identities',
  'agents',
  'sessions',
  'concurrent_sessions',
  'workers',
  'wallets',
  'algorithms',
  'coins',
  'shares_submitted',
  'shares_accepted',
  'shares_rejected',
  'hashrate_algo',
  'hashrate_unit',
  'est_hashrate',
  'est_hashrate_low',
  'est_hashrate_high',
  'self_reported_hashrate',
  'est_power_w',
  'est_power_w_low',
  'est_power_w_high',
  'est_kwh_day',
  'est_kwh_day_low',
  'est_kwh_day_high',
  'farm',
  'owner_status',
  'owner_prefix',
  'owner_id',
  'owner_name',
  'owner_place',
  'owner_tags',
] as const satisfies readonly (keyof ExportRecord)[];

/** What an export adds to the summaries: intelligence per miner IP, owners, and (for
 *  the eve format) the sessions themselves. */
export interface ExportContext {
  intel: ReadonlyMap<string, IpIntel>;
  owner: OwnerLookup;
  sessions?: readonly SessionRow[];
}

export const EMPTY_CONTEXT: ExportContext = { intel: new Map(), owner: ownerLookup(null) };

/** Records sorted by IP (numerically, IPv4 first) then role, whatever the input order. */
export function toExportRecords(rows: readonly IpSummary[], ctx: ExportContext = EMPTY_CONTEXT): ExportRecord[] {
  return [...rows].sort(compareSummaries).map((s) => {
    // Estimates describe the IP as a miner; a pool row carries only its owner.
    const intel = s.role === 'miner' ? ctx.intel.get(s.ip) : undefined;
    const top = intel ? dominantAlgorithm(intel) : undefined;
    const power = intel?.power ?? null;
    const owner = ctx.owner(s.ip);
    return {
      ip: s.ip,
      role: s.role,
      first_seen: s.firstSeen,
      last_seen: s.lastSeen,
      hits: s.hits,
      dialects: [...s.dialects],
      peers: [...s.peers],
      identities: [...s.identities],
      agents: [...s.agents],
      sessions: intel?.sessions ?? 0,
      concurrent_sessions: intel?.concurrentSessions ?? 0,
      workers: intel?.workers.length ?? 0,
      wallets: intel?.wallets.length ?? 0,
      algorithms: intel?.algorithms.map((a) => a.algo) ?? [],
      coins: intel?.coins ?? [],
      shares_submitted: intel?.sharesSubmitted ?? 0,
      shares_accepted: intel?.sharesAccepted ?? 0,
      shares_rejected: intel?.sharesRejected ?? 0,
      hashrate_algo: top?.algo ?? null,
      hashrate_unit: top?.hashrate ? top.unit : null,
      est_hashrate: top?.hashrate?.value ?? null,
      est_hashrate_low: top?.hashrate?.low ?? null,
      est_hashrate_high: top?.hashrate?.high ?? null,
      self_reported_hashrate: top?.selfReported ?? null,
      est_power_w: power?.watts ?? null,
      est_power_w_low: power?.wattsLow ?? null,
      est_power_w_high: power?.wattsHigh ?? null,
      est_kwh_day: power ? kwhPerDay(power.watts) : null,
      est_kwh_day_low: power ? kwhPerDay(power.wattsLow) : null,
      est_kwh_day_high: power ? kwhPerDay(power.wattsHigh) : null,
      farm: intel?.farm ?? false,
      owner_status: owner.status,
      owner_prefix: owner.prefix,
      owner_id: owner.ownerId,
      owner_name: owner.name,
      owner_place: owner.place,
      owner_tags: owner.tags,
    };
  });
}
