/**
 * Power and daily energy from a hashrate interval and an efficiency range. The point
 * figure uses the middle of the efficiency range; the range pairs the low hashrate bound
 * with the most efficient hardware and the high bound with the least efficient, so it
 * covers both the counting and the hardware uncertainty.
 */
import type { EfficiencyRange } from './efficiency.js';
import type { RateEstimate } from './hashrate.js';

export interface PowerEstimate {
  watts: number;
  wattsLow: number;
  wattsHigh: number;
}

const HOURS_PER_DAY = 24;

export function powerFrom(rate: RateEstimate, eff: EfficiencyRange): PowerEstimate {
  const mid = (eff.joulesLow + eff.joulesHigh) / 2;
  return {
    watts: rate.value * mid,
    wattsLow: rate.low * eff.joulesLow,
    wattsHigh: rate.high * eff.joulesHigh,
  };
}

/** kWh per day at a constant draw of `watts`. */
export function kwhPerDay(watts: number): number {
  return (watts * HOURS_PER_DAY) / 1000;
}

export function addPower(a: PowerEstimate, b: PowerEstimate): PowerEstimate {
  return { watts: a.watts + b.watts, wattsLow: a.wattsLow + b.wattsLow, wattsHigh: a.wattsHigh + b.wattsHigh };
}
