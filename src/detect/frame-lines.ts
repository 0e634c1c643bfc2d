/**
 * JSON-line framing: a direction (or a WebSocket text message) cut into newline-terminated
 * lines, each line kept across segments up to maxLineBytes. A line is parsed only when it
 * looks like a JSON object carrying a gate key ("method"/"result"; over WebSocket also the
 * browser miners' keys), or once the flow is confirmed.
 */
import type { Direction, Flow } from '../flow/types.js';
import { hasBrowserMinerKey } from './browser-miner.js';
import { offer, parseMessage } from './detectors.js';
import { lineCap, type EngineContext } from './engine-context.js';
import { hasGateKey, indexOfByte, skipSpace, trimEnd } from './framing.js';
import { Mode, type DirectionState, type FlowInspection } from './flow-state.js';

const MAX_NON_JSON_LINES = 4;

export function feedLines(cx: EngineContext, flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
  let pos = start;
  while (pos < end && d.mode === Mode.Lines) {
    const nl = indexOfByte(buf, 0x0a, pos, end);
    if (nl < 0) {
      if (d.skipLine) return;
      if (!d.carry.append(buf, pos, end, lineCap(cx.opts, st.confirmed, cx.opts.maxLineBytes))) {
        if (!d.carry.refusedByBudget) cx.stats.oversizeLines++;
        d.skipLine = true;
      }
      return;
    }
    if (d.skipLine) {
      d.skipLine = false;
      d.carry.clear();
    } else if (d.carry.length > 0) {
      if (d.carry.append(buf, pos, nl, lineCap(cx.opts, st.confirmed, cx.opts.maxLineBytes))) processLine(cx, flow, st, d, dir, d.carry.buffer, 0, d.carry.length, ts);
      else if (!d.carry.refusedByBudget) cx.stats.oversizeLines++;
      d.carry.clear();
    } else {
      processLine(cx, flow, st, d, dir, buf, pos, nl, ts);
    }
    pos = nl + 1;
  }
}

export function processLine(cx: EngineContext, flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number, overWebSocket = false): void {
  start = skipSpace(buf, start, end);
  end = trimEnd(buf, start, end);
  if (start >= end) return;
  if (buf[start] !== 0x7b || buf[end - 1] !== 0x7d) {
    // Text protocols (SMTP banners, NATS verbs) are not JSON lines: give up on them fast.
    if (!st.confirmed && ++d.nonJsonLines > MAX_NON_JSON_LINES) d.mode = Mode.Off;
    return;
  }
  st.readable = true;
  // Once a flow is confirmed every line is parsed: share replies such as
  // {"id":2,"error":{…}} or ES2's bare {"id":40} carry neither gate key.
  if (!st.confirmed && !hasGateKey(buf, start, end) && !(overWebSocket && hasBrowserMinerKey(buf, start, end))) return;
  const msg = parseMessage(cx, st, buf, start, end, false);
  if (msg) offer(cx, flow, st, dir, msg, ts, overWebSocket);
}
