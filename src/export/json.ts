/** JSON exports: one array (pretty-printed) or one compact object per line. */
import type { IpSummary } from '../store/types.js';
import { toExportRecords } from './records.js';

export function toJson(rows: readonly IpSummary[]): string {
  return `${JSON.stringify(toExportRecords(rows), null, 2)}\n`;
}

export function toNdjson(rows: readonly IpSummary[]): string {
  return toExportRecords(rows)
    .map((record) => `${JSON.stringify(record)}\n`)
    .join('');
}
