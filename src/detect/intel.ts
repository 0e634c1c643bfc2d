/**
 * Evidence that survives encryption (DNS, TLS, HTTP Host, endpoints, Stratum V2 shape):
 * the finding shape those detectors hand to the engine, and how a pool-list entry is
 * written into a hit's dialect, detail and provenance.
 */
import { originText, type EvidenceRule, type PoolEntry } from '../signatures/types.js';
import type { Confidence } from './types.js';

export interface IntelFinding {
  kind: string;
  dialect: string;
  confidence: Confidence;
  detector: string;
  /** The signature lines behind the finding. */
  provenance: string;
  poolHost?: string;
  agent?: string;
  detail?: string;
}

/** 'pools/mining-pools.txt:40 *.bitminter.com' */
export function entryLabel(e: PoolEntry): string {
  const subject = e.kind === 'wildcard' ? `*.${e.value}` : e.value;
  const ports = e.ports ? (e.ports.low === e.ports.high ? `:${e.ports.low}` : `:${e.ports.low}-${e.ports.high}`) : '';
  return `${originText(e.origin)} ${subject}${ports}`;
}

export function ruleLabel(r: EvidenceRule): string {
  return `${originText(r.origin)} rule ${r.name}`;
}

/** The dialect an entry announces, 'unknown' when the list does not say. */
export function entryDialect(e: PoolEntry): string {
  return e.tags.dialect ?? 'unknown';
}

/** 'pool=SupportXMR type=pool coin=xmr' plus the finding's own facts. */
export function entryDetail(e: PoolEntry, ...facts: (string | undefined)[]): string {
  const tags = [e.tags.pool && `pool=${e.tags.pool}`, `type=${e.tags.type}`, e.tags.coin && `coin=${e.tags.coin}`];
  return [...tags, ...facts].filter(Boolean).join(' ');
}

export function joinProvenance(...items: (string | undefined)[]): string {
  return items.filter(Boolean).join('; ');
}

const RANK: Readonly<Record<Confidence, number>> = { low: 0, medium: 1, high: 2 };

export function confidenceRank(c: Confidence): number {
  return RANK[c];
}
