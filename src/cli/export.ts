/** `minewatch export`: the summary rows of the database as csv, json, ndjson, txt or
 *  Suricata EVE alerts, with each miner's sessions, estimates and owner. */
import type { Command } from 'commander';
import { writeFileAtomic } from '../export/atomic-write.js';
import { EXPORT_FORMATS, isExportFormat, renderExport } from '../export/formats.js';
import { HitStore } from '../store/hit-store.js';
import { addAssetsOption, addFarmOptions, farmOverrides, intelContext, loadAssets, type AssetsOption, type FarmOptions } from './intel-options.js';
import { parseIsoMicros } from '../store/iso-time.js';
import { CONFIDENCE_LEVELS, DEFAULT_DB_PATH, ROLE_FILTERS, type ConfidenceLevel, type RoleFilter } from '../store/types.js';
import { stdout } from './output.js';

export interface ExportOptions extends AssetsOption, FarmOptions {
  db: string;
  format: string;
  role: string;
  since?: string;
  until?: string;
  out?: string;
  minConfidence?: string;
}

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description('write the IPs seen mining (or serving as pools) from the database')
    .option('--db <path>', 'database file', DEFAULT_DB_PATH)
    .option('--format <format>', `output format: ${EXPORT_FORMATS.join(', ')}`, 'csv')
    .option('--role <role>', `which side: ${ROLE_FILTERS.join(', ')}`, 'miner')
    .option('--since <iso>', 'only IPs still active at or after this time (UTC unless a zone is given)')
    .option('--until <iso>', 'only IPs already active at or before this time')
    .option('--min-confidence <level>', `count only hits at or above this confidence: ${CONFIDENCE_LEVELS.join(', ')}`, 'low')
    .option('--out <file>', 'write to this file (replaced atomically) instead of stdout');
  addFarmOptions(addAssetsOption(cmd)).action((opts: ExportOptions) => {
    process.exitCode = runExport(opts);
  });
}

/** Runs the export; returns the exit code (0 ok, 2 usage or database error). */
export function runExport(opts: ExportOptions): number {
  const fail = (message: string): number => {
    process.stderr.write(`minewatch export: ${message}\n`);
    return 2;
  };
  const { format, role } = opts;
  if (!isExportFormat(format)) {
    return fail(`unknown format '${format}' (expected ${EXPORT_FORMATS.join(', ')})`);
  }
  if (!(ROLE_FILTERS as readonly string[]).includes(role)) {
    return fail(`unknown role '${role}' (expected ${ROLE_FILTERS.join(', ')})`);
  }
  const since = opts.since === undefined ? undefined : parseIsoMicros(opts.since);
  const until = opts.until === undefined ? undefined : parseIsoMicros(opts.until);
  if (since === null) return fail(`--since is not an ISO-8601 time: '${opts.since}'`);
  if (until === null) return fail(`--until is not an ISO-8601 time: '${opts.until}'`);
  if (since !== undefined && until !== undefined && since > until) {
    return fail('--since is later than --until');
  }
  const minConfidence = opts.minConfidence ?? 'low';
  if (!(CONFIDENCE_LEVELS as readonly string[]).includes(minConfidence)) {
    return fail(`unknown confidence '${minConfidence}' (expected ${CONFIDENCE_LEVELS.join(', ')})`);
  }
  const farm = farmOverrides(opts);
  if (typeof farm === 'string') return fail(farm);

  let text: string;
  try {
    const assets = loadAssets(opts);
    const store = HitStore.open(opts.db, { readonly: true });
    try {
      const filter = { role: role as RoleFilter, since: opts.since, until: opts.until, minConfidence: minConfidence as ConfidenceLevel };
      const ctx = intelContext(store, assets, farm, { since: opts.since, until: opts.until });
      text = renderExport(format, store.listIps(filter), ctx);
    } finally {
      store.close();
    }
  } catch (err) {
    return fail(messageOf(err));
  }

  if (opts.out === undefined) {
    stdout().write(text);
    return 0;
  }
  try {
    writeFileAtomic(opts.out, text);
  } catch (err) {
    return fail(`cannot write ${opts.out}: ${messageOf(err)}`);
  }
  return 0;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
