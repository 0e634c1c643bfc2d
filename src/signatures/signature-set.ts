/**
 * Loading a signature folder into an immutable SignatureSet:
 *
 *   signatures/
 *     pools/       pool endpoint lists (native lines, hosts files, domain/IP lists, trails)
 *     agents/      miner agent-string patterns
 *     tls/         JA3/JA4 fingerprints of miners
 *     protocols/   method, marker and evidence rules
 *
 * Every file is read and checked before anything is built, so one broken line anywhere
 * yields problems and no set: the caller keeps the set it has.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { PROJECT_ROOT } from '../util/paths.js';
import { AgentMatcher, parseAgentFile } from './agents.js';
import { parsePoolFile, PoolIndex } from './pools.js';
import { parseProtocolFile, ProtocolRules } from './protocols.js';
import { parseTlsFile, TlsFingerprintIndex } from './tls-fingerprints.js';
import {
  emptyCounts,
  type AgentRule,
  type EvidenceRule,
  type MarkerRule,
  type MethodRule,
  type Origin,
  type PoolEntry,
  type SignatureCounts,
  type SignatureProblem,
  type TlsFingerprint,
} from './types.js';

export const SIGNATURE_KINDS = ['pools', 'agents', 'tls', 'protocols'] as const;
export type SignatureKind = (typeof SIGNATURE_KINDS)[number];

/** The signature folder shipped with minewatch. */
export function shippedSignatureDir(): string {
  return join(PROJECT_ROOT, 'signatures');
}

export class SignatureSet {
  constructor(
    /** Folder it was loaded from ('' for a built-in set). */
    readonly dir: string,
    readonly pools: PoolIndex,
    readonly agents: AgentMatcher,
    readonly tls: TlsFingerprintIndex,
    readonly protocols: ProtocolRules,
    readonly counts: SignatureCounts,
  ) {}

  static empty(protocols = new ProtocolRules()): SignatureSet {
    return new SignatureSet('', new PoolIndex(), new AgentMatcher(), new TlsFingerprintIndex(), protocols, emptyCounts());
  }

  /** Only what the payload detectors need: method and marker rules, no lists, no evidence rules. */
  payloadOnly(): SignatureSet {
    const counts = { ...emptyCounts(), methods: this.counts.methods, markers: this.counts.markers };
    return new SignatureSet(this.dir, new PoolIndex(), new AgentMatcher(), new TlsFingerprintIndex(), this.protocols.withoutEvidenceRules(), counts);
  }
}

export interface LoadOptions {
  /** Every pool, agent, TLS and protocol entry must name its source (the shipped set does). */
  requireSources?: boolean;
  /** Used when the folder has no protocols/ (lists-only folders); default: the shipped rules. */
  fallbackProtocols?: () => ProtocolRules;
}

export interface LoadResult {
  /** Null when there were problems. */
  set: SignatureSet | null;
  problems: SignatureProblem[];
  /** Not errors: things an operator should know (no protocols folder, empty folder). */
  notes: string[];
  counts: SignatureCounts;
}

interface Collected {
  pools: PoolEntry[];
  agents: AgentRule[];
  tls: TlsFingerprint[];
  methods: MethodRule[];
  markers: MarkerRule[];
  rules: EvidenceRule[];
}

/** Reads and checks a signature folder; returns the set, or the problems found. */
export function loadSignatureDir(dir: string, opts: LoadOptions = {}): LoadResult {
  const problems: SignatureProblem[] = [];
  const notes: string[] = [];
  const c: Collected = { pools: [], agents: [], tls: [], methods: [], markers: [], rules: [] };
  const counts = emptyCounts();
  const rel = (path: string): string => relative(dir, path).split(sep).join('/');

  let top: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    top = readdirSync(dir).sort();
  } catch (err) {
    problems.push({ file: dir, line: 0, message: `cannot read signature folder: ${(err as Error).message}` });
    return { set: null, problems, notes, counts };
  }
  for (const name of top) {
    // Top-level JSON tables belong to other parts of minewatch (algorithms, efficiency).
    if (ignored(name) || /\.json$/i.test(name)) continue;
    const path = join(dir, name);
    const kind = (SIGNATURE_KINDS as readonly string[]).includes(name) ? (name as SignatureKind) : null;
    if (!isDirectory(path) || kind === null) {
      problems.push({ file: rel(path), line: 0, message: `unexpected ${isDirectory(path) ? 'folder' : 'file'}: signature files go under ${SIGNATURE_KINDS.map((k) => `${k}/`).join(', ')}` });
      continue;
    }
    for (const file of listFiles(path)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        problems.push({ file: rel(file), line: 0, message: `cannot read: ${(err as Error).message}` });
        continue;
      }
      if (text.includes('\u0000')) {
        problems.push({ file: rel(file), line: 0, message: 'binary file (NUL bytes); signature files are text' });
        continue;
      }
      counts.files++;
      parseInto(kind, text, rel(file), c, problems);
    }
  }
  checkDuplicates(c, problems);
  if (opts.requireSources) checkSources(c, problems);
  // Reported in reading order: by file, then line.
  problems.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));

  counts.domains = c.pools.filter((e) => e.kind === 'domain' && !e.exclude).length;
  counts.wildcards = c.pools.filter((e) => e.kind === 'wildcard' && !e.exclude).length;
  counts.exclusions = c.pools.filter((e) => e.exclude).length;
  counts.ips = c.pools.filter((e) => e.kind === 'ip').length;
  counts.cidrs = c.pools.filter((e) => e.kind === 'cidr').length;
  counts.agents = c.agents.length;
  counts.ja3 = c.tls.filter((f) => f.kind === 'ja3').length;
  counts.ja4 = c.tls.filter((f) => f.kind === 'ja4').length;
  counts.methods = c.methods.length;
  counts.markers = c.markers.length;
  counts.rules = c.rules.length;
  if (problems.length > 0) return { set: null, problems, notes, counts };

  let protocols = new ProtocolRules(c.methods, c.markers, c.rules);
  if (!top.includes('protocols')) {
    const fallback = opts.fallbackProtocols ?? (() => shippedProtocolRules());
    protocols = fallback();
    notes.push('no protocols/ folder: using the shipped protocol rules');
  }
  if (counts.files === 0) notes.push('the folder holds no signature files');
  const set = new SignatureSet(dir, new PoolIndex(c.pools), new AgentMatcher(c.agents), new TlsFingerprintIndex(c.tls), protocols, counts);
  return { set, problems, notes, counts };
}

function parseInto(kind: SignatureKind, text: string, file: string, c: Collected, problems: SignatureProblem[]): void {
  switch (kind) {
    case 'pools':
      c.pools.push(...parsePoolFile(text, file, problems));
      break;
    case 'agents':
      c.agents.push(...parseAgentFile(text, file, problems));
      break;
    case 'tls':
      c.tls.push(...parseTlsFile(text, file, problems));
      break;
    case 'protocols': {
      const p = parseProtocolFile(text, file, problems);
      c.methods.push(...p.methods);
      c.markers.push(...p.markers);
      c.rules.push(...p.rules);
      break;
    }
  }
}

/** The same method or rule twice is a mistake (the first would silently win). */
function checkDuplicates(c: Collected, problems: SignatureProblem[]): void {
  const dup = (items: { key: string; origin: Origin }[], what: string): void => {
    const first = new Map<string, Origin>();
    for (const { key, origin } of items) {
      const before = first.get(key);
      if (before) problems.push({ file: origin.file, line: origin.line, message: `${what} '${key}' already defined at ${before.file}:${before.line}` });
      else first.set(key, origin);
    }
  };
  dup(c.methods.map((m) => ({ key: `${m.family} ${m.method}`, origin: m.origin })), 'method');
  dup(c.rules.map((r) => ({ key: r.name, origin: r.origin })), 'rule');
  dup(c.tls.map((f) => ({ key: `${f.kind}:${f.value}`, origin: f.origin })), 'fingerprint');
}

function checkSources(c: Collected, problems: SignatureProblem[]): void {
  const origins: Origin[] = [
    ...c.pools.map((e) => e.origin),
    ...c.agents.map((a) => a.origin),
    ...c.tls.map((f) => f.origin),
    ...c.methods.map((m) => m.origin),
    ...c.markers.map((m) => m.origin),
    ...c.rules.map((r) => r.origin),
  ];
  for (const o of origins) {
    if (!o.source) problems.push({ file: o.file, line: o.line, message: 'entry has no source (@source, # Reference: or source=)' });
  }
}

function ignored(name: string): boolean {
  return name.startsWith('.') || /\.md$/i.test(name) || name.endsWith('~');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Files under a kind folder, sorted, one level of sub-folders deep. */
function listFiles(dir: string, depth = 0): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (ignored(name)) continue;
    const path = join(dir, name);
    if (isDirectory(path)) {
      if (depth < 1) out.push(...listFiles(path, depth + 1));
    } else out.push(path);
  }
  return out;
}

let shippedCache: SignatureSet | null = null;

/** The shipped signature set, loaded once; throws when it is broken (a packaging error). */
export function shippedSignatures(): SignatureSet {
  if (shippedCache) return shippedCache;
  const result = loadSignatureDir(shippedSignatureDir(), { fallbackProtocols: () => new ProtocolRules() });
  if (!result.set) {
    throw new Error(`the shipped signatures are broken:\n${result.problems.map((p) => `  ${p.file}:${p.line}: ${p.message}`).join('\n')}`);
  }
  shippedCache = result.set;
  return shippedCache;
}

let payloadOnlyCache: SignatureSet | null = null;

/** The shipped method and marker rules with no lists and no evidence rules. */
export function payloadOnlySignatures(): SignatureSet {
  payloadOnlyCache ??= shippedSignatures().payloadOnly();
  return payloadOnlyCache;
}

function shippedProtocolRules(): ProtocolRules {
  return shippedSignatures().protocols;
}

/** '12 domains, 30 wildcards, ...' for logs and the check command. */
export function countsText(c: SignatureCounts): string {
  const parts: [number, string][] = [
    [c.domains, 'domains'],
    [c.wildcards, 'wildcard domains'],
    [c.exclusions, 'exceptions'],
    [c.ips, 'IPs'],
    [c.cidrs, 'CIDR blocks'],
    [c.agents, 'agent patterns'],
    [c.ja3, 'JA3'],
    [c.ja4, 'JA4'],
    [c.methods, 'methods'],
    [c.markers, 'markers'],
    [c.rules, 'evidence rules'],
  ];
  return `${c.files} files: ${parts.map(([n, what]) => `${n} ${what}`).join(', ')}`;
}
