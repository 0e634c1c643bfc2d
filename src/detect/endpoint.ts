/**
 * Endpoint evidence: a flow to a listed pool address (IP, CIDR, IP:port) or to an address a
 * DNS answer for a pool name taught (dns-learned.ts). The lookup runs once per flow, when it
 * first carries payload or when a payload-less flow ends. A flow whose payload cannot be
 * read (TLS, binary) is a hit once it is sustained (rule endpoint.sustained); a connection
 * attempt that never carried payload is a low one (rule endpoint.syn). Readable payload that
 * is not mining is no endpoint hit: the payload detectors have judged it.
 */
import type { Direction, Flow } from '../flow/types.js';
import type { SignatureSet } from '../signatures/signature-set.js';
import type { EvidenceRule, PoolEntry } from '../signatures/types.js';
import type { LearnedEndpoint, LearnedEndpoints } from './dns-learned.js';
import { entryDetail, entryDialect, entryLabel, joinProvenance, ruleLabel, type IntelFinding } from './intel.js';
import { fingerprintLabel, tlsDetail, type TlsFacts } from './tls.js';

export interface PoolEndpointMatch {
  /** The side (0/1) that is the pool. */
  readonly side: Direction;
  readonly entry: PoolEntry;
  /** Set when the address was learned from DNS rather than listed. */
  readonly learned: LearnedEndpoint | null;
}

function portAllows(e: PoolEntry, port: number): boolean {
  return e.ports === null || (port >= e.ports.low && port <= e.ports.high);
}

/** The pool side of a flow, responder first (side 0 only for flows picked up mid-stream). */
export function findPoolEndpoint(flow: Flow, set: SignatureSet, learned: LearnedEndpoints, nowMicros: number): PoolEndpointMatch | null {
  const listed = set.pools.hasAddresses;
  if (!listed && learned.size === 0) return null;
  for (let s = 1; s >= 0; s--) {
    const side = s as Direction;
    const ip = flow.addr[side];
    const port = flow.port[side];
    const entry = listed ? set.pools.matchAddress(ip, port) : null;
    if (entry) return { side, entry, learned: null };
    const l = learned.lookup(ip, nowMicros);
    if (l && portAllows(l.entry, port)) return { side, entry: l.entry, learned: l };
    if (flow.sawSyn) break; // the initiator is known: it is the client
  }
  return null;
}

function endpointProvenance(m: PoolEndpointMatch, rule: EvidenceRule, tls: TlsFacts | null): string {
  const via = m.learned ? `${entryLabel(m.entry)} (dns-learned: ${m.learned.question} -> ${m.learned.address})` : entryLabel(m.entry);
  return joinProvenance('endpoint', via, fingerprintLabel(tls), ruleLabel(rule));
}

function finding(m: PoolEndpointMatch, rule: EvidenceRule, kind: string, tls: TlsFacts | null, facts: string): IntelFinding {
  return {
    kind,
    dialect: entryDialect(m.entry),
    confidence: rule.confidence,
    detector: 'endpoint',
    provenance: endpointProvenance(m, rule, tls),
    poolHost: m.learned?.name ?? tls?.hello.sni,
    detail: entryDetail(m.entry, m.learned ? 'dns-learned' : 'listed', facts, tls ? tlsDetail(tls) : undefined),
  };
}

/** A sustained unreadable flow to a pool endpoint: the hit, or null while it is too short. */
export function sustainedEvidence(flow: Flow, m: PoolEndpointMatch, rule: EvidenceRule, tls: TlsFacts | null, nowMicros: number): IntelFinding | null {
  const seconds = (Math.max(nowMicros, flow.lastSeenMicros) - flow.firstSeenMicros) / 1e6;
  const packets = flow.packets[0] + flow.packets[1];
  if (seconds < (rule.params.get('min-seconds') ?? 0) || packets < (rule.params.get('min-packets') ?? 0)) return null;
  const facts = `${Math.round(seconds)} s, ${packets} packets, ${flow.bytes[0] + flow.bytes[1]} payload bytes`;
  return finding(m, rule, tls ? 'tls.pool-endpoint' : 'endpoint.sustained', tls, facts);
}

/** A connection attempt to a pool endpoint that carried no payload. */
export function payloadlessEvidence(flow: Flow, m: PoolEndpointMatch, rule: EvidenceRule): IntelFinding {
  const answered = flow.packets[m.side] > 0;
  return finding(m, rule, answered ? 'endpoint.connect' : 'endpoint.syn', null, `${flow.packets[0] + flow.packets[1]} packets, no payload`);
}
