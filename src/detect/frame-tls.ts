/**
 * TLS: a direction that opens with a handshake record (and whose flow has a TLS rule, a
 * fingerprint list or a pool endpoint to judge it by) is read only up to its first
 * handshake message; what follows is encrypted.
 */
import type { Direction, Flow } from '../flow/types.js';
import type { EngineContext } from './engine-context.js';
import { Mode, type DirectionState, type FlowInspection } from './flow-state.js';
import { HANDSHAKE_CLIENT_HELLO, parseClientHello, parseServerHello } from './tls-hello.js';
import { firstHandshake, MAX_HELLO_BYTES } from './tls-records.js';
import { tlsClientEvidence, tlsFacts } from './tls.js';

/**
 * Collects a direction's first TLS handshake message. The ClientHello is judged at once
 * (SNI, fingerprints); the ServerHello is kept for the details. Then the direction is off:
 * the rest is encrypted.
 */
export function feedTls(cx: EngineContext, flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
  let src = buf;
  let s = start;
  let e = end;
  if (d.carry.length > 0) {
    if (!d.carry.append(buf, start, end, MAX_HELLO_BYTES)) {
      d.mode = Mode.Off;
      return;
    }
    src = d.carry.buffer;
    s = 0;
    e = d.carry.length;
  }
  const hs = firstHandshake(src, s, e);
  if (hs === 'more') {
    if (d.carry.length === 0 && !d.carry.append(buf, start, end, MAX_HELLO_BYTES)) d.mode = Mode.Off;
    return;
  }
  d.mode = Mode.Off;
  if (hs !== null) {
    if (hs.buf[hs.start] === HANDSHAKE_CLIENT_HELLO) clientHello(cx, flow, st, dir, hs.buf, hs.start, hs.end, ts);
    else if (st.tls) st.tls.server = parseServerHello(hs.buf, hs.start, hs.end);
  }
  d.carry.clear();
}

function clientHello(cx: EngineContext, flow: Flow, st: FlowInspection, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
  const hello = parseClientHello(buf, start, end);
  if (!hello) return;
  cx.stats.tlsHellos++;
  st.tls = tlsFacts(st.set, hello);
  const f = tlsClientEvidence(st.set, st.tls, flow.port[1 - dir]!);
  if (f && !st.flowHit) {
    cx.verdict.emitIntel(flow, st, dir, f, ts);
    st.flowHit = true;
  }
}
