/**
 * HTTP evidence from the request head: a Host header naming a listed pool (rule http.host),
 * e.g. a browser fetching a web miner's script or a getwork client talking to its pool.
 */
import type { SignatureSet } from '../signatures/signature-set.js';
import type { HttpHead } from './dialect.js';
import { cleanText } from './identity.js';
import { entryDetail, entryDialect, entryLabel, joinProvenance, ruleLabel, type IntelFinding } from './intel.js';

/** The host part of a Host header value ('pool.example:8080' → 'pool.example'). */
export function hostOfHeader(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (v.startsWith('[')) return undefined; // an IPv6 literal names no pool
  const colon = v.indexOf(':');
  return colon >= 0 ? v.slice(0, colon) : v;
}

export function httpHostEvidence(set: SignatureSet, head: HttpHead, serverPort: number): IntelFinding | null {
  if (!head.isRequest || !set.pools.hasNames) return null;
  const rule = set.protocols.rule('http.host');
  const host = hostOfHeader(head.headers.get('host'));
  if (!rule || host === undefined) return null;
  const entry = set.pools.matchName(host, serverPort);
  if (!entry) return null;
  const ua = head.headers.get('user-agent');
  const agentRule = set.agents.match(ua);
  return {
    kind: 'http.host',
    dialect: entryDialect(entry),
    confidence: rule.confidence,
    detector: 'http-host',
    provenance: joinProvenance('http-host', entryLabel(entry), agentRule ? `${agentRule.origin.file}:${agentRule.origin.line} ${agentRule.miner}` : undefined, ruleLabel(rule)),
    poolHost: host.toLowerCase(),
    agent: cleanText(ua),
    detail: entryDetail(entry, cleanText(`${head.method} ${head.path}`, 160)),
  };
}
