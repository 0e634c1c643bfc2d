/** `minewatch show IP`: what the database knows about one address. */
import type { Command } from 'commander';
import { toExportRecords } from '../export/records.js';
import { HitStore } from '../store/hit-store.js';
import { endpoint, parseIp } from '../store/ip-address.js';
import { CONFIDENCE_LEVELS, DEFAULT_DB_PATH, type ConfidenceLevel, type HitRow, type IpSummary } from '../store/types.js';
import { defaultIntelTables, ipIntel, type IpIntel } from '../estimate/ip-intel.js';
import { ownerLookup, type OwnerView } from '../store/owners.js';
import type { SessionRow } from '../store/session-store.js';
import { loadAssets, type AssetsOption } from './intel-options.js';
import { renderIntelText } from './show-sessions.js';
import { stdout } from './output.js';

export interface ShowOptions extends AssetsOption {
  db: string;
  json?: boolean;
  limit: string;
  minConfidence?: string;
}

const DEFAULT_LIMIT = '50';
/** List values printed per summary line; --json has them all. */
const LIST_PREVIEW = 20;
/** Widest a table cell gets before it is cut, so one long agent cannot wreck the layout. */
const MAX_CELL = 40;
/** The WHY column is never cut: its file:line references are the point. */
const WHY_COLUMN = 6;

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('show the summary and evidence recorded for one IP address')
    .argument('<ip>', 'IPv4 or IPv6 address')
    .option('--db <path>', 'database file', DEFAULT_DB_PATH)
    .option('--json', 'print one JSON object instead of text')
    .option('--limit <n>', 'evidence rows to show, newest first', DEFAULT_LIMIT)
    .option('--min-confidence <level>', `only hits at or above this confidence: ${CONFIDENCE_LEVELS.join(', ')}`, 'low')
    .option('--assets <file>', 'CSV mapping IPs/CIDRs to owners (prefix,owner_id,name,place,tags)')
    .action((ip: string, opts: ShowOptions) => {
      process.exitCode = runShow(ip, opts);
    });
}

/** Runs show; returns the exit code (0 found, 1 no evidence, 2 usage or database error). */
export function runShow(ipText: string, opts: ShowOptions): number {
  const fail = (message: string): number => {
    process.stderr.write(`minewatch show: ${message}\n`);
    return 2;
  };
  const ip = parseIp(ipText);
  if (!ip) return fail(`not an IP address: '${printable(ipText)}'`);
  if (!/^\d+$/.test(opts.limit) || Number(opts.limit) < 1) {
    return fail(`--limit must be a positive integer, got '${printable(opts.limit)}'`);
  }
  const limit = Number(opts.limit);
  const minConfidence = (opts.minConfidence ?? 'low') as ConfidenceLevel;
  if (!CONFIDENCE_LEVELS.includes(minConfidence)) {
    return fail(`--min-confidence must be one of ${CONFIDENCE_LEVELS.join(', ')}, got '${printable(String(minConfidence))}'`);
  }
  // The canonical text is what the sensor stores; the text as typed is tried as well.
  const lookupForms = [...new Set([ip.text, ipText])];

  let summaries: IpSummary[];
  let evidence: HitRow[];
  let sessions: SessionRow[];
  let owner: OwnerView;
  try {
    const assets = loadAssets(opts);
    const store = HitStore.open(opts.db, { readonly: true });
    try {
      summaries = lookupForms.flatMap((form) => store.summaryFor(form, minConfidence));
      evidence = newestFirst(lookupForms.flatMap((form) => store.evidenceFor(form, limit, minConfidence))).slice(0, limit);
      sessions = store.sessions.list({ minerIps: lookupForms });
      owner = ownerLookup(assets, store.sessions.recordedOwners())(ip.text);
    } finally {
      store.close();
    }
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }

  if (summaries.length === 0 && evidence.length === 0) {
    process.stderr.write(`minewatch show: no evidence for IP ${ip.text} in ${opts.db}\n`);
    return 1;
  }
  const total = summaries.reduce((sum, s) => sum + s.hits, 0);
  const isSelf = (addr: string): boolean => lookupForms.includes(addr);
  const intel: IpIntel | undefined = sessions.length ? ipIntel(ip.text, sessions, defaultIntelTables()) : undefined;
  stdout().write(
    opts.json
      ? `${JSON.stringify({ ...showJson(ip.text, summaries, evidence, total), owner, intel: intel ?? null, sessions }, null, 2)}\n`
      : renderText(summaries, evidence, total, isSelf, renderIntelText(owner, intel, sessions, printable)),
  );
  return 0;
}

function newestFirst(rows: HitRow[]): HitRow[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return [...byId.values()].sort((a, b) => b.tsMicros - a.tsMicros || b.id - a.id);
}

function showJson(ip: string, summaries: IpSummary[], evidence: HitRow[], total: number): object {
  return {
    ip,
    summaries: toExportRecords(summaries),
    evidence_total: total,
    evidence: evidence.map((h) => ({
      id: h.id,
      ts: h.ts,
      ts_us: h.tsMicros,
      miner_ip: h.minerIp,
      miner_port: h.minerPort,
      pool_ip: h.poolIp,
      pool_port: h.poolPort,
      transport: h.transport,
      dialect: h.dialect,
      kind: h.kind,
      confidence: h.confidence,
      detector: h.detector,
      source: h.source,
      agent: h.agent,
      worker: h.worker,
      login: h.login,
      wallet: h.wallet,
      algo: h.algo,
      pool_host: h.poolHost,
      detail: h.detail,
      provenance: h.provenance,
    })),
  };
}

function renderText(
  summaries: IpSummary[],
  evidence: HitRow[],
  total: number,
  isSelf: (addr: string) => boolean,
  /** Owner, sessions and estimates, printed between the rollup and the evidence. */
  intelText = '',
): string {
  const out: string[] = [];
  for (const s of summaries) {
    out.push(`${s.ip} as ${s.role}`);
    out.push(`  first seen  ${s.firstSeen}`);
    out.push(`  last seen   ${s.lastSeen}`);
    out.push(`  hits        ${s.hits}`);
    out.push(`  dialects    ${preview(s.dialects)}`);
    out.push(`  peers       ${preview(s.peers)}`);
    out.push(`  identities  ${preview(s.identities)}`);
    out.push(`  agents      ${preview(s.agents)}`);
    out.push('');
  }
  if (intelText) out.push(intelText.trimEnd(), '');
  out.push(`Evidence, newest first (${evidence.length} of ${Math.max(total, evidence.length)}):`);
  // WHY: the detector and the signature lines behind each hit (never cut: it is the evidence).
  const header = ['TIME', 'ROLE', 'PEER', 'DIALECT', 'KIND', 'CONF', 'WHY', 'AGENT', 'IDENTITY', 'SOURCE'];
  const rows = evidence.map((h) => {
    const asMiner = isSelf(h.minerIp);
    const identity = [
      h.worker && `worker=${h.worker}`,
      h.login && `login=${h.login}`,
      h.wallet && `wallet=${h.wallet}`,
    ].filter(Boolean);
    return [
      h.ts,
      asMiner ? 'miner' : 'pool',
      asMiner ? endpoint(h.poolIp, h.poolPort) : endpoint(h.minerIp, h.minerPort),
      h.dialect,
      h.kind,
      h.confidence,
      h.provenance ?? h.detector,
      h.agent ?? '-',
      identity.length ? identity.join(' ') : '-',
      h.source,
    ].map((cell, i, all) => (i === all.length - 1 || i === WHY_COLUMN ? printable(cell) : clipCell(printable(cell))));
  });
  out.push(...alignColumns([header, ...rows]));
  return `${out.join('\n')}\n`;
}

function preview(values: string[]): string {
  if (values.length === 0) return '-';
  const shown = values.slice(0, LIST_PREVIEW).map(printable).join(', ');
  return values.length > LIST_PREVIEW ? `${shown} (+${values.length - LIST_PREVIEW} more)` : shown;
}

function alignColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

function clipCell(text: string): string {
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

/**
 * Agents, logins and kinds come off the wire: escape control characters (terminal escape
 * sequences) and bidirectional overrides so they cannot rewrite what the analyst sees.
 */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
