/**
 * `minewatch signatures check [DIR]`: validates a signature folder (default: the shipped
 * one), prints the entries per kind, reports every problem as file:line and exits 1 when
 * there is any. `minewatch signatures match NAME|IP[:PORT] [DIR]` shows which entry, if any,
 * a host name or address matches (to try a drop-in list).
 */
import type { Command } from 'commander';
import { parseEndpoint } from '../signatures/endpoint-syntax.js';
import { countsText, loadSignatureDir, shippedSignatureDir } from '../signatures/signature-set.js';
import { originText, problemText, type PoolEntry } from '../signatures/types.js';
import { stdout } from './output.js';

interface CheckOptions {
  strict?: boolean;
  json?: boolean;
}

export function registerSignatures(program: Command): void {
  const cmd = program.command('signatures').description('check and query signature folders (pool lists, fingerprints, protocol rules)');
  cmd
    .command('check')
    .description('validate a signature folder: counts per kind, every problem as file:line; exit 1 on any problem')
    .argument('[dir]', 'signature folder (default: the shipped signatures/)')
    .option('--strict', 'also require a source (@source, # Reference: or source=) on every entry')
    .option('--json', 'print the result as JSON')
    .action((dir: string | undefined, opts: CheckOptions) => {
      process.exitCode = runSignaturesCheck(dir ?? shippedSignatureDir(), opts);
    });
  cmd
    .command('match')
    .description('show the pool entry a host name, IP or IP:port matches')
    .argument('<target>', 'host name, IP address or IP:port')
    .argument('[dir]', 'signature folder (default: the shipped signatures/)')
    .action((target: string, dir: string | undefined) => {
      process.exitCode = runSignaturesMatch(target, dir ?? shippedSignatureDir());
    });
}

export function runSignaturesCheck(dir: string, opts: CheckOptions = {}): number {
  const result = loadSignatureDir(dir, { requireSources: opts.strict ?? false });
  const ok = result.problems.length === 0;
  if (opts.json) {
    const doc = { dir, ok, counts: result.counts, notes: result.notes, problems: result.problems };
    stdout().write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    stdout().write(`${dir}: ${countsText(result.counts)}\n`);
    for (const note of result.notes) stdout().write(`note: ${note}\n`);
    for (const p of result.problems) process.stderr.write(`${problemText(p)}\n`);
    stdout().write(ok ? 'ok\n' : `${result.problems.length} problem(s)\n`);
  }
  return ok ? 0 : 1;
}

export function runSignaturesMatch(target: string, dir: string): number {
  const result = loadSignatureDir(dir);
  if (!result.set) {
    for (const p of result.problems) process.stderr.write(`${problemText(p)}\n`);
    return 2;
  }
  const parsed = parseEndpoint(target);
  let entry: PoolEntry | null = null;
  if (typeof parsed !== 'string' && parsed.kind === 'ip') entry = result.set.pools.matchAddress(parsed.value, parsed.ports?.low ?? 0);
  else if (typeof parsed !== 'string' && parsed.kind === 'domain') entry = result.set.pools.matchName(parsed.value, parsed.ports?.low ?? 0);
  else {
    process.stderr.write(`minewatch signatures match: '${target}' is not a host name, IP or IP:port\n`);
    return 2;
  }
  if (!entry) {
    stdout().write(`${target}: no pool entry\n`);
    return 1;
  }
  const tags = Object.entries(entry.tags).map(([k, v]) => `${k}=${String(v)}`).join(' ');
  stdout().write(`${target}: ${originText(entry.origin)} ${entry.kind === 'wildcard' ? '*.' : ''}${entry.value} ${tags}${entry.origin.source ? `\n  source: ${entry.origin.source}` : ''}\n`);
  return 0;
}
