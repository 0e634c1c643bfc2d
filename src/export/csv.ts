/** CSV export: RFC 4180 (CRLF, quoted when needed), list cells joined with ';'. */
import type { IpSummary } from '../store/types.js';
import { EXPORT_FIELDS, toExportRecords, type ExportContext } from './records.js';

const LIST_SEPARATOR = ';';

export function toCsv(rows: readonly IpSummary[], ctx?: ExportContext): string {
  const lines = [EXPORT_FIELDS.join(',')];
  for (const record of toExportRecords(rows, ctx)) {
    lines.push(
      EXPORT_FIELDS.map((field) => {
        const value = record[field];
        // Each list item is neutralised too: a reader splitting on ';' (common in locales
        // whose list separator it is) would otherwise see an item as a cell of its own.
        return csvCell(Array.isArray(value) ? value.map(neutralise).join(LIST_SEPARATOR) : value === null ? '' : String(value));
      }).join(','),
    );
  }
  return lines.map((line) => `${line}\r\n`).join('');
}

/**
 * One cell: neutralised, then quoted when it holds a quote, comma, semicolon or line
 * break (RFC 4180 allows quoting any field; quoting ';' keeps such readers on one cell).
 */
export function csvCell(value: string): string {
  const safe = neutralise(value);
  return /[",;\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Identities and agents come off the wire: text a spreadsheet would run as a formula
 *  (leading = + - @ tab CR) gets a leading single quote. */
function neutralise(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
