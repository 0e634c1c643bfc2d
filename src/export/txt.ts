/** Plain list: each distinct IP once, in IP order (ready for a block list). */
import type { IpSummary } from '../store/types.js';
import { toExportRecords } from './records.js';

export function toTxt(rows: readonly IpSummary[]): string {
  const ips = new Set(toExportRecords(rows).map((r) => r.ip));
  return [...ips].map((ip) => `${ip}\n`).join('');
}
