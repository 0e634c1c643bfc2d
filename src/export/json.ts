/** JSON exports: one array (pretty-printed) or one compact object per line. */
import type { IpSummary } from '../store/types.js';
import { toExportRecords, type ExportContext } from './records.js';

export function toJson(rows: readonly IpSummary[], ctx?: ExportContext): string {
  return `${JSON.stringify(toExportRecords(rows, ctx), null, 2)}\n`;
}

export function toNdjson(rows: readonly IpSummary[], ctx?: ExportContext): string {
  return toExportRecords(rows, ctx)
    .map((record) => `${JSON.stringify(record)}\n`)
    .join('');
}
