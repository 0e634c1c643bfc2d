/**
 * Exact (Garwood) confidence bounds for the mean of a Poisson count: with N shares seen,
 * the expected count lies in [χ²(α/2; 2N)/2, χ²(1−α/2; 2N+2)/2]. Those χ² quantiles are
 * Gamma quantiles with integer shape, i.e. the x at which a Poisson(x) CDF takes a given
 * value, found here by bisection on the CDF; counts above 100 use the Wilson–Hilferty
 * approximation, which is within 0.1 % there.
 */

export interface CountInterval {
  low: number;
  high: number;
}

/** Two-sided 90 %: the 5 % and 95 % points of the standard normal. */
const Z95 = 1.6448536269514722;
/** Above this count Wilson–Hilferty is within 0.1 % and the exact sum costs more than it gains. */
const EXACT_LIMIT = 100;

/** 90 % interval for the Poisson mean behind an observed count n (n ≥ 0, integer). */
export function poissonInterval90(n: number): CountInterval {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`count must be a non-negative integer, got ${n}`);
  const low = n === 0 ? 0 : gammaQuantile(n, 0.05);
  const high = gammaQuantile(n + 1, 0.95);
  return { low, high };
}

/**
 * The x with P(Gamma(shape, 1) ≤ x) = p for integer shape ≥ 1. P(Gamma(k) ≤ x) equals
 * P(Poisson(x) ≥ k), so the search runs on the Poisson CDF.
 */
function gammaQuantile(shape: number, p: number): number {
  if (shape > EXACT_LIMIT) return wilsonHilferty(shape, p);
  // P(Gamma(k) ≤ x) rises with x; bracket, then bisect.
  let lo = 0;
  let hi = Math.max(1, shape + 10 * Math.sqrt(shape) + 10);
  while (gammaCdf(shape, hi) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-10 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (gammaCdf(shape, mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(Gamma(k, 1) ≤ x) = 1 − Σ_{j<k} e^{−x} x^j / j!, the terms summed in log space. */
function gammaCdf(k: number, x: number): number {
  if (x <= 0) return 0;
  const logX = Math.log(x);
  let logTerm = -x; // j = 0
  let sum = 0;
  for (let j = 0; j < k; j++) {
    sum += Math.exp(logTerm);
    logTerm += logX - Math.log(j + 1);
  }
  return Math.max(0, Math.min(1, 1 - sum));
}

/** χ²(p; 2k)/2 by Wilson–Hilferty: ν(1 − 2/(9ν) + z·√(2/(9ν)))³ with ν = 2k. */
function wilsonHilferty(shape: number, p: number): number {
  if (p !== 0.95 && p !== 0.05) throw new RangeError('only the 90 % two-sided points are tabulated');
  const nu = 2 * shape;
  const z = p > 0.5 ? Z95 : -Z95;
  const c = 2 / (9 * nu);
  return (nu * (1 - c + z * Math.sqrt(c)) ** 3) / 2;
}
