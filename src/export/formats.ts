/** Export format registry: name -> renderer. */
import type { IpSummary } from '../store/types.js';
import { toCsv } from './csv.js';
import { toJson, toNdjson } from './json.js';
import { toTxt } from './txt.js';

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson', 'txt'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const RENDERERS: Record<ExportFormat, (rows: readonly IpSummary[]) => string> = {
  csv: toCsv,
  json: toJson,
  ndjson: toNdjson,
  txt: toTxt,
};

export function isExportFormat(name: string): name is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(name);
}

export function renderExport(format: ExportFormat, rows: readonly IpSummary[]): string {
  return RENDERERS[format](rows);
}
