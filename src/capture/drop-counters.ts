/**
 * Running totals of capture counters across handle reopens and 32-bit wraparound.
 * libpcap's pcap_stat fields are unsigned 32-bit: at 300 kpps they wrap in about four
 * hours, so totals are built from deltas sampled often enough (every second).
 */
import type { HandleCounters } from './live-backend.js';

export interface CaptureTotals {
  /** Packets the kernel accepted for this capture (after the BPF filter). */
  received: number;
  /** Packets the kernel dropped because the capture ring was full. */
  dropped: number;
  /** Packets dropped by the interface or driver, as libpcap reports them. */
  ifDropped: number;
}

const U32 = 0x1_0000_0000;

function delta(now: number, before: number): number {
  return (now - before + U32) % U32;
}

export class DropCounters {
  readonly totals: CaptureTotals = { received: 0, dropped: 0, ifDropped: 0 };
  private last: HandleCounters = { received: 0, dropped: 0, ifDropped: 0 };

  /** A new handle counts from zero. */
  resetHandle(): void {
    this.last = { received: 0, dropped: 0, ifDropped: 0 };
  }

  sample(now: HandleCounters): void {
    this.totals.received += delta(now.received, this.last.received);
    this.totals.dropped += delta(now.dropped, this.last.dropped);
    this.totals.ifDropped += delta(now.ifDropped, this.last.ifDropped);
    this.last = { ...now };
  }
}

/** Totals of a counter that may be reset (interface deleted and created again). */
export class MonotonicTotal {
  total = 0;
  private last: number | null = null;

  sample(value: number): void {
    if (this.last !== null) this.total += value >= this.last ? value - this.last : value;
    this.last = value;
  }
}
