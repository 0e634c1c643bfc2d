import { describe, expect, it } from 'vitest';
import { formatIp } from '../src/decode/address.js';
import { compareIp, endpoint, parseIp } from '../src/store/ip-address.js';
import { microsToIso, parseIsoMicros } from '../src/store/iso-time.js';

describe('microsToIso', () => {
  it('keeps all six fractional digits', () => {
    expect(microsToIso(1_700_000_000_123_456)).toBe('2023-11-14T22:13:20.123456Z');
    expect(microsToIso(1_700_000_000_000_007)).toBe('2023-11-14T22:13:20.000007Z');
    expect(microsToIso(0)).toBe('1970-01-01T00:00:00.000000Z');
  });

  it('agrees with Date on the calendar, leap days and times before 1970 included', () => {
    const days = [-800_000, -1, 0, 59, 60, 365 * 30 + 7, 11_016, 11_017, 18_321, 19_782, 47_482, 100_000];
    for (const day of days) {
      for (const ms of [0, 1, 86_399_999, 43_200_123]) {
        const millis = day * 86_400_000 + ms;
        const micros = millis * 1000 + 456;
        expect(microsToIso(micros)).toBe(`${new Date(millis).toISOString().slice(0, -1)}456Z`);
      }
    }
  });
});

describe('parseIsoMicros', () => {
  it('reads dates, date-times, fractions and zones', () => {
    const midnight = Date.UTC(2024, 0, 15) * 1000;
    expect(parseIsoMicros('2024-01-15')).toBe(midnight);
    expect(parseIsoMicros('2024-01-15T00:00:00Z')).toBe(midnight);
    expect(parseIsoMicros('2024-01-15T00:00')).toBe(midnight); // no zone: UTC
    expect(parseIsoMicros('2024-01-15 00:00:00.000001z')).toBe(midnight + 1);
    expect(parseIsoMicros('2024-01-15T02:00:00+02:00')).toBe(midnight);
    expect(parseIsoMicros('2024-01-14T19:30:00-0430')).toBe(midnight);
    expect(parseIsoMicros('2024-01-15T00:00:00.1234567Z')).toBe(midnight + 123_456);
    expect(parseIsoMicros(microsToIso(1_700_000_000_123_456))).toBe(1_700_000_000_123_456);
    expect(parseIsoMicros('2024-02-29')).toBe(Date.UTC(2024, 1, 29) * 1000);
  });

  it('rejects impossible or non-ISO text', () => {
    for (const bad of ['', 'yesterday', '2024-02-30', '2023-02-29', '2024-13-01', '2024-01-15T24:00:00Z',
      '2024-01-15T10:61Z', '15/01/2024', '2024-1-5', '2024-01-15T10:00:00+25:00', '1705312800']) {
      expect(parseIsoMicros(bad), bad).toBeNull();
    }
  });
});

describe('parseIp', () => {
  it('accepts strict IPv4 and canonicalises IPv6 (RFC 5952)', () => {
    expect(parseIp('192.0.2.1')?.text).toBe('192.0.2.1');
    expect(parseIp('0.0.0.0')?.version).toBe(4);
    expect(parseIp('2001:DB8:0:0:0:0:0:1')?.text).toBe('2001:db8::1');
    expect(parseIp('2001:db8:0:0:1:0:0:1')?.text).toBe('2001:db8::1:0:0:1'); // first of equal runs
    expect(parseIp('2001:db8:0:1:1:1:1:1')?.text).toBe('2001:db8:0:1:1:1:1:1'); // lone zero kept
    expect(parseIp('::')?.text).toBe('::');
    expect(parseIp('::ffff:192.0.2.1')?.text).toBe('::ffff:192.0.2.1');
    expect(parseIp('::FFFF:C000:0201')?.text).toBe('::ffff:192.0.2.1');
    expect(parseIp('::1:c000:201')?.text).toBe('::1:c000:201');
    expect(parseIp('2001:0db8::0001')?.text).toBe('2001:db8::1');
  });

  it('gives the same text the flow stage stores', () => {
    const words: [4 | 6, number[]][] = [
      [4, [0xc0000201]],
      [6, [0x20010db8, 0, 0, 1]],
      [6, [0x20010db8, 0x00000001, 0, 0x00010000]],
      [6, [0, 0, 0xffff, 0xc6336407]],
      [6, [0, 0, 0, 0]],
      [6, [0x20010db8, 0x12345678, 0x9abcdef0, 0x0fedcba9]],
    ];
    for (const [version, w] of words) {
      const stored = formatIp(version, Uint32Array.from(w));
      expect(parseIp(stored)?.text, stored).toBe(stored);
      expect(parseIp(stored.toUpperCase())?.text, stored).toBe(stored);
    }
  });

  it('rejects anything loose', () => {
    for (const bad of ['192.0.2', '192.0.2.256', '192.0.2.01', ' 192.0.2.1', '192.0.2.1/24', 'fe80::1%eth0',
      '2001:db8:::1', '2001:db8::1::2', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::1', 'example.org', '',
      '::192.0.2.1:1', '1:2:3:4:5:6:7::8']) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });
});

describe('compareIp / endpoint', () => {
  it('sorts IPv4 numerically before IPv6', () => {
    const ips = ['2001:db8::10', '198.51.100.1', '192.0.2.100', '2001:db8::9', '192.0.2.9'];
    expect([...ips].sort(compareIp)).toEqual(['192.0.2.9', '192.0.2.100', '198.51.100.1', '2001:db8::9', '2001:db8::10']);
  });

  it('brackets IPv6 endpoints', () => {
    expect(endpoint('192.0.2.1', 3333)).toBe('192.0.2.1:3333');
    expect(endpoint('2001:db8::1', 3333)).toBe('[2001:db8::1]:3333');
  });
});
