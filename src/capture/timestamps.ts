/**
 * pcapng timestamps are 64-bit counts of 10^-n or 2^-n seconds, split into two 32-bit words.
 * A nanosecond count for today's dates is ~1.7e18, past Number's exact range (2^53), so the
 * conversion to integer microseconds is arranged so every intermediate stays exact. Each
 * interface picks its method once; only exotic resolutions fall back to BigInt per packet.
 */
const TWO_POW_32 = 4294967296;

/** 10^-n with n >= 6: microseconds = floor(ticks / d). */
const DECIMAL_DIVIDE = 0;
/** 10^-n with n < 6: microseconds = ticks * m. */
const DECIMAL_MULTIPLY = 1;
/** 2^-n with n <= 32: whole seconds and a fraction handled separately. */
const BINARY = 2;
/** Anything finer than the above. */
const BIG = 3;

/** Largest decimal exponent whose divide path keeps hi * r + lo below 2^53. */
const MAX_EXACT_DECIMAL = 12;

export class TimestampScale {
  private readonly method: number;
  /** DECIMAL_DIVIDE: divisor, and 2^32 = q * d + r. */
  private readonly d: number = 1;
  private readonly q: number = 0;
  private readonly r: number = 0;
  /** DECIMAL_MULTIPLY: factor. */
  private readonly m: number = 1;
  /** BINARY: 2^n and 2^(32 - n). */
  private readonly unitsPerSecond: number = 1;
  private readonly hiSeconds: number = 0;
  /** BIG: ticks per second. */
  private readonly bigTicksPerSecond: bigint = 1n;

  /**
   * @param tsresol raw if_tsresol byte (high bit set: 2^-n, else 10^-n); 6 is the default.
   * @param offsetMicros if_tsoffset converted to microseconds.
   */
  constructor(
    readonly tsresol: number,
    private readonly offsetMicros: number,
  ) {
    const exponent = tsresol & 0x7f;
    if ((tsresol & 0x80) === 0) {
      if (exponent >= 6 && exponent <= MAX_EXACT_DECIMAL) {
        this.method = DECIMAL_DIVIDE;
        this.d = 10 ** (exponent - 6);
        this.q = Math.floor(TWO_POW_32 / this.d);
        this.r = TWO_POW_32 - this.q * this.d;
      } else if (exponent < 6) {
        this.method = DECIMAL_MULTIPLY;
        this.m = 10 ** (6 - exponent);
      } else {
        this.method = BIG;
        this.bigTicksPerSecond = 10n ** BigInt(exponent);
      }
    } else if (exponent <= 32) {
      this.method = BINARY;
      this.unitsPerSecond = 2 ** exponent;
      this.hiSeconds = 2 ** (32 - exponent);
    } else {
      this.method = BIG;
      this.bigTicksPerSecond = 1n << BigInt(exponent);
    }
  }

  /** Integer microseconds since the epoch for the 64-bit tick count hi:lo. */
  toMicros(hi: number, lo: number): number {
    switch (this.method) {
      case DECIMAL_DIVIDE:
        // hi * 2^32 + lo = d * (hi * q) + (hi * r + lo), and hi * r + lo < 2^53.
        return hi * this.q + Math.floor((hi * this.r + lo) / this.d) + this.offsetMicros;
      case DECIMAL_MULTIPLY:
        return (hi * TWO_POW_32 + lo) * this.m + this.offsetMicros;
      case BINARY: {
        const loSeconds = Math.floor(lo / this.unitsPerSecond);
        const fraction = lo - loSeconds * this.unitsPerSecond;
        const seconds = hi * this.hiSeconds + loSeconds;
        // fraction * 1e6 < 2^52 and dividing by a power of two is exact, so floor is exact.
        return seconds * 1e6 + Math.floor((fraction * 1e6) / this.unitsPerSecond) + this.offsetMicros;
      }
      default: {
        const ticks = (BigInt(hi) << 32n) | BigInt(lo);
        return Number((ticks * 1_000_000n) / this.bigTicksPerSecond) + this.offsetMicros;
      }
    }
  }
}
