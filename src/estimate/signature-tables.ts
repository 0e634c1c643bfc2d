/**
 * Reads the estimation policy tables at the top of signatures/ (JSON, edited by
 * operators: algorithms, efficiency, farm thresholds, EVE alert ids; the signature loader
 * in src/signatures/ leaves top-level JSON to this module). A table that cannot be read or
 * has a malformed row is a configuration error: it throws with the file and row named,
 * rather than estimating from half a table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../util/paths.js';

export const ESTIMATE_TABLES_DIR = join(PROJECT_ROOT, 'signatures');

export class TableError extends Error {
  override name = 'TableError';
}

/** The parsed JSON of signatures/<name> (or of an explicit path). */
export function readTable(nameOrPath: string): Record<string, unknown> {
  const path = nameOrPath.includes('/') ? nameOrPath : join(ESTIMATE_TABLES_DIR, nameOrPath);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TableError(`cannot read table ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TableError(`${path}: not a JSON object`);
  return value as Record<string, unknown>;
}

/** The array under `key`, each element an object with a non-empty `source`. */
export function tableRows(table: Record<string, unknown>, key: string, name: string): Record<string, unknown>[] {
  const rows = table[key];
  if (!Array.isArray(rows)) throw new TableError(`${name}: "${key}" must be an array`);
  return rows.map((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new TableError(`${name}: ${key}[${i}] is not an object`);
    const r = row as Record<string, unknown>;
    if (typeof r.source !== 'string' || r.source.trim() === '') throw new TableError(`${name}: ${key}[${i}] has no source`);
    return r;
  });
}

export function text(row: Record<string, unknown>, field: string, where: string): string {
  const v = row[field];
  if (typeof v !== 'string' || v === '') throw new TableError(`${where}: "${field}" must be a non-empty string`);
  return v;
}

export function finiteNumber(row: Record<string, unknown>, field: string, where: string): number {
  const v = row[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TableError(`${where}: "${field}" must be a number`);
  return v;
}
