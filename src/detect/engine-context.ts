/**
 * What the parts of the detection engine share: its options, its counters, and the context
 * object the framing functions (frame-*.ts, detectors.ts, flow-intel.ts) take as their first
 * argument. The engine builds one context when it is created; nothing here is allocated per
 * packet.
 */
import type { CarryBudget } from './framing.js';
import type { Verdict } from './verdict.js';
import type { WebSocketCounters } from './websocket.js';

export interface EngineOptions {
  /** Longest JSON line kept across segments (an Equihash submit is ~2.8 kB). */
  maxLineBytes: number;
  /** Longest line, HTTP head or body kept for a flow not yet confirmed as mining: what a
   *  flood of flows can pin in partial lines is this × 2 × the flow table's size. */
  maxProbeLineBytes: number;
  /** Payload bytes per direction inspected before a flow with no mining is dropped. */
  probeBytes: number;
  /** JSON messages parsed on a flow before a flow with no mining is dropped. */
  probeMessages: number;
  /** Evidence rows a single flow may produce (new kinds and identities only). */
  maxEvidencePerFlow: number;
  maxHttpHeadBytes: number;
  maxHttpBodyBytes: number;
  /** Bytes all partial lines, heads, bodies and WebSocket messages may hold at once (CarryBudget). */
  maxCarryBytesTotal: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  maxLineBytes: 64 * 1024,
  maxProbeLineBytes: 8 * 1024,
  probeBytes: 64 * 1024,
  probeMessages: 64,
  maxEvidencePerFlow: 64,
  maxHttpHeadBytes: 16 * 1024,
  maxHttpBodyBytes: 256 * 1024,
  maxCarryBytesTotal: 64 * 1024 * 1024,
};

export interface DetectStats extends WebSocketCounters {
  flowsInspected: number;
  flowsConfirmed: number;
  /** Flows dropped from inspection after showing no mining. */
  flowsBypassed: number;
  messagesParsed: number;
  jsonErrors: number;
  /** JSON lines over maxLineBytes (WebSocket text messages: wsOversizeMessages). */
  oversizeLines: number;
  httpMessages: number;
  evidence: number;
  /** Evidence not emitted because a flow hit maxEvidencePerFlow. */
  evidenceCapped: number;
  /** Evidence from beyond the payload (DNS, TLS, HTTP Host, endpoints, SV2 shape). */
  intelEvidence: number;
  tlsHellos: number;
  dnsMessages: number;
  /** Pool addresses learned from DNS answers (including re-learned ones). */
  dnsLearned: number;
  /** Partial lines, heads or messages dropped because all flows' carries held maxCarryBytesTotal. */
  carryRefused: number;
}

export function newDetectStats(): DetectStats {
  return {
    flowsInspected: 0,
    flowsConfirmed: 0,
    flowsBypassed: 0,
    messagesParsed: 0,
    jsonErrors: 0,
    oversizeLines: 0,
    httpMessages: 0,
    evidence: 0,
    evidenceCapped: 0,
    intelEvidence: 0,
    tlsHellos: 0,
    dnsMessages: 0,
    dnsLearned: 0,
    carryRefused: 0,
    wsTextMessages: 0,
    wsBinaryMessages: 0,
    wsCompressedMessages: 0,
    wsOversizeMessages: 0,
    wsViolations: 0,
  };
}

/** One per engine: what a framing function needs besides the flow and the bytes. */
export interface EngineContext {
  readonly opts: EngineOptions;
  /** The engine's own counters (DetectionEngine.stats). */
  readonly stats: DetectStats;
  /** Where findings and intel go: acceptance, settling, emission, observers. */
  readonly verdict: Verdict;
  /** What every carry of the engine may hold together. */
  readonly carries: CarryBudget;
}

/** The cap on one buffered line, head or body: generous once a flow is known to mine. */
export function lineCap(opts: EngineOptions, confirmed: boolean, full: number): number {
  return confirmed ? full : Math.min(full, opts.maxProbeLineBytes);
}
