/**
 * WebSocket framing for a direction that switched after an Upgrade handshake (frame-http.ts):
 * RFC 6455 frames are read by the direction's WebSocketReader (websocket.ts), and each
 * complete text message's JSON lines go through the same gate and detectors as raw lines,
 * their findings marked "over websocket". A close frame or a violation ends the direction.
 */
import type { Direction, Flow } from '../flow/types.js';
import type { EngineContext } from './engine-context.js';
import { indexOfByte } from './framing.js';
import { processLine } from './frame-lines.js';
import { Mode, type DirectionState, type FlowInspection } from './flow-state.js';
import { WebSocketReader, WsEvent } from './websocket.js';

/** The direction speaks RFC 6455 frames from now on. */
export function startWebSocket(cx: EngineContext, d: DirectionState): void {
  d.mode = Mode.WebSocket;
  d.ws = new WebSocketReader(cx.opts.maxLineBytes, cx.stats, cx.carries);
}

/** The direction's WebSocket reading ends: its reader and what its carry holds go. */
export function stopWebSocket(d: DirectionState): void {
  d.ws?.dropCarry();
  d.ws = null;
}

/** WebSocket frames: each complete text message is read as JSON lines. */
export function feedWebSocket(cx: EngineContext, flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
  const ws = d.ws!;
  let pos = start;
  while (pos < end && d.mode === Mode.WebSocket) {
    pos = ws.read(buf, pos, end);
    if (ws.event === WsEvent.Message) webSocketMessage(cx, flow, st, d, dir, ws.message, ws.messageStart, ws.messageEnd, ts);
    else if (ws.event !== WsEvent.NeedMore) d.mode = Mode.Off; // close or violation: the direction is over
  }
  if (d.mode !== Mode.WebSocket) stopWebSocket(d);
}

/** One text message: a JSON object, or several newline-separated JSON lines. */
function webSocketMessage(cx: EngineContext, flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
  let pos = start;
  while (pos < end && d.mode === Mode.WebSocket) {
    const nl = indexOfByte(buf, 0x0a, pos, end);
    const lineEnd = nl < 0 ? end : nl;
    processLine(cx, flow, st, d, dir, buf, pos, lineEnd, ts, true);
    pos = lineEnd + 1;
  }
}
