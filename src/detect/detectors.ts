/**
 * The payload detectors the engine runs, and how a framed message reaches them: a JSON
 * line, a WebSocket text message's lines or an HTTP body is parsed once and offered to
 * every JSON detector (the first finding wins), an HTTP message to the HTTP detectors;
 * findings go to the verdict, parsed messages on to the observers.
 */
import type { Direction, Flow } from '../flow/types.js';
import { beamDetector } from './beam.js';
import { browserMinerDetector } from './browser-miner.js';
import { cryptonoteDetector } from './cryptonote.js';
import type { HttpDetector, HttpHead, JsonDetector, JsonMessage, MessageContext } from './dialect.js';
import type { DetectStats, EngineContext } from './engine-context.js';
import { ethproxyDetector } from './ethproxy.js';
import type { FlowInspection } from './flow-state.js';
import { getworkBodyDetector, httpGetworkDetector } from './http-getwork.js';
import { stratumDetector } from './stratum.js';

export const JSON_DETECTORS: readonly JsonDetector[] = [
  stratumDetector,
  cryptonoteDetector,
  ethproxyDetector,
  beamDetector,
  getworkBodyDetector,
  browserMinerDetector,
];
export const HTTP_DETECTORS: readonly HttpDetector[] = [httpGetworkDetector];

/** Appended to the detail of findings from messages that came in WebSocket frames. */
const OVER_WEBSOCKET = 'over websocket';

function toMessage(obj: Record<string, unknown>, overHttp: boolean): JsonMessage {
  return {
    obj,
    method: typeof obj.method === 'string' ? obj.method : undefined,
    id: obj.id,
    params: obj.params,
    result: obj.result,
    error: obj.error,
    overHttp,
  };
}

function parse(stats: DetectStats, buf: Buffer, start: number, end: number): Record<string, unknown> | null {
  stats.messagesParsed++;
  try {
    const v: unknown = JSON.parse(buf.toString('utf8', start, end));
    if (v !== null && typeof v === 'object') {
      const o = Array.isArray(v) ? v[0] : v; // a JSON-RPC batch: its first call
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) return o as Record<string, unknown>;
    }
  } catch {
    stats.jsonErrors++;
  }
  return null;
}

/**
 * Parses [start, end) as one JSON message (the caller has trimmed it and seen its opening
 * brace); every attempt counts against the flow's probe budget. Null when it is no object.
 */
export function parseMessage(cx: EngineContext, st: FlowInspection, buf: Buffer, start: number, end: number, overHttp: boolean): JsonMessage | null {
  const obj = parse(cx.stats, buf, start, end);
  st.parsed++;
  return obj ? toMessage(obj, overHttp) : null;
}

export function offer(cx: EngineContext, flow: Flow, st: FlowInspection, dir: Direction, msg: JsonMessage, ts: number, overWebSocket = false): void {
  const ctx: MessageContext = { dir, facts: st.facts, rules: st.set.protocols };
  for (const det of JSON_DETECTORS) {
    const f = det.inspect(msg, ctx);
    if (f) {
      if (overWebSocket) f.detail = f.detail === undefined ? OVER_WEBSOCKET : `${f.detail}; ${OVER_WEBSOCKET}`;
      cx.verdict.accept(flow, st, dir, f, ts);
      break;
    }
  }
  cx.verdict.observeOrHold(flow, st, msg, dir, ts);
}

export function inspectHttp(cx: EngineContext, flow: Flow, st: FlowInspection, dir: Direction, head: HttpHead, body: JsonMessage | null, ts: number): void {
  const ctx: MessageContext = { dir, facts: st.facts, rules: st.set.protocols };
  for (const det of HTTP_DETECTORS) {
    const f = det.inspect(head, body, ctx);
    if (f) cx.verdict.accept(flow, st, dir, f, ts);
  }
}
