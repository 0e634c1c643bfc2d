import { describe, expect, it } from 'vitest';
import { TimestampScale } from '../src/capture/timestamps.js';
import { prng } from './support/capture-bytes.js';

const TWO_POW_64 = 1n << 64n;

function ticksPerSecond(tsresol: number): bigint {
  const exponent = BigInt(tsresol & 0x7f);
  return (tsresol & 0x80) === 0 ? 10n ** exponent : 1n << exponent;
}

/** Exact reference: floor(ticks * 10^6 / ticksPerSecond) + offset. */
function referenceMicros(tsresol: number, ticks: bigint, offsetSeconds: number): number {
  return Number((ticks * 1_000_000n) / ticksPerSecond(tsresol)) + offsetSeconds * 1e6;
}

function split(ticks: bigint): [hi: number, lo: number] {
  return [Number(ticks >> 32n), Number(ticks & 0xffffffffn)];
}

const RESOLUTIONS = [
  ...Array.from({ length: 16 }, (_, n) => n), // 10^-0 .. 10^-15
  ...Array.from({ length: 41 }, (_, n) => 0x80 | n), // 2^-0 .. 2^-40
];

describe('pcapng timestamp scaling', () => {
  it('matches exact BigInt arithmetic for every resolution across dates up to 2106', () => {
    const random = prng(99);
    for (const tsresol of RESOLUTIONS) {
      const perSecond = ticksPerSecond(tsresol);
      // Fine resolutions overflow 64 bits before 2106; stay within what a timestamp can hold.
      const maxSeconds = Number((TWO_POW_64 - 1n) / perSecond < 0xffffffffn ? (TWO_POW_64 - 1n) / perSecond - 1n : 0xffffffffn);
      for (let i = 0; i < 400; i++) {
        const seconds = BigInt(i === 0 ? 0 : i === 1 ? maxSeconds : Math.floor(random() * maxSeconds));
        const subTicks = i === 2 ? perSecond - 1n : BigInt(Math.floor(random() * 2 ** 53)) % perSecond;
        const ticks = seconds * perSecond + subTicks;
        expect(ticks < TWO_POW_64).toBe(true);
        const offsetSeconds = i % 3 === 0 ? -3600 : i % 3 === 1 ? 0 : 86_400;
        const scale = new TimestampScale(tsresol, offsetSeconds * 1e6);
        const [hi, lo] = split(ticks);
        expect(scale.toMicros(hi, lo), `tsresol 0x${tsresol.toString(16)} ticks ${ticks}`).toBe(
          referenceMicros(tsresol, ticks, offsetSeconds),
        );
      }
    }
  });

  it('converts typical values', () => {
    expect(new TimestampScale(6, 0).toMicros(...split(1_700_000_000_123_456n))).toBe(1_700_000_000_123_456);
    expect(new TimestampScale(9, 0).toMicros(...split(1_700_000_000_123_456_789n))).toBe(1_700_000_000_123_456);
    expect(new TimestampScale(3, 0).toMicros(...split(1_700_000_000_123n))).toBe(1_700_000_000_123_000);
    // 2^-10 s ticks: 1023/1024 s = 999023.4375 us.
    expect(new TimestampScale(0x8a, 0).toMicros(...split(1_700_000_000n * 1024n + 1023n))).toBe(1_700_000_000_999_023);
    expect(new TimestampScale(0x8a, 10e6).toMicros(...split(1_700_000_000n * 1024n + 512n))).toBe(1_700_000_010_500_000);
  });
});
