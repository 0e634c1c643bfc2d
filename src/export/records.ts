/** The exported shape of a summary row (snake_case, as in the database) and its order. */
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
] as const satisfies readonly (keyof ExportRecord)[];

/** Records sorted by IP (numerically, IPv4 first) then role, whatever the input order. */
export function toExportRecords(rows: readonly IpSummary[]): ExportRecord[] {
  return [...rows].sort(compareSummaries).map((s) => ({
    ip: s.ip,
    role: s.role,
    first_seen: s.firstSeen,
    last_seen: s.lastSeen,
    hits: s.hits,
    dialects: [...s.dialects],
    peers: [...s.peers],
    identities: [...s.identities],
    agents: [...s.agents],
  }));
}
