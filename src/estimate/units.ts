/** Human-readable rates and powers with SI prefixes: 1.407e14 H/s → "141 TH/s". */

const PREFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** A value with three significant digits and an SI prefix on `unit` ("H/s", "W"). */
export function withPrefix(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '-';
  if (value === 0) return `0 ${unit}`;
  let i = 0;
  let v = Math.abs(value);
  while (v >= 1000 && i < PREFIXES.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${value < 0 ? '-' : ''}${v.toFixed(digits)} ${PREFIXES[i]}${unit}`;
}

/** "141 TH/s [134 TH/s – 149 TH/s]": the value and its 90 % interval. */
export function rateWithInterval(value: number, low: number, high: number, unit: string): string {
  return `${withPrefix(value, unit)} [${withPrefix(low, unit)} – ${withPrefix(high, unit)}]`;
}
