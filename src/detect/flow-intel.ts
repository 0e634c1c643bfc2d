/**
 * Per-flow evidence from beyond the payload, as the engine gathers it: the Stratum V2
 * SetupConnection and handshake shape in a flow's first flights, the sustained-flow rule
 * for unreadable flows to pool endpoints, payload-less connections to pool endpoints, and
 * the Host of HTTP requests. (TLS hellos: frame-tls.ts; DNS: dns.ts.) The findings
 * themselves come from sv2.ts, endpoint.ts and http-host.ts; the verdict writes them.
 */
import type { Direction, Flow } from '../flow/types.js';
import { portInRanges } from '../signatures/protocols.js';
import type { SignatureSet } from '../signatures/signature-set.js';
import type { HttpHead } from './dialect.js';
import type { LearnedEndpoints } from './dns-learned.js';
import { findPoolEndpoint, payloadlessEvidence, sustainedEvidence } from './endpoint.js';
import type { EngineContext } from './engine-context.js';
import { release, type FlowInspection } from './flow-state.js';
import { httpHostEvidence } from './http-host.js';
import { entryLabel, joinProvenance, type IntelFinding } from './intel.js';
import { FlightCounter, noiseShapeEvidence, parseSetupConnection, setupConnectionEvidence } from './sv2.js';

/**
 * The client's first payload of a flow whose handshake was seen: a plaintext Stratum V2
 * SetupConnection is a hit at once; otherwise the first flights are counted for the
 * Noise handshake shape (countFlight).
 */
export function startSv2Checks(cx: EngineContext, flow: Flow, st: FlowInspection, buf: Buffer, start: number, end: number, ts: number): void {
  const rules = st.set.protocols;
  const setupRule = rules.rule('sv2.setup');
  const setup = setupRule ? parseSetupConnection(buf, start, end) : null;
  if (setup && setupRule) {
    cx.verdict.emitIntel(flow, st, 0, setupConnectionEvidence(setupRule, setup), ts);
    st.flowHit = true;
  }
  const noise = rules.rule('sv2.noise');
  if (noise && !st.flowHit) st.flights = new FlightCounter(noise.params.get('client-bytes') ?? 64, noise.params.get('server-bytes') ?? 234);
}

/** Stratum V2 handshake shape: decided when the client speaks a second time. */
export function countFlight(cx: EngineContext, flow: Flow, st: FlowInspection, dir: Direction, length: number, ts: number): void {
  const flights = st.flights!;
  if (!flights.add(dir, length)) return;
  st.flights = null;
  const rule = st.set.protocols.rule('sv2.noise');
  if (!flights.matched || !rule || st.flowHit || st.readable) return;
  let finding: IntelFinding | null = null;
  if (st.pool) {
    finding = noiseShapeEvidence(rule, rule.confidence, `towards pool endpoint ${entryLabel(st.pool.entry)}`);
    finding.provenance = joinProvenance(finding.provenance, entryLabel(st.pool.entry));
    finding.dialect = 'sv2';
  } else if (portInRanges(flow.port[1], rule.ports)) {
    const level = rule.params.get('port-confidence');
    finding = noiseShapeEvidence(rule, level === undefined ? 'low' : (['low', 'medium', 'high'] as const)[level]!, `towards port ${flow.port[1]}`);
  }
  if (finding) {
    cx.verdict.emitIntel(flow, st, 0, finding, ts);
    st.flowHit = true;
  }
}

/** A watched flow (unreadable, to a pool endpoint): a hit once the rule's thresholds are met. */
export function checkSustained(cx: EngineContext, flow: Flow, st: FlowInspection, ts: number): void {
  const rule = st.set.protocols.rule('endpoint.sustained');
  if (!rule || !st.pool || st.flowHit) {
    release(flow, st);
    return;
  }
  const f = sustainedEvidence(flow, st.pool, rule, st.tls, ts);
  if (!f) return;
  cx.verdict.emitIntel(flow, st, (1 - st.pool.side) as Direction, f, ts);
  st.flowHit = true;
  release(flow, st);
}

/** A TCP flow that never carried payload: a low hit when it went to a pool endpoint. */
export function payloadlessFlowEnd(cx: EngineContext, set: SignatureSet, learned: LearnedEndpoints, flow: Flow): void {
  const rule = set.protocols.rule('endpoint.syn');
  if (!rule) return;
  const pool = findPoolEndpoint(flow, set, learned, flow.firstSeenMicros);
  if (pool) cx.verdict.emitIntel(flow, null, (1 - pool.side) as Direction, payloadlessEvidence(flow, pool, rule), flow.firstSeenMicros);
}

/** HTTP request to a listed pool host. */
export function checkHost(cx: EngineContext, flow: Flow, st: FlowInspection, dir: Direction, head: HttpHead, ts: number): void {
  const f = httpHostEvidence(st.set, head, flow.port[1 - dir]!);
  if (f) cx.verdict.emitIntel(flow, st, dir, f, ts);
}
