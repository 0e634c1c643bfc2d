/**
 * LiveCapture around a scripted backend and a fake /sys/class/net: the interface going
 * down, coming back, being recreated; reopen failures; counter totals across reopens and
 * 32-bit wraparound. No privileges needed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DropCounters, MonotonicTotal } from '../src/capture/drop-counters.js';
import { interfaceState } from '../src/capture/interface-state.js';
import { LiveCapture, type LiveEvent } from '../src/capture/live.js';
import { CaptureOpenError, type CaptureBackend, type HandleCounters, type LiveHandle } from '../src/capture/live-backend.js';
import type { CapturedPacket } from '../src/capture/types.js';
import { scratchDir } from './support/scratch.js';

class FakeSysfs {
  readonly root = scratchDir('minewatch-sysfs-');
  set(name: string, s: { ifindex: number; up: boolean; rxDropped?: number } | null): void {
    const dir = join(this.root, name);
    if (s === null) {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    mkdirSync(join(dir, 'statistics'), { recursive: true });
    writeFileSync(join(dir, 'ifindex'), `${s.ifindex}\n`);
    writeFileSync(join(dir, 'flags'), s.up ? '0x1003\n' : '0x1002\n');
    writeFileSync(join(dir, 'operstate'), s.up ? 'up\n' : 'down\n');
    writeFileSync(join(dir, 'statistics', 'rx_dropped'), `${s.rxDropped ?? 0}\n`);
    writeFileSync(join(dir, 'statistics', 'rx_missed_errors'), '0\n');
  }
}

class FakeHandle implements LiveHandle {
  readonly linkType = 1;
  closed = false;
  failing = false;
  queued = 0;
  counts: HandleCounters = { received: 0, dropped: 0, ifDropped: 0 };
  constructor(private readonly onPacket: (p: CapturedPacket) => void) {}
  drain(): boolean {
    const buf = Buffer.alloc(60);
    for (; this.queued > 0; this.queued--) {
      this.onPacket({ linkType: 1, tsMicros: 0, buf, offset: 0, length: 60, wireLength: 60, interfaceId: 0 });
    }
    return !this.failing;
  }
  counters(): HandleCounters {
    return this.counts;
  }
  close(): void {
    this.closed = true;
  }
}

function fixture() {
  const sysfs = new FakeSysfs();
  sysfs.set('mir0', { ifindex: 7, up: true });
  const handles: FakeHandle[] = [];
  let refuse: string | null = null;
  const backend: CaptureBackend = {
    name: 'fake',
    open(_opts, onPacket) {
      if (refuse) throw new CaptureOpenError(refuse);
      const h = new FakeHandle(onPacket);
      handles.push(h);
      return h;
    },
  };
  const events: LiveEvent[] = [];
  let packets = 0;
  let now = 0;
  const capture = new LiveCapture({
    open: { interface: 'mir0', bpf: '', snaplen: 65535, bufferBytes: 1 << 20, promiscuous: true, bufferTimeoutMs: 10 },
    backend,
    onPacket: () => packets++,
    onEvent: (e) => events.push(e),
    sysfs: sysfs.root,
    // Timers are driven by hand below; the intervals are long enough never to fire.
    timings: { drainIntervalMs: 3_600_000, watchIntervalMs: 3_600_000, retryMinMs: 1000, retryMaxMs: 8000 },
    now: () => now,
  });
  const tick = (c: LiveCapture) => (c as unknown as { watchTick(): void }).watchTick();
  const drainTick = (c: LiveCapture) => (c as unknown as { drainTick(): void }).drainTick();
  return {
    sysfs, handles, events, capture,
    packets: () => packets,
    refuse: (why: string | null) => (refuse = why),
    advance: (ms: number) => (now += ms),
    watch: () => tick(capture),
    drainTick: () => drainTick(capture),
  };
}

describe('LiveCapture', () => {
  it('logs an interface going down and reopens the capture when it comes back', () => {
    const f = fixture();
    f.capture.start();
    f.handles[0]!.queued = 3;
    f.capture.drain();
    expect(f.packets()).toBe(3);
    f.sysfs.set('mir0', { ifindex: 7, up: false });
    f.watch();
    expect(f.capture.stats().state).toBe('interface-down');
    f.sysfs.set('mir0', { ifindex: 7, up: true });
    f.handles[0]!.queued = 2; // still queued on the old handle: read before it closes
    f.advance(1500);
    f.watch();
    expect(f.events.map((e) => e.kind)).toEqual(['opened', 'down', 'opened', 'resumed']);
    expect(f.handles).toHaveLength(2);
    expect(f.handles[0]!.closed).toBe(true);
    expect(f.packets()).toBe(5);
    expect(f.capture.stats()).toMatchObject({ state: 'running', reopens: 1, downEvents: 1 });
    f.capture.stop();
    expect(f.handles[1]!.closed).toBe(true);
  });

  it('retries with backoff while the interface is gone, and reopens when it is recreated', () => {
    const f = fixture();
    f.capture.start();
    f.sysfs.set('mir0', null);
    f.watch();
    expect(f.events.at(-1)).toMatchObject({ kind: 'down', reason: 'the interface is gone' });
    f.sysfs.set('mir0', { ifindex: 9, up: true });
    f.refuse('cannot capture on mir0: No such device exists');
    f.watch();
    f.advance(1000);
    f.watch();
    expect(f.events.filter((e) => e.kind === 'retry-failed').map((e) => (e as { nextRetryMs: number }).nextRetryMs)).toEqual([1000, 2000]);
    expect(f.handles[0]!.closed).toBe(true); // bound to the deleted interface: useless
    f.watch(); // too early for the next attempt
    expect(f.events.filter((e) => e.kind === 'retry-failed')).toHaveLength(2);
    f.refuse(null);
    f.advance(2000);
    f.watch();
    expect(f.events.at(-1)).toMatchObject({ kind: 'resumed' });
    expect(f.capture.stats().state).toBe('running');
    f.capture.stop();
  });

  it('keeps the old handle when a reopen is refused after a flap (privileges dropped)', () => {
    const f = fixture();
    f.capture.start();
    f.sysfs.set('mir0', { ifindex: 7, up: false });
    f.watch();
    f.sysfs.set('mir0', { ifindex: 7, up: true });
    f.refuse('socket: Operation not permitted');
    f.watch();
    expect(f.events.map((e) => e.kind)).toEqual(['opened', 'down', 'resumed', 'kept-old-handle']);
    expect(f.handles[0]!.closed).toBe(false);
    f.handles[0]!.queued = 4;
    f.drainTick();
    expect(f.packets()).toBe(4);
    f.capture.stop();
  });

  it('a handle error on a working interface reopens the capture', () => {
    const f = fixture();
    f.capture.start();
    f.handles[0]!.failing = true;
    f.drainTick();
    expect(f.events.at(-1)).toMatchObject({ kind: 'down', reason: 'the capture handle reported an error' });
    f.watch();
    expect(f.handles).toHaveLength(2);
    expect(f.capture.stats().state).toBe('running');
    f.capture.stop();
  });

  it('sums counters across reopens and 32-bit wraparound', () => {
    const f = fixture();
    f.capture.start();
    f.handles[0]!.counts = { received: 100, dropped: 2, ifDropped: 0 };
    f.sysfs.set('mir0', { ifindex: 7, up: false, rxDropped: 5 });
    f.watch();
    f.sysfs.set('mir0', { ifindex: 7, up: true, rxDropped: 5 });
    f.watch();
    f.handles[1]!.counts = { received: 50, dropped: 1, ifDropped: 0 };
    expect(f.capture.stats()).toMatchObject({ received: 150, dropped: 3, interfaceDropped: 5 });
    f.capture.stop();

    const c = new DropCounters();
    c.sample({ received: 0xffff_fff0, dropped: 0, ifDropped: 0 });
    c.sample({ received: 0x10, dropped: 0, ifDropped: 0 });
    expect(c.totals.received).toBe(0x1_0000_0010);
    const m = new MonotonicTotal();
    for (const v of [10, 15, 3, 4]) m.sample(v); // reset to 3 when the interface was recreated
    expect(m.total).toBe(5 + 3 + 1);
  });

  it('reads interface state from sysfs and rejects names that are no interface', () => {
    const f = fixture();
    f.sysfs.set('mir0', { ifindex: 7, up: true, rxDropped: 12 });
    expect(interfaceState('mir0', f.sysfs.root)).toEqual({ exists: true, ifindex: 7, up: true, rxDropped: 12 });
    expect(interfaceState('nope0', f.sysfs.root).exists).toBe(false);
    expect(interfaceState('../mir0', f.sysfs.root).exists).toBe(false);
  });
});
