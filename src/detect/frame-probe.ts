/**
 * The direction probe: which framing a direction speaks, decided from its first payload
 * bytes. A direction whose first byte is neither '{', an HTTP token nor a TLS handshake
 * (worth reading for this flow) is switched off at once.
 */
import type { Flow } from '../flow/types.js';
import { skipSpace, startsHttp } from './framing.js';
import { Mode, type DirectionState, type FlowInspection } from './flow-state.js';
import { startsTlsHandshake } from './tls-records.js';

/** Decides how to frame a direction from its first payload bytes. */
export function probe(flow: Flow, st: FlowInspection, d: DirectionState, buf: Buffer, start: number, end: number): void {
  const i = skipSpace(buf, start, end);
  if (i >= end) return;
  if (buf[i] === 0x7b /* { */) d.mode = Mode.Lines;
  else if (startsHttp(buf, i, end)) d.mode = Mode.Http;
  else if (startsTlsHandshake(buf, start, end) && (st.set.protocols.rule('tls.sni') || st.set.tls.size > 0 || st.pool)) {
    d.mode = Mode.Tls;
  } else if (!flow.sawSyn) {
    // Picked up mid-stream: the first bytes may be the tail of a line. Resync at a newline.
    d.mode = Mode.Lines;
    d.skipLine = true;
  } else d.mode = Mode.Off;
}
