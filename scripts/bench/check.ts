/**
 * What the benchmark checks besides speed: every planted miner IP is reported, no other
 * IP is, and the parallel run stores the same rows as the single-worker run.
 */
import Database from 'better-sqlite3';
import { HitStore } from '../../src/store/hit-store.js';
import type { PlantedMiner } from '../../src/synth/scenarios/traffic-mix.js';

export interface DetectionCheck {
  ok: boolean;
  found: number;
  planted: number;
  missing: string[];
  unexpected: string[];
}

export function checkDetections(db: string, planted: readonly PlantedMiner[]): DetectionCheck {
  const store = HitStore.open(db, { readonly: true });
  let reported: string[];
  try {
    reported = store.listIps({ role: 'miner' }).map((s) => s.ip);
  } finally {
    store.close();
  }
  const expected = new Set(planted.map((p) => p.miner));
  const seen = new Set(reported);
  const missing = [...expected].filter((ip) => !seen.has(ip)).sort();
  const unexpected = [...seen].filter((ip) => !expected.has(ip)).sort();
  return { ok: missing.length === 0 && unexpected.length === 0, found: expected.size - missing.length, planted: expected.size, missing, unexpected };
}

/** Rows of a table without their row id, as sorted JSON lines (empty when there is no table). */
export function tableRows(db: string, table: 'hits' | 'sessions'): string[] {
  const conn = new Database(db, { readonly: true });
  try {
    const exists = conn.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table);
    if (!exists) return [];
    const rows = conn.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
    return rows.map(({ id: _id, ...rest }) => JSON.stringify(rest)).sort();
  } finally {
    conn.close();
  }
}

/** Whether two databases hold the same hits and sessions (row ids aside). */
export function sameResults(a: string, b: string): { same: boolean; hits: number; sessions: number } {
  const hitsA = tableRows(a, 'hits');
  const sessionsA = tableRows(a, 'sessions');
  const same = equalLists(hitsA, tableRows(b, 'hits')) && equalLists(sessionsA, tableRows(b, 'sessions'));
  return { same, hits: hitsA.length, sessions: sessionsA.length };
}

function equalLists(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
