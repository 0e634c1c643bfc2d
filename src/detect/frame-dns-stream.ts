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
  if (d.carry.length === 0) {
    const used = readMessages(cx, dns, flow, st, d, dir, buf, start, end, ts);
    if (d.mode === Mode.DnsStream && used < end && !d.carry.append(buf, used, end, MAX_FRAME)) d.mode = Mode.Off;
    return;
  }
  // A message split over segments: gather it, read what is complete, keep the rest.
  if (!d.carry.append(buf, start, end, MAX_FRAME + (end - start))) {
    d.mode = Mode.Off;
    return;
  }
  const held = d.carry.buffer;
  const length = d.carry.length;
  const used = readMessages(cx, dns, flow, st, d, dir, held, 0, length, ts);
  if (used === 0) return;
  const rest = used < length ? Buffer.from(held.subarray(used, length)) : null;
  d.carry.clear();
  if (rest && d.mode === Mode.DnsStream && !d.carry.append(rest, 0, rest.length, MAX_FRAME)) d.mode = Mode.Off;
}

/** Reads the complete messages in [start, end); returns where the first incomplete one starts. */
function readMessages(
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
): number {
  let pos = start;
  while (end - pos >= 2 && d.mode === Mode.DnsStream) {
    const length = (buf[pos]! << 8) | buf[pos + 1]!;
    if (pos + 2 + length > end) break;
    const from = pos + 2;
    const seen = dns.screen.screen(buf, from, from + length, st.set.pools.nameHashes);
    if (seen === SCREEN_MALFORMED) {
      d.mode = Mode.Off; // not DNS, or out of step: nothing further can be framed
      return end;
    }
    st.readable = true;
    if (seen === SCREEN_MAYBE_POOL) {
      st.dns ??= new DnsFlowState(st.set);
      dns.onDatagram(flow, st.dns, dir, buf, from, length, ts);
    } else {
      cx.stats.dnsMessages++;
    }
    pos = from + length;
  }
  return pos;
}
