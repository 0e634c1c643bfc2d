/**
 * Hashrate from shares: a miner finds shares as a Poisson process with rate H/h (h the
 * expected hashes per share), so over a window of T seconds with N shares worth Σh
 * hashes, H ≈ Σh / T. The 90 % interval is the exact Poisson interval on N, scaled by
 * the mean hashes per share and divided by T.
 */
import { poissonInterval90 } from './poisson.js';

export interface RateEstimate {
  value: number;
  /** 90 % interval. */
  low: number;
  high: number;
}

export interface ShareWork {
  /** Shares in the window. */
  shares: number;
  /** Expected hashes behind those shares, summed. */
  hashes: number;
  /** Observation window in seconds. */
  seconds: number;
  /** Hashes per share in force, for an upper bound when no share was seen. */
  hashesPerShare?: number | null;
}

/** Windows shorter than this give no estimate: the count says nothing yet. */
export const MIN_WINDOW_SECONDS = 1;

export function estimateRate(work: ShareWork): RateEstimate | null {
  const { shares, hashes, seconds } = work;
  if (!(seconds >= MIN_WINDOW_SECONDS)) return null;
  const mean = shares > 0 ? hashes / shares : work.hashesPerShare ?? null;
  if (mean === null || !(mean > 0) || !Number.isFinite(mean)) return null;
  const count = poissonInterval90(shares);
  return {
    value: shares > 0 ? hashes / seconds : 0,
    low: (count.low * mean) / seconds,
    high: (count.high * mean) / seconds,
  };
}
