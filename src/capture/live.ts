/**
 * Live capture on one interface: the reader path for mirror ports. A backend fills the same
 * reused CapturedPacket record the file readers fill and hands it to the same handler
 * (Sensor.handlePacket), so everything after capture is shared with `replay`.
 *
 * Around the backend: a drain timer (the safety net for lost wakeups), an interface watch
 * that notices the interface going down, disappearing or being recreated, and reopens the
 * capture with backoff instead of failing; and counter sampling for drop statistics.
 */
import { DropCounters, MonotonicTotal, type CaptureTotals } from './drop-counters.js';
import { interfaceState, type InterfaceState } from './interface-state.js';
import { CaptureOpenError, type CaptureBackend, type LiveHandle, type LiveOpenOptions } from './live-backend.js';
import type { PacketHandler } from './types.js';

export type LiveState = 'running' | 'interface-down' | 'stopped';

export interface LiveTimings {
  /** Drain the handle this often even without a wakeup. */
  drainIntervalMs: number;
  /** Check the interface and sample counters this often. */
  watchIntervalMs: number;
  /** First and longest wait between reopen attempts (doubling in between). */
  retryMinMs: number;
  retryMaxMs: number;
}

export const DEFAULT_LIVE_TIMINGS: LiveTimings = {
  drainIntervalMs: 200,
  watchIntervalMs: 1000,
  retryMinMs: 1000,
  retryMaxMs: 30_000,
};

export type LiveEvent =
  | { kind: 'opened'; interface: string; linkType: number; reopen: boolean }
  | { kind: 'down'; interface: string; reason: string }
  | { kind: 'retry-failed'; interface: string; error: string; attempt: number; nextRetryMs: number }
  | { kind: 'kept-old-handle'; interface: string; error: string }
  | { kind: 'resumed'; interface: string; downMs: number };

export interface LiveCaptureStats extends CaptureTotals {
  state: LiveState;
  /** Receive drops the interface's driver counted since the capture started (sysfs). */
  interfaceDropped: number;
  /** Times the capture was reopened after the interface came back. */
  reopens: number;
  /** Times the interface was seen going down or away. */
  downEvents: number;
}

export interface LiveCaptureOptions {
  open: LiveOpenOptions;
  backend: CaptureBackend;
  onPacket: PacketHandler;
  onEvent?: (event: LiveEvent) => void;
  timings?: Partial<LiveTimings>;
  /** /sys/class/net, replaceable in tests. */
  sysfs?: string;
  now?: () => number;
}

export class LiveCapture {
  private handle: LiveHandle | null = null;
  private handleFailed = false;
  private ifindex = -1;
  private state: LiveState = 'stopped';
  private readonly counters = new DropCounters();
  private readonly ifaceDrops = new MonotonicTotal();
  private reopens = 0;
  private downEvents = 0;
  private downSince = 0;
  private attempt = 0;
  private nextRetryAt = 0;
  private readonly timings: LiveTimings;
  private readonly now: () => number;
  private drainTimer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: LiveCaptureOptions) {
    this.timings = { ...DEFAULT_LIVE_TIMINGS, ...opts.timings };
    this.now = opts.now ?? Date.now;
  }

  get interfaceName(): string {
    return this.opts.open.interface;
  }

  get linkType(): number {
    return this.handle?.linkType ?? -1;
  }

  /** Opens the interface; a failure here is the caller's to report (nothing is retried yet). */
  start(): void {
    if (this.state !== 'stopped') return;
    const iface = this.state0();
    this.openHandle(false);
    this.ifindex = iface.ifindex;
    this.ifaceDrops.sample(iface.rxDropped);
    this.state = 'running';
    this.drainTimer = setInterval(() => this.drainTick(), this.timings.drainIntervalMs);
    this.watchTimer = setInterval(() => this.watchTick(), this.timings.watchIntervalMs);
  }

  /** Reads what is queued, samples the counters one last time and closes the handle. */
  stop(): void {
    if (this.drainTimer) clearInterval(this.drainTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.drainTimer = this.watchTimer = null;
    this.closeHandle();
    this.state = 'stopped';
  }

  /** Hands everything queued in the kernel to the handler now. */
  drain(): void {
    this.handle?.drain();
  }

  stats(): LiveCaptureStats {
    if (this.handle) this.sampleHandle(this.handle);
    return {
      state: this.state,
      ...this.counters.totals,
      interfaceDropped: this.ifaceDrops.total,
      reopens: this.reopens,
      downEvents: this.downEvents,
    };
  }

  private state0(): InterfaceState {
    return interfaceState(this.opts.open.interface, this.opts.sysfs);
  }

  private openHandle(reopen: boolean): void {
    const handle = this.opts.backend.open(this.opts.open, this.opts.onPacket);
    this.handle = handle;
    this.handleFailed = false;
    this.counters.resetHandle();
    this.emit({ kind: 'opened', interface: this.interfaceName, linkType: handle.linkType, reopen });
  }

  private closeHandle(): void {
    const handle = this.handle;
    if (!handle) return;
    this.handle = null;
    try {
      handle.drain();
      this.sampleHandle(handle);
    } finally {
      handle.close();
    }
  }

  private sampleHandle(handle: LiveHandle): void {
    try {
      this.counters.sample(handle.counters());
    } catch {
      // A failed handle may refuse to report; its last sample stands.
    }
  }

  private drainTick(): void {
    const handle = this.handle;
    if (!handle || this.handleFailed) return;
    if (handle.drain()) return;
    // An error while the interface goes down (ENETDOWN) is transient: the socket delivers
    // again once the interface is up. Only an error on a working interface condemns it.
    const iface = this.state0();
    const interfaceFine = iface.exists && iface.up && iface.ifindex === this.ifindex;
    if (interfaceFine) this.handleFailed = true;
    if (this.state === 'running') {
      this.markDown(interfaceFine ? 'the capture handle reported an error' : 'the interface went down');
    }
  }

  private watchTick(): void {
    if (this.handle && !this.handleFailed) this.sampleHandle(this.handle);
    const iface = this.state0();
    if (iface.exists) this.ifaceDrops.sample(iface.rxDropped);
    if (this.state === 'running') {
      if (!iface.exists) this.markDown('the interface is gone');
      else if (iface.ifindex !== this.ifindex) this.markDown('the interface was recreated');
      else if (!iface.up) this.markDown('the interface is down');
      return;
    }
    if (this.state === 'interface-down' && iface.exists && iface.up && this.now() >= this.nextRetryAt) {
      this.recover(iface);
    }
  }

  private markDown(reason: string): void {
    this.state = 'interface-down';
    this.downEvents++;
    this.downSince = this.now();
    this.attempt = 0;
    this.nextRetryAt = 0;
    this.emit({ kind: 'down', interface: this.interfaceName, reason });
  }

  /**
   * The interface is back. Open a fresh handle before closing the old one: after a flap the
   * old handle's wakeups are lost (libuv stops watching a socket that reported an error),
   * and when the process has given up its privileges a new open fails, so the old handle,
   * still bound to the same interface, stays in use through the drain timer. Packets that
   * arrive during the switch may be read twice; the reassembler treats them as retransmissions.
   */
  private recover(iface: InterfaceState): void {
    const old = this.handle;
    const oldUsable = old !== null && !this.handleFailed && iface.ifindex === this.ifindex;
    this.handle = null;
    try {
      if (old) this.sampleHandle(old);
      this.openHandle(true);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (oldUsable) {
        this.handle = old;
        this.resume();
        this.emit({ kind: 'kept-old-handle', interface: this.interfaceName, error });
        return;
      }
      // Gone, recreated or failed: the old handle will never deliver again.
      if (old) closeQuietly(old);
      this.handleFailed = false;
      this.attempt++;
      const wait = Math.min(this.timings.retryMaxMs, this.timings.retryMinMs * 2 ** Math.min(this.attempt - 1, 16));
      this.nextRetryAt = this.now() + wait;
      this.emit({ kind: 'retry-failed', interface: this.interfaceName, error, attempt: this.attempt, nextRetryMs: wait });
      if (err instanceof CaptureOpenError && err.permanent) this.nextRetryAt = this.now() + this.timings.retryMaxMs;
      return;
    }
    if (old) {
      try {
        old.drain();
      } catch {
        // the old handle may be dead; the new one carries on
      }
      closeQuietly(old);
    }
    this.reopens++;
    this.ifindex = iface.ifindex;
    this.resume();
  }

  private resume(): void {
    this.state = 'running';
    this.emit({ kind: 'resumed', interface: this.interfaceName, downMs: this.now() - this.downSince });
  }

  private emit(event: LiveEvent): void {
    this.opts.onEvent?.(event);
  }
}

function closeQuietly(handle: LiveHandle): void {
  try {
    handle.close();
  } catch {
    // closing a failed handle may throw; it is released either way
  }
}
