/**
 * HTTP/1.x framing: a direction read as a sequence of messages, each a head (kept across
 * segments up to maxHttpHeadBytes) and a Content-Length body (kept up to maxHttpBodyBytes,
 * else skipped). Only messages that may carry mining are read; a JSON body is offered to
 * the JSON detectors after the head and body went to the HTTP detectors. A WebSocket
 * Upgrade (request or 101 answer) switches the direction to frame-websocket.ts; every
 * other uninteresting message switches it off.
 */
import type { Direction, Flow } from '../flow/types.js';
import type { HttpHead, JsonMessage } from './dialect.js';
import { inspectHttp, offer, parseMessage } from './detectors.js';
import { lineCap, type EngineContext } from './engine-context.js';
import { findHeadEnd, hasGateKey, skipSpace, trimEnd } from './framing.js';
import { feedLines } from './frame-lines.js';
import { probe } from './frame-probe.js';
import { feedTls } from './frame-tls.js';
import { feedWebSocket, startWebSocket } from './frame-websocket.js';
import { checkHost } from './flow-intel.js';
import { HttpPhase, Mode, type DirectionState, type FlowInspection } from './flow-state.js';
import { hasMiningHeaders } from './http-getwork.js';
import { parseHttpHead } from './http-head.js';
import { isWebSocketAccept, isWebSocketRequest } from './websocket.js';

export function feedHttp(cx: EngineContext, flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
  let pos = start;
  while (pos < end && d.mode === Mode.Http) {
    if (d.httpPhase === HttpPhase.Head) {
      const cap = lineCap(cx.opts, st.confirmed, cx.opts.maxHttpHeadBytes);
      let head: HttpHead | null;
      if (d.carry.length === 0) {
        // The usual case: the whole head is in this segment, read where it lies.
        const headEnd = findHeadEnd(buf, pos, end);
        if (headEnd < 0) {
          if (end - pos > cap || !d.carry.append(buf, pos, end, cap)) d.mode = Mode.Off;
          return;
        }
        head = parseHttpHead(buf, pos, headEnd);
        pos = headEnd;
      } else {
        const before = d.carry.length;
        if (!d.carry.append(buf, pos, end, cap + (end - pos))) {
          d.mode = Mode.Off;
          return;
        }
        const headEnd = findHeadEnd(d.carry.buffer, Math.max(0, before - 3), d.carry.length);
        if (headEnd < 0) {
          if (d.carry.length > cap) d.mode = Mode.Off;
          return;
        }
        pos += headEnd - before; // bytes of this segment consumed by the head
        head = parseHttpHead(d.carry.buffer, 0, headEnd);
        d.carry.clear();
      }
      if (!head) {
        d.mode = Mode.Off;
        return;
      }
      cx.stats.httpMessages++;
      st.readable = true;
      if (head.isRequest) checkHost(cx, flow, st, dir, head, ts);
      startHttpBody(cx, flow, st, d, dir, head, ts);
    } else {
      const take = Math.min(d.bodyRemaining, end - pos);
      if (d.httpPhase === HttpPhase.Body && !d.carry.append(buf, pos, pos + take, lineCap(cx.opts, st.confirmed, cx.opts.maxHttpBodyBytes))) d.httpPhase = HttpPhase.SkipBody;
      d.bodyRemaining -= take;
      pos += take;
      if (d.bodyRemaining === 0) finishHttpMessage(cx, flow, st, d, dir, ts);
    }
  }
  // Frames may follow the Upgrade head in the same segment.
  if (d.mode === Mode.WebSocket && pos < end) feedWebSocket(cx, flow, st, d, dir, buf, pos, end, ts);
  // Tunnelled bytes may follow a CONNECT head or its 2xx answer in the same segment.
  else if (d.mode === Mode.Probe && pos < end) feedTunnelStart(cx, flow, st, d, dir, buf, pos, end, ts);
}

/**
 * The first bytes inside an HTTP CONNECT tunnel: mining JSON lines or a TLS hello (a pool
 * reached through a proxy). HTTP inside the tunnel is not followed.
 */
function feedTunnelStart(cx: EngineContext, flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
  probe(flow, st, d, buf, start, end);
  if (d.mode === Mode.Lines) feedLines(cx, flow, st, d, dir, buf, start, end, ts);
  else if (d.mode === Mode.Tls) feedTls(cx, flow, st, d, dir, buf, start, end, ts);
  else if (d.mode === Mode.Http) d.mode = Mode.Off;
}

/** After a head: decide whether the message is worth reading and how long its body is. */
function startHttpBody(cx: EngineContext, flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, head: HttpHead, ts: number): void {
  if (head.isRequest ? isWebSocketRequest(head) : isWebSocketAccept(head)) {
    startWebSocket(cx, d);
    return;
  }
  // HTTP CONNECT (miners behind a proxy): what follows the request, and the proxy's 2xx
  // answer, is the tunnelled stream, probed afresh.
  if (head.isRequest && head.method === 'CONNECT') {
    st.proxyTarget = head.path.slice(0, 261);
    d.mode = Mode.Probe;
    return;
  }
  if (!head.isRequest && st.proxyTarget !== null && head.status >= 200 && head.status < 300) {
    d.mode = Mode.Probe;
    return;
  }
  const interesting =
    hasMiningHeaders(head) ||
    (head.isRequest && head.method === 'POST') ||
    (!head.isRequest && st.confirmed) ||
    (!head.isRequest && (head.headers.get('content-type') ?? '').includes('json'));
  if (!interesting) {
    d.mode = Mode.Off;
    return;
  }
  if ((head.headers.get('transfer-encoding') ?? '').toLowerCase().includes('chunked')) {
    // No body framing support for chunked messages: judge the head alone, then stop.
    inspectHttp(cx, flow, st, dir, head, null, ts);
    d.mode = Mode.Off;
    return;
  }
  const length = Number(head.headers.get('content-length') ?? '0');
  d.httpHead = head;
  d.bodyRemaining = Number.isFinite(length) && length > 0 ? Math.floor(length) : 0;
  d.httpPhase = d.bodyRemaining > lineCap(cx.opts, st.confirmed, cx.opts.maxHttpBodyBytes) ? HttpPhase.SkipBody : HttpPhase.Body;
  if (d.bodyRemaining === 0) finishHttpMessage(cx, flow, st, d, dir, ts);
}

function finishHttpMessage(cx: EngineContext, flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, ts: number): void {
  const head = d.httpHead!;
  let body: JsonMessage | null = null;
  if (d.httpPhase === HttpPhase.Body && d.carry.length > 0) {
    const b = d.carry.buffer;
    const s = skipSpace(b, 0, d.carry.length);
    const e = trimEnd(b, s, d.carry.length);
    // Same gate as JSON lines: an unconfirmed flow's body is parsed only with a "method" or
    // "result" member (JSON APIs over HTTP are common; mining bodies always have one).
    const json = s < e && (b[s] === 0x7b || b[s] === 0x5b);
    if (json && (st.confirmed || hasGateKey(b, s, e))) body = parseMessage(cx, st, b, s, e, true);
  }
  d.carry.clear();
  d.httpHead = null;
  d.httpPhase = HttpPhase.Head;
  inspectHttp(cx, flow, st, dir, head, body, ts);
  if (body) offer(cx, flow, st, dir, body, ts);
}
