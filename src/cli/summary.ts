/** The human-readable end-of-replay summary. */
import type { ReaderStats } from '../capture/types.js';
import type { DecodeStats } from '../decode/types.js';
import type { DetectStats } from '../detect/engine.js';
import type { MinerDigest } from '../sensor.js';

export interface InputResult {
  file: string;
  packets: number;
  stats?: ReaderStats;
  error?: string;
}

export interface ReplaySummary {
  inputs: InputResult[];
  packets: number;
  bytes: number;
  flows: number;
  flowsEvicted: number;
  decode: DecodeStats;
  detect: DetectStats;
  miners: MinerDigest[];
  /** Miner IPs found beyond the digest cap (stored, not listed here). */
  moreMiners: number;
  hitsInserted: number;
  evidence: number;
  seconds: number;
  /** Worker threads the flows were sharded among (1: the main thread did all). */
  workers: number;
  /** Peak resident memory of the process (all threads). */
  maxRssBytes: number;
}

const MAX_LISTED = 50;

/** 1,234,567. Not toLocaleString: its first call loads ICU data, ~25 ms of every replay. */
function num(n: number): string {
  const digits = String(Math.abs(Math.round(n)));
  const grouped = digits.replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 0)} MB`;
}

export function formatSummary(s: ReplaySummary): string {
  const out: string[] = [];
  const secs = Math.max(s.seconds, 1e-3);
  out.push(
    `replayed ${s.inputs.length} input(s): ${num(s.packets)} packets, ${mb(s.bytes)}, ${num(s.flows)} flows in ${s.seconds.toFixed(2)} s` +
      ` (${(s.bytes / 1e6 / secs).toFixed(1)} MB/s, ${num(Math.round(s.packets / secs))} packets/s` +
      `${s.workers > 1 ? `, ${s.workers} workers` : ''}, peak RSS ${(s.maxRssBytes / 1e6).toFixed(0)} MB)`,
  );
  out.push(`miner IPs: ${num(s.miners.length + s.moreMiners)}   evidence: ${num(s.evidence)}   new hits stored: ${num(s.hitsInserted)}`);
  const listed = s.miners.slice(0, MAX_LISTED);
  for (const m of listed) {
    const list = (set: Set<string>): string => [...set].join(',');
    const who = [list(m.agents), list(m.identities)].filter(Boolean).join('  ');
    out.push(`  ${m.ip.padEnd(16)} -> ${list(m.pools).padEnd(22)} ${list(m.dialects).padEnd(12)} ${who}`.trimEnd());
  }
  const rest = s.miners.length + s.moreMiners - listed.length;
  if (rest > 0) out.push(`  … and ${num(rest)} more (minewatch export lists them all)`);
  const warnings: string[] = [];
  for (const i of s.inputs) {
    if (i.error) warnings.push(i.error);
    const st = i.stats;
    if (!st) continue;
    if (st.corruptRecords) warnings.push(`${i.file}: ${num(st.corruptRecords)} corrupt record(s), ${num(st.skippedBytes)} bytes skipped`);
    if (st.truncated) warnings.push(`${i.file}: capture ends inside a record (truncated)`);
    // Blocks without packets (name resolution, interface statistics, custom) are normal in
    // pcapng: counted in --json (unknownBlocks), not a warning.
  }
  const d = s.decode;
  if (d.unknownLinkType) warnings.push(`${num(d.unknownLinkType)} packet(s) with an unsupported link type skipped`);
  if (d.malformed) warnings.push(`${num(d.malformed)} malformed packet(s) skipped`);
  if (d.snapTruncated) warnings.push(`${num(d.snapTruncated)} packet(s) cut by the capture's snap length: read as far as captured`);
  if (d.snapCutHeaders) warnings.push(`${num(d.snapCutHeaders)} packet(s) whose headers the snap length cut: skipped`);
  if (d.fragmentsDropped) warnings.push(`${num(d.fragmentsDropped)} IP fragment(s) dropped (limits or timeout)`);
  if (s.flowsEvicted) warnings.push(`${num(s.flowsEvicted)} flow(s) evicted because the flow table was full`);
  if (s.detect.oversizeLines) warnings.push(`${num(s.detect.oversizeLines)} oversize line(s) skipped`);
  if (s.detect.carryRefused) {
    warnings.push(`${num(s.detect.carryRefused)} partial line(s) or head(s) dropped: the carries of all flows were full (a flood of unfinished lines?)`);
  }
  if (warnings.length) {
    out.push('warnings:');
    for (const w of warnings) out.push(`  ${w}`);
  }
  return `${out.join('\n')}\n`;
}
