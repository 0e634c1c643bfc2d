/**
 * What the live feed sends, one JSON object per WebSocket text message, with a `type`:
 *   hello  {type, interface, version}                       on connect
 *   hit    {type, ts, miner_ip, miner_port, pool_ip, ...}   every new hit, as detected
 *   ip     {type, ip, role, first_seen, ..., agents}       the IP's rollup after each write
 *   stats  {type, ts, packets, bytes, dropped, ...}         every stats interval
 * Field names follow the database and `export` (snake_case). Messages stay under
 * MAX_MESSAGE_BYTES: wire-derived strings are clipped and long lists cut (truncated: true).
 */
import type { Evidence } from '../detect/types.js';
import { toExportRecords } from '../export/records.js';
import { microsToIso } from '../store/iso-time.js';
import type { IpSummary } from '../store/types.js';

export const FEED_VERSION = 1;
export const MAX_MESSAGE_BYTES = 16 * 1024;
const MAX_STRING = 256;
const LIST_STEPS = [64, 16, 4, 1, 0];

function clip(text: string | undefined): string | undefined {
  return text === undefined || text.length <= MAX_STRING ? text : text.slice(0, MAX_STRING);
}

export function helloMessage(iface: string): string {
  return JSON.stringify({ type: 'hello', interface: iface, version: FEED_VERSION });
}

export function hitMessage(e: Evidence): string {
  return JSON.stringify({
    type: 'hit',
    ts: microsToIso(Math.trunc(e.tsMicros)),
    miner_ip: e.minerIp,
    miner_port: e.minerPort,
    pool_ip: e.poolIp,
    pool_port: e.poolPort,
    transport: e.transport,
    dialect: clip(e.dialect),
    kind: clip(e.kind),
    confidence: e.confidence,
    detector: clip(e.detector),
    source: clip(e.source),
    agent: clip(e.agent),
    worker: clip(e.worker),
    login: clip(e.login),
    wallet: clip(e.wallet),
    algo: clip(e.algo),
    pool_host: clip(e.poolHost),
    detail: clip(e.detail),
  });
}

/** The IP's rollup as `export` shows it; null if it cannot be made small enough. */
export function ipMessage(summary: IpSummary): string | null {
  const record = toExportRecords([summary])[0]!;
  for (const cap of LIST_STEPS) {
    const lists = {
      dialects: record.dialects.slice(0, cap).map((v) => clip(v)),
      peers: record.peers.slice(0, cap).map((v) => clip(v)),
      identities: record.identities.slice(0, cap).map((v) => clip(v)),
      agents: record.agents.slice(0, cap).map((v) => clip(v)),
    };
    const truncated = Object.entries(lists).some(([k, v]) => v.length < record[k as keyof typeof lists].length);
    const text = JSON.stringify({ type: 'ip', ...record, ...lists, ...(truncated ? { truncated: true } : {}) });
    if (Buffer.byteLength(text) <= MAX_MESSAGE_BYTES) return text;
  }
  return null;
}

export function statsMessage(stats: object): string {
  return JSON.stringify({ type: 'stats', ...stats });
}
