/**
 * Energy per hash by algorithm (signatures/efficiency.json), normalised to joules per
 * hash (per solution for Equihash) so power is hashrate × joules per hash in watts.
 */
import { finiteNumber, readTable, tableRows, TableError, text } from './signature-tables.js';

export interface EfficiencyRange {
  algo: string;
  /** Joules per hash (or per solution), most efficient end. */
  joulesLow: number;
  /** Joules per hash (or per solution), least efficient end. */
  joulesHigh: number;
  /** The row as written, for reports: "17.5–34 J/TH". */
  label: string;
  source: string;
  status: string;
}

const SI: Readonly<Record<string, number>> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/**
 * Joules per hash for one figure in a row's unit: "J/TH" style (energy per work) or
 * "MH/s per W" style (work rate per watt, the inverse). Null for an unknown unit.
 */
export function joulesPerHash(value: number, unit: string): number | null {
  const energy = /^J\/([kMGTP]?)(H|Sol)$/.exec(unit);
  if (energy) return value / SI[energy[1]!]!;
  const rate = /^([kMGTP]?)(H|Sol)\/s per W$/.exec(unit);
  if (rate) return 1 / (value * SI[rate[1]!]!);
  return null;
}

export class EfficiencyTable {
  private readonly byAlgo = new Map<string, EfficiencyRange>();

  constructor(table: Record<string, unknown>, name = 'efficiency.json') {
    for (const [i, row] of tableRows(table, 'rows', name).entries()) {
      const where = `${name}: rows[${i}]`;
      const algo = text(row, 'algo', where).toLowerCase();
      const unit = text(row, 'unit', where);
      const a = finiteNumber(row, 'low', where);
      const b = finiteNumber(row, 'high', where);
      const ja = joulesPerHash(a, unit);
      const jb = joulesPerHash(b, unit);
      if (ja === null || jb === null) throw new TableError(`${where}: unknown unit "${unit}"`);
      if (!(ja > 0 && jb > 0)) throw new TableError(`${where}: figures must be positive`);
      if (this.byAlgo.has(algo)) throw new TableError(`${where}: a second row for "${algo}"`);
      this.byAlgo.set(algo, {
        algo,
        joulesLow: Math.min(ja, jb),
        joulesHigh: Math.max(ja, jb),
        label: `${a}–${b} ${unit}`,
        source: text(row, 'source', where),
        status: typeof row.status === 'string' ? row.status : '',
      });
    }
  }

  /** The range for a canonical algorithm name, or undefined when the table has none. */
  get(algo: string): EfficiencyRange | undefined {
    return this.byAlgo.get(algo.toLowerCase());
  }
}

let shared: EfficiencyTable | undefined;

export function defaultEfficiencyTable(): EfficiencyTable {
  shared ??= new EfficiencyTable(readTable('efficiency.json'));
  return shared;
}
