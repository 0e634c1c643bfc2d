/**
 * DNS over TCP (RFC 1035 section 4.2.2, RFC 7766): each message is preceded by its length
 * in two bytes. Resolvers fall back to TCP for answers too large for UDP, and some always
 * use it, so a pool name and the addresses it resolves to can arrive this way. Each message
 * is screened like a datagram (dns-screen.ts) and read in full only when it may name a
 * listed pool; evidence and learning are the DnsWatcher's, as for UDP.
 */
import type { Direction, Flow } from '../flow/types.js';
import { DnsFlowState, type DnsWatcher } from './dns.js';
import { SCREEN_MALFORMED, SCREEN_MAYBE_POOL } from './dns-screen.js';
import type { EngineContext } from './engine-context.js';
import { Mode, type DirectionState, type FlowInspection } from './flow-state.js';

/** Two length bytes and the largest message they can announce. */
const MAX_FRAME = 2 + 65535;

export function feedDnsStream(
  cx: EngineContext,
  dns: DnsWatcher,
  flow: Flow,
  st: FlowInspection,
  d: DirectionState,
  dir: Direction,
  buf: Buffer,
  start: number,
  end: number,
  ts: number,
): void {
  // A message split over segments is gathered in the carry, and read from there.
  const carried = d.carry.length > 0;
  if (carried && !d.carry.append(buf, start, end, MAX_FRAME + (end - start))) {
    d.mode = Mode.Off;
    return;
  }
  const src = carried ? d.carry.buffer : buf;
  const last = carried ? d.carry.length : end;
  let pos = carried ? 0 : start;
  while (last - pos >= 2 && d.mode === Mode.DnsStream) {
    const length = (src[pos]! << 8) | src[pos + 1]!;
    if (pos + 2 + length > last) break;
    const from = pos + 2;
    const seen = dns.screen.screen(src, from, from + length, st.set.pools.nameHashes);
    if (seen === SCREEN_MALFORMED) {
      d.mode = Mode.Off; // not DNS, or out of step: nothing further can be framed
      break;
    }
    st.readable = true;
    if (seen === SCREEN_MAYBE_POOL) {
      st.dns ??= new DnsFlowState(st.set);
      dns.onDatagram(flow, st.dns, dir, src, from, length, ts);
    } else {
      cx.stats.dnsMessages++;
    }
    pos = from + length;
  }
  // What is left is the start of one message, shorter than MAX_FRAME.
  if (d.mode !== Mode.DnsStream) d.carry.clear();
  else if (carried) d.carry.discard(pos);
  else if (pos < end && !d.carry.append(buf, pos, end, MAX_FRAME)) d.mode = Mode.Off;
}
