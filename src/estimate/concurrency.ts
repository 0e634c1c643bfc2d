/**
 * Peak concurrency: the moment when the most weight is active at once (weight 1 counts
 * sessions; weight = hashrate finds the peak rate). Intervals are [start, end]; one that
 * ends exactly when another starts does not overlap it.
 */

export interface Interval {
  startMicros: number;
  endMicros: number;
}

/** The items active at the peak of Σ weight (empty when there are none). */
export function peakSet<T>(items: readonly T[], intervalOf: (item: T) => Interval, weight: (item: T) => number): T[] {
  if (items.length === 0) return [];
  const spans = items.map((it) => {
    const { startMicros, endMicros } = intervalOf(it);
    return { start: startMicros, end: Math.max(endMicros, startMicros + 1) };
  });
  const events: { t: number; delta: 1 | -1; w: number }[] = [];
  items.forEach((it, i) => {
    const w = weight(it);
    events.push({ t: spans[i]!.start, delta: 1, w }, { t: spans[i]!.end, delta: -1, w });
  });
  // Ends before starts at the same instant: back-to-back sessions are not concurrent.
  events.sort((a, b) => a.t - b.t || a.delta - b.delta);
  let sum = 0;
  let best = -Infinity;
  let bestAt = events[0]!.t;
  for (const e of events) {
    sum += e.delta * e.w;
    if (e.delta === 1 && sum > best) {
      best = sum;
      bestAt = e.t;
    }
  }
  return items.filter((_, i) => spans[i]!.start <= bestAt && spans[i]!.end > bestAt);
}

/** Most intervals open at once. */
export function peakCount(items: readonly Interval[]): number {
  return peakSet(items, (it) => it, () => 1).length;
}
