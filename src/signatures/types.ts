/**
 * The compiled signature set: what the detectors consult (pool endpoints, miner agent
 * patterns, TLS fingerprints, protocol rules). A set is immutable once built; reloading
 * builds a new one and swaps it in whole (see reloadable.ts).
 */
import type { Confidence } from '../detect/types.js';

/** Where an entry came from: its file (relative to the signature folder) and 1-based line. */
export interface Origin {
  readonly file: string;
  readonly line: number;
  /** Where the entry's fact comes from (URL, document, capture), from `@source`,
   *  `# Reference:` or `source=`; absent for drop-in lists that name none. */
  readonly source?: string;
}

export function originText(o: Origin): string {
  return `${o.file}:${o.line}`;
}

/** A problem in a signature file; line 0 means the whole file. */
export interface SignatureProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export function problemText(p: SignatureProblem): string {
  return p.line > 0 ? `${p.file}:${p.line}: ${p.message}` : `${p.file}: ${p.message}`;
}

export type PoolType = 'pool' | 'webminer' | 'donation' | 'proxy';
export const POOL_TYPES: readonly PoolType[] = ['pool', 'webminer', 'donation', 'proxy'];

/** What an entry says about the pool behind it. */
export interface PoolTags {
  /** Operator or service name ("SupportXMR", "Coinhive"). */
  readonly pool?: string;
  /** Coins, comma separated ("xmr", "btc,bch"). */
  readonly coin?: string;
  /** Dialect id when known ("stratum", "cryptonote", ...). */
  readonly dialect?: string;
  readonly type: PoolType;
}

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

export type PoolEntryKind = 'domain' | 'wildcard' | 'ip' | 'cidr';

export interface PoolEntry {
  readonly kind: PoolEntryKind;
  /** Normalised text: 'pool.example', 'pool.example' for '*.pool.example', '198.51.100.7',
   *  '198.51.100.0/24'. */
  readonly value: string;
  readonly ports: PortRange | null;
  /** An exception ('!name'): the name is not a pool even when a wildcard covers it. */
  readonly exclude: boolean;
  readonly tags: PoolTags;
  readonly origin: Origin;
}

export type AgentMatchKind = 'prefix' | 'contains' | 'regex';

export interface AgentRule {
  /** Miner software name ("XMRig"). */
  readonly miner: string;
  readonly match: AgentMatchKind;
  /** Lower-cased text for prefix/contains; the pattern source for regex. */
  readonly pattern: string;
  readonly regex: RegExp | null;
  readonly origin: Origin;
}

export interface TlsFingerprint {
  readonly kind: 'ja3' | 'ja4';
  readonly value: string;
  readonly miner: string;
  /** Confidence a match gives on its own (to a host on no list); null: corroboration only. */
  readonly standalone: Confidence | null;
  readonly origin: Origin;
}

export type Sender = 'miner' | 'pool';

/** A JSON-RPC method of a dialect family and the code-level shape check that validates it. */
export interface MethodRule {
  readonly family: string;
  readonly method: string;
  readonly sender: Sender;
  readonly strong: boolean;
  readonly shape: string;
  readonly origin: Origin;
}

/** A protocol marker string ("EthereumStratum/1.0.0") and the dialect it announces. */
export interface MarkerRule {
  /** Matched as a prefix of the protocol string. */
  readonly text: string;
  readonly dialect: string;
  readonly origin: Origin;
}

/** Tunables of one evidence rule (heuristics.txt); a rule that is absent is off. */
export interface EvidenceRule {
  readonly name: string;
  readonly confidence: Confidence;
  readonly params: ReadonlyMap<string, number>;
  readonly ports: readonly PortRange[];
  /** Pool types the rule applies to (types=...); null: all. */
  readonly types: readonly PoolType[] | null;
  readonly origin: Origin;
}

export interface SignatureCounts {
  domains: number;
  wildcards: number;
  exclusions: number;
  ips: number;
  cidrs: number;
  agents: number;
  ja3: number;
  ja4: number;
  methods: number;
  markers: number;
  rules: number;
  files: number;
}

export function emptyCounts(): SignatureCounts {
  return { domains: 0, wildcards: 0, exclusions: 0, ips: 0, cidrs: 0, agents: 0, ja3: 0, ja4: 0, methods: 0, markers: 0, rules: 0, files: 0 };
}
