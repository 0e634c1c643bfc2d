/** The one order summaries are listed and exported in: by IP (IPv4 then IPv6, numerically), then role. */
import { compareIp } from './ip-address.js';
import type { IpSummary } from './types.js';

export function compareSummaries(a: IpSummary, b: IpSummary): number {
  return compareIp(a.ip, b.ip) || (a.role < b.role ? -1 : a.role > b.role ? 1 : 0);
}
