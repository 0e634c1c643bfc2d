/**
 * When the flow table runs its idle sweep: once capture time has moved a second past the
 * last sweep, or gone back by more than that (after one corrupt far-future timestamp the
 * clock must be able to return, or idle flows would never be swept again). The parallel
 * replay's reader runs the same clock over all packets, so each shard sweeps exactly where
 * one table over all flows would.
 */
export const SWEEP_INTERVAL_MICROS = 1_000_000;

export class SweepClock {
  lastSweepMicros = -Infinity;

  /** True when a sweep is due at `tsMicros`; the caller then sweeps at that time. */
  due(tsMicros: number): boolean {
    const delta = tsMicros - this.lastSweepMicros;
    return delta >= SWEEP_INTERVAL_MICROS || delta <= -SWEEP_INTERVAL_MICROS;
  }

  /** due(), and when it is, records a sweep at `tsMicros`. */
  take(tsMicros: number): boolean {
    if (!this.due(tsMicros)) return false;
    this.lastSweepMicros = tsMicros;
    return true;
  }
}
