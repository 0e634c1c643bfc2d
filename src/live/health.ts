/**
 * The live sensor's health at one moment: one CaptureStatsRecord for the database, the
 * stats file and `minewatch status`, plus the rates since the previous snapshot for the
 * periodic log line.
 */
import { writeFileAtomic } from '../export/atomic-write.js';
import type { LiveCaptureStats } from '../capture/live.js';
import type { Sensor } from '../sensor.js';
import type { CaptureStatsRecord, SensorState } from '../store/capture-stats.js';

export interface HealthSources {
  interfaceName: string;
  startedAt: string;
  sensor: Sensor;
  capture: LiveCaptureStats;
  hitsStored: number;
  state?: SensorState;
  nowMicros: number;
}

export function healthRecord(src: HealthSources): CaptureStatsRecord {
  const mem = process.memoryUsage();
  const flows = src.sensor.flows.stats;
  return {
    tsMicros: src.nowMicros,
    interface: src.interfaceName,
    pid: process.pid,
    startedAt: src.startedAt,
    state: src.state ?? src.capture.state,
    packets: src.sensor.packets,
    bytes: src.sensor.bytes,
    kernelReceived: src.capture.received,
    kernelDropped: src.capture.dropped,
    ifDropped: src.capture.ifDropped,
    interfaceDropped: src.capture.interfaceDropped,
    reopens: src.capture.reopens,
    downEvents: src.capture.downEvents,
    flowsActive: flows.active,
    flowsCreated: flows.created,
    flowsEvicted: flows.evicted,
    evidence: src.sensor.engine.stats.evidence,
    hitsStored: src.hitsStored,
    rssBytes: mem.rss,
    heapBytes: mem.heapUsed,
  };
}

/** Share of the packets offered to the capture that the kernel or interface dropped. */
export function dropRatio(r: Pick<CaptureStatsRecord, 'kernelReceived' | 'kernelDropped' | 'interfaceDropped'>): number {
  const lost = r.kernelDropped + r.interfaceDropped;
  const offered = r.kernelReceived + r.interfaceDropped;
  return offered === 0 ? 0 : lost / offered;
}

/** The fields of the periodic pino stats line: totals, and rates since `previous`. */
export function statsLogFields(now: CaptureStatsRecord, previous: CaptureStatsRecord | null): Record<string, unknown> {
  const seconds = previous ? (now.tsMicros - previous.tsMicros) / 1e6 : 0;
  const rate = (a: number, b: number | undefined) => (seconds > 0 && b !== undefined ? Math.round((a - b) / seconds) : undefined);
  return {
    interface: now.interface,
    state: now.state,
    packets: now.packets,
    bytes: now.bytes,
    pps: rate(now.packets, previous?.packets),
    bps: rate(now.bytes * 8, previous ? previous.bytes * 8 : undefined),
    drops: {
      kernel: now.kernelDropped,
      interface: now.interfaceDropped,
      libpcapIf: now.ifDropped,
      ratio: Number(dropRatio(now).toFixed(6)),
    },
    flows: { active: now.flowsActive, created: now.flowsCreated, evicted: now.flowsEvicted },
    hits: { detected: now.evidence, stored: now.hitsStored },
    memory: { rss: now.rssBytes, heapUsed: now.heapBytes },
    reopens: now.reopens,
  };
}

/** The stats file: the record as JSON (with an ISO time), replaced atomically. */
export function writeStatsFile(path: string, record: CaptureStatsRecord, ts: string): void {
  writeFileAtomic(path, `${JSON.stringify({ ts, ...record }, null, 2)}\n`);
}
