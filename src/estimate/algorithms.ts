/**
 * The algorithm catalog (signatures/algorithms.json): which unit a hashrate is in, how
 * many hashes a numeric share difficulty stands for, which coins use the algorithm, and
 * which algorithm to assume when a dialect does not name one.
 */
import { finiteNumber, readTable, tableRows, TableError, text } from './signature-tables.js';

export interface AlgorithmInfo {
  /** Canonical name (the table's `algo`). */
  algo: string;
  unit: string;
  /** Hashes per unit of numeric difficulty; null when no verified conversion exists. */
  hashesPerDifficulty: number | null;
  coins: string[];
  source: string;
}

/** The algorithm a session is estimated with, and whether the wire named it. */
export interface ResolvedAlgorithm {
  info: AlgorithmInfo;
  /** True when the dialect default was used because no message named the algorithm. */
  assumed: boolean;
}

export class AlgorithmCatalog {
  private readonly exact = new Map<string, AlgorithmInfo>();
  private readonly prefixes: { prefix: string; info: AlgorithmInfo }[] = [];
  private readonly defaults = new Map<string, string>();

  constructor(table: Record<string, unknown>, name = 'algorithms.json') {
    for (const [i, row] of tableRows(table, 'algorithms', name).entries()) {
      const where = `${name}: algorithms[${i}]`;
      const hpd = row.hashes_per_difficulty === null ? null : finiteNumber(row, 'hashes_per_difficulty', where);
      const info: AlgorithmInfo = {
        algo: text(row, 'algo', where).toLowerCase(),
        unit: text(row, 'unit', where),
        hashesPerDifficulty: hpd,
        coins: Array.isArray(row.coins) ? row.coins.filter((c): c is string => typeof c === 'string') : [],
        source: text(row, 'source', where),
      };
      this.exact.set(info.algo, info);
      const aliases = Array.isArray(row.aliases) ? row.aliases : [];
      for (const alias of aliases) {
        if (typeof alias !== 'string' || alias === '') throw new TableError(`${where}: aliases must be non-empty strings`);
        const a = alias.toLowerCase();
        if (a.endsWith('*')) this.prefixes.push({ prefix: a.slice(0, -1), info });
        else this.exact.set(a, info);
      }
    }
    // Longer prefixes first, so 'cn-lite/' beats a shorter one.
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
    for (const [i, row] of tableRows(table, 'dialect_defaults', name).entries()) {
      const where = `${name}: dialect_defaults[${i}]`;
      const algo = text(row, 'algo', where).toLowerCase();
      if (!this.exact.has(algo)) throw new TableError(`${where}: unknown algo "${algo}"`);
      this.defaults.set(text(row, 'dialect', where), algo);
    }
  }

  /** The row for an algorithm name as miners and pools spell it, or undefined. */
  lookup(name: string | undefined | null): AlgorithmInfo | undefined {
    if (!name) return undefined;
    const n = name.trim().toLowerCase();
    const hit = this.exact.get(n);
    if (hit) return hit;
    for (const p of this.prefixes) if (n.startsWith(p.prefix)) return p.info;
    return undefined;
  }

  /**
   * The algorithm named on the wire when the catalog knows it; otherwise the dialect's
   * default (assumed). Undefined when neither is known.
   */
  resolve(named: string | undefined | null, dialect: string): ResolvedAlgorithm | undefined {
    const known = this.lookup(named);
    if (known) return { info: known, assumed: false };
    const fallback = this.defaults.get(dialect);
    const info = fallback === undefined ? undefined : this.exact.get(fallback);
    return info ? { info, assumed: true } : undefined;
  }
}

let shared: AlgorithmCatalog | undefined;

/** The catalog from signatures/algorithms.json, read once. */
export function defaultAlgorithmCatalog(): AlgorithmCatalog {
  shared ??= new AlgorithmCatalog(readTable('algorithms.json'));
  return shared;
}
