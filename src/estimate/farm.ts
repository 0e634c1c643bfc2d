/**
 * The farm flag: an IP is a farm when any threshold of signatures/farm-thresholds.json
 * (or a run's override) is reached. Thresholds are policy; the reasons name which ones.
 */
import { finiteNumber, readTable, tableRows, TableError, text } from './signature-tables.js';

export interface FarmThresholds {
  workers: number;
  concurrentSessions: number;
  /** Watts, compared with the low end of the IP's power range. */
  powerWattsLow: number;
}

export interface FarmInputs {
  workers: number;
  /** Sessions open at once that submitted shares. */
  concurrentSessions: number;
  powerWattsLow: number | null;
}

const METRICS: Readonly<Record<string, keyof FarmThresholds>> = {
  workers: 'workers',
  concurrent_sessions: 'concurrentSessions',
  power_w_low: 'powerWattsLow',
};

export function farmThresholdsFrom(table: Record<string, unknown>, name = 'farm-thresholds.json'): FarmThresholds {
  const out: Partial<FarmThresholds> = {};
  for (const [i, row] of tableRows(table, 'rows', name).entries()) {
    const where = `${name}: rows[${i}]`;
    const metric = METRICS[text(row, 'metric', where)];
    if (metric === undefined) throw new TableError(`${where}: unknown metric (expected ${Object.keys(METRICS).join(', ')})`);
    out[metric] = finiteNumber(row, 'min', where);
  }
  return { workers: Infinity, concurrentSessions: Infinity, powerWattsLow: Infinity, ...out };
}

let shared: FarmThresholds | undefined;

export function defaultFarmThresholds(): FarmThresholds {
  shared ??= farmThresholdsFrom(readTable('farm-thresholds.json'));
  return shared;
}

/** The thresholds reached, as short reasons ("12 workers ≥ 10"); empty when none is. */
export function farmReasons(inputs: FarmInputs, t: FarmThresholds): string[] {
  const reasons: string[] = [];
  if (inputs.workers >= t.workers) reasons.push(`${inputs.workers} workers >= ${t.workers}`);
  if (inputs.concurrentSessions >= t.concurrentSessions) reasons.push(`${inputs.concurrentSessions} concurrent mining sessions >= ${t.concurrentSessions}`);
  if (inputs.powerWattsLow !== null && inputs.powerWattsLow >= t.powerWattsLow) {
    reasons.push(`power >= ${Math.round(inputs.powerWattsLow)} W (low end) >= ${t.powerWattsLow} W`);
  }
  return reasons;
}
