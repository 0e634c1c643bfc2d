import { describe, expect, it } from 'vitest';
import { formatEndpoint, formatIp, parseIp } from '../src/decode/address.js';

function words(...values: number[]): Uint32Array {
  return Uint32Array.from([...values, 0, 0, 0, 0].slice(0, 4));
}

describe('formatIp', () => {
  it('writes IPv4 from word 0 as dotted quad', () => {
    expect(formatIp(4, words(0xc0000201))).toBe('192.0.2.1');
    expect(formatIp(4, words(0xcb0071ff))).toBe('203.0.113.255');
    expect(formatIp(4, words(0))).toBe('0.0.0.0');
    expect(formatIp(4, words(0xffffffff))).toBe('255.255.255.255');
  });

  it('writes IPv6 in RFC 5952 form', () => {
    expect(formatIp(6, words(0x20010db8, 0, 0, 1))).toBe('2001:db8::1');
    expect(formatIp(6, words(0, 0, 0, 0))).toBe('::');
    expect(formatIp(6, words(0, 0, 0, 1))).toBe('::1');
    expect(formatIp(6, words(0x20010db8, 0, 0, 0))).toBe('2001:db8::');
    // No leading zeros, lower case.
    expect(formatIp(6, words(0x20010db8, 0x00ab00cd, 0x0def0000, 0xffff0001))).toBe('2001:db8:ab:cd:def:0:ffff:1');
  });

  it('shortens the longest zero run, the first one on a tie, and never a single group', () => {
    expect(formatIp(6, words(0x20010db8, 0, 0x00010000, 0x00000001))).toBe('2001:db8::1:0:0:1');
    expect(formatIp(6, words(0x20010000, 0, 0x00010000, 0x00000001))).toBe('2001::1:0:0:1');
    expect(formatIp(6, words(0x20010db8, 0x00000001, 0x00010001, 0x00010001))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(6, words(0x20010db8, 0, 0x00010000, 0))).toBe('2001:db8:0:0:1::');
  });

  it('writes IPv4-mapped addresses in mixed notation', () => {
    expect(formatIp(6, words(0, 0, 0xffff, 0xc0000201))).toBe('::ffff:192.0.2.1');
  });

  it('agrees with the URL standard on every zero-run layout', () => {
    // Each of the 256 patterns of zero and non-zero groups (URL writes IPv4-mapped in hex,
    // so the one pattern that can be ::ffff:a.b.c.d is given other values there).
    for (let pattern = 0; pattern < 256; pattern++) {
      const groups = Array.from({ length: 8 }, (_, i) => (pattern & (1 << i) ? 0x1000 * (i + 1) + i : 0));
      const w = Uint32Array.from([0, 1, 2, 3], (i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0);
      const full = groups.map((g) => g.toString(16)).join(':');
      expect(formatIp(6, w), full).toBe(new URL(`http://[${full}]/`).hostname.slice(1, -1));
    }
  });
});

describe('formatEndpoint', () => {
  it('brackets IPv6 only', () => {
    expect(formatEndpoint('192.0.2.1', 3333)).toBe('192.0.2.1:3333');
    expect(formatEndpoint('2001:db8::1', 3333)).toBe('[2001:db8::1]:3333');
    expect(formatEndpoint('::ffff:192.0.2.1', 0)).toBe('[::ffff:192.0.2.1]:0');
  });
});

describe('parseIp', () => {
  it('parses IPv4 into word 0', () => {
    const parsed = parseIp('198.51.100.7');
    expect(parsed?.version).toBe(4);
    expect(Array.from(parsed!.words)).toEqual([0xc6336407, 0, 0, 0]);
  });

  it('parses IPv6 forms into four words', () => {
    expect(Array.from(parseIp('2001:db8::1')!.words)).toEqual([0x20010db8, 0, 0, 1]);
    expect(Array.from(parseIp('::')!.words)).toEqual([0, 0, 0, 0]);
    expect(Array.from(parseIp('2001:DB8:0:0:0:0:0:1')!.words)).toEqual([0x20010db8, 0, 0, 1]);
    expect(Array.from(parseIp('::ffff:192.0.2.1')!.words)).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect(Array.from(parseIp('2001:db8::')!.words)).toEqual([0x20010db8, 0, 0, 0]);
    expect(Array.from(parseIp('1:2:3:4:5:6:7::')!.words)).toEqual([0x00010002, 0x00030004, 0x00050006, 0x00070000]);
    expect(parseIp('2001:db8::1')!.version).toBe(6);
  });

  it('round-trips with formatIp', () => {
    for (const text of ['192.0.2.1', '0.0.0.0', '2001:db8::1', '::', '2001:db8:1:2:3:4:5:6', '::ffff:203.0.113.9', 'fe80::1:0:0:2']) {
      const parsed = parseIp(text)!;
      expect(formatIp(parsed.version, parsed.words)).toBe(text);
    }
  });

  it.each([
    '',
    ' 192.0.2.1',
    '192.0.2.1 ',
    '192.0.2',
    '192.0.2.1.5',
    '192.0.2.256',
    '192.0.02.1',
    '192.0.2.-1',
    '192.0.2.0x1',
    '1e2.0.2.1',
    '2001:db8::1::2',
    '2001:db8:::1',
    '2001:db8:0:0:0:0:0:0:1',
    '1:2:3:4:5:6:7:8::',
    '2001:db8:0:0:0:0:1',
    '2001:db8::12345',
    '2001:db8::g',
    ':2001:db8::1',
    '2001:db8::1:',
    '[2001:db8::1]',
    'fe80::1%eth0',
    '2001:db8::/32',
    '::ffff:192.0.2',
    '::192.0.2.1:1',
    '1:2:3:4:5:6:7:192.0.2.1',
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });
});
