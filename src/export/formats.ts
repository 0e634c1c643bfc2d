/** Export format registry: name -> renderer. */
import type { IpSummary } from '../store/types.js';
import { toCsv } from './csv.js';
import { toEve } from './eve.js';
import { toJson, toNdjson } from './json.js';
import type { ExportContext } from './records.js';
import { toTxt } from './txt.js';

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson', 'txt', 'eve'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const RENDERERS: Record<ExportFormat, (rows: readonly IpSummary[], ctx?: ExportContext) => string> = {
  csv: toCsv,
  json: toJson,
  ndjson: toNdjson,
  txt: toTxt,
  eve: (rows, ctx) => toEve(rows, ctx),
};

export function isExportFormat(name: string): name is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(name);
}

export function renderExport(format: ExportFormat, rows: readonly IpSummary[], ctx?: ExportContext): string {
  return RENDERERS[format](rows, ctx);
}
