/**
 * The operator's asset map: exact IPs, nested CIDRs (longest prefix wins), IPv6 and
 * IPv4-mapped addresses, CSV quoting and header names, clear errors; and a randomised
 * cross-check of the prefix table against a brute-force longest-prefix search. (Loading a
 * million prefixes is timed by scripts/bench-assets.ts, not here.)
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../src/decode/address.js';
import { AssetMap, AssetMapError, splitCsvLine } from '../src/store/asset-map.js';
import { ownerLabel, ownerLookup } from '../src/store/owners.js';
import { maskWords, PrefixTable } from '../src/store/prefix-table.js';
import { seededRandom } from '../src/synth/rng.js';
import { scratchDir } from './support/scratch.js';

const MAP = `# operator's subscriber map
prefix,owner_id,name,place,tags
198.51.100.0/24,ACME-001,"Acme Hosting, Ltd",Hall 2,datacenter;hosting
198.51.100.128/25,ACME-002,Acme Hosting rack B,Hall 2 row B,datacenter
198.51.100.7,SUB-88412,J. Doe,"Flat 3, 1 Example Road",residential|fttx
192.0.2.0/24,,Documentation net,,
2001:db8::/32,V6-ROOT,IPv6 customer block,,ipv6
2001:db8:1234::/48,V6-CUST,"Customer ""Quote"" Ltd",Unit 9,
0.0.0.0/0,DEFAULT,Everyone else,,
`;

describe('asset map lookups', () => {
  const map = AssetMap.parse(MAP, 'assets.csv');

  it('loads every row', () => {
    expect(map.size).toBe(7);
  });

  it('an exact IP beats the prefixes holding it', () => {
    expect(map.lookup('198.51.100.7')).toEqual({
      ownerId: 'SUB-88412',
      name: 'J. Doe',
      place: 'Flat 3, 1 Example Road',
      tags: ['residential', 'fttx'],
      prefix: '198.51.100.7/32',
    });
  });

  it('nested CIDRs: the longest prefix wins', () => {
    expect(map.lookup('198.51.100.200')).toMatchObject({ ownerId: 'ACME-002', prefix: '198.51.100.128/25' });
    expect(map.lookup('198.51.100.8')).toMatchObject({ ownerId: 'ACME-001', name: 'Acme Hosting, Ltd', tags: ['datacenter', 'hosting'], prefix: '198.51.100.0/24' });
    expect(map.lookup('203.0.113.9')).toMatchObject({ ownerId: 'DEFAULT', prefix: '0.0.0.0/0' });
    expect(map.lookup('192.0.2.77')).toMatchObject({ ownerId: null, name: 'Documentation net', place: null, tags: [] });
  });

  it('IPv6 prefixes, and IPv4-mapped addresses looked up as IPv4', () => {
    expect(map.lookup('2001:db8:1234:5::1')).toMatchObject({ ownerId: 'V6-CUST', name: 'Customer "Quote" Ltd', prefix: '2001:db8:1234::/48' });
    expect(map.lookup('2001:db8:ffff::1')).toMatchObject({ ownerId: 'V6-ROOT', prefix: '2001:db8::/32' });
    expect(map.lookup('2001:db9::1')).toBeNull();
    expect(map.lookup('::ffff:198.51.100.7')).toMatchObject({ ownerId: 'SUB-88412' });
    expect(map.lookup('not an ip')).toBeNull();
  });

  it('without a default row, an unlisted IP has no owner', () => {
    const small = AssetMap.parse('ip,subscriber\n198.51.100.7,SUB-1\n');
    expect(small.lookup('198.51.100.8')).toBeNull();
    expect(small.lookup('198.51.100.7')?.ownerId).toBe('SUB-1');
  });

  it('host bits after the prefix length are ignored; a later row for a prefix replaces the earlier', () => {
    const m = AssetMap.parse('cidr,owner\n198.51.100.77/24,A\n198.51.100.0/24,B\n');
    expect(m.size).toBe(1);
    expect(m.lookup('198.51.100.1')).toMatchObject({ ownerId: 'B', prefix: '198.51.100.0/24' });
  });

  it('accepts header aliases in any order, and CRLF line ends', () => {
    const m = AssetMap.parse('Tags,Location,Entity,Subscriber_ID,Network\r\nx|y,Somewhere,Someone,S-9,203.0.113.0/28\r\n');
    expect(m.lookup('203.0.113.3')).toEqual({ ownerId: 'S-9', name: 'Someone', place: 'Somewhere', tags: ['x', 'y'], prefix: '203.0.113.0/28' });
  });
});

describe('asset map errors', () => {
  it('names the file and line of a bad row', () => {
    expect(() => AssetMap.parse('prefix,owner_id\n198.51.100.0/33,A\n', 'm.csv')).toThrow(/m\.csv:2: bad prefix length/);
    expect(() => AssetMap.parse('prefix,owner_id\n198.51.100.0/2x,A\n', 'm.csv')).toThrow(AssetMapError);
    expect(() => AssetMap.parse('prefix,owner_id\nexample.org,A\n', 'm.csv')).toThrow(/m\.csv:2: not an IP address/);
    expect(() => AssetMap.parse('prefix,owner_id\n"198.51.100.0/24,A\n', 'm.csv')).toThrow(/unterminated quote/);
    expect(() => AssetMap.parse('owner_id,name\nA,B\n', 'm.csv')).toThrow(/no prefix column/);
    expect(() => AssetMap.parse('# only a comment\n', 'm.csv')).toThrow(/no header row/);
    expect(() => AssetMap.load(join(tmpdir(), 'no-such-minewatch-assets.csv'))).toThrow(/cannot read asset map/);
  });

  it('loads from a file', () => {
    const file = join(scratchDir('minewatch-assets-'), 'assets.csv');
    writeFileSync(file, MAP);
    expect(AssetMap.load(file).lookup('198.51.100.7')?.ownerId).toBe('SUB-88412');
  });

  it('splits quoted CSV cells', () => {
    const fail = (): Error => new Error('unterminated');
    expect(splitCsvLine('a,"b,c","d ""e""",', fail)).toEqual(['a', 'b,c', 'd "e"', '']);
    expect(splitCsvLine('plain,cells', fail)).toEqual(['plain', 'cells']);
  });
});

describe('owners in output', () => {
  it('marks IPs without an owner, and output made without any map', () => {
    const map = AssetMap.parse(MAP);
    const withMap = ownerLookup(AssetMap.parse('prefix,owner_id\n198.51.100.0/24,A\n'));
    expect(withMap('203.0.113.1').status).toBe('no-owner');
    expect(ownerLabel(withMap('203.0.113.1'))).toBe('(no owner)');
    expect(ownerLookup(null)('203.0.113.1').status).toBe('no-asset-map');
    expect(ownerLabel(ownerLookup(map)('198.51.100.7'))).toBe('J. Doe (SUB-88412)');
  });

  it('falls back to the owner recorded at replay time when this map has none', () => {
    const recorded = new Map([
      ['192.0.2.50', { ip: '192.0.2.50', prefix: '192.0.2.48/28', ownerId: 'OLD-1', name: 'Former tenant', place: null, tags: [], assetsFile: 'then.csv', recordedAt: '2024-01-01T00:00:00Z' }],
    ]);
    const lookup = ownerLookup(null, recorded);
    expect(lookup('192.0.2.50')).toMatchObject({ status: 'matched', from: 'recorded', ownerId: 'OLD-1' });
    expect(lookup('192.0.2.51').status).toBe('no-owner');
  });
});

describe('prefix table', () => {
  it('agrees with a brute-force longest-prefix search on random nested prefixes', () => {
    const rand = seededRandom(42);
    const table = new PrefixTable<number>();
    const prefixes: { version: 4 | 6; words: Uint32Array; length: number; id: number }[] = [];
    // Nested IPv4 prefixes under 198.51.100.0/24 and IPv6 ones under 2001:db8::/32.
    const v4base = parseIp('198.51.100.0')!.words;
    const v6base = parseIp('2001:db8::')!.words;
    for (let id = 0; id < 1500; id++) {
      const v6 = id % 2 === 1;
      const words = new Uint32Array(v6 ? v6base : v4base);
      if (v6) {
        words[1] = Math.floor(rand() * 0x10000) << 16;
        words[2] = Math.floor(rand() * 0x1_0000_0000) >>> 0;
      } else words[0] = (words[0]! | Math.floor(rand() * 256)) >>> 0;
      const length = v6 ? 32 + Math.floor(rand() * 65) : 24 + Math.floor(rand() * 9);
      const masked = maskWords(words, length);
      table.set(v6 ? 6 : 4, masked, length, id);
      prefixes.push({ version: v6 ? 6 : 4, words: masked, length, id });
    }
    const best = new Map<string, (typeof prefixes)[number]>();
    for (const p of prefixes) {
      const k = `${p.version}/${p.length}/${[...p.words].join('.')}`;
      best.set(k, p); // a later duplicate replaces, as in the table
    }
    const brute = (version: 4 | 6, words: Uint32Array): number | undefined => {
      let found: { length: number; id: number } | undefined;
      for (const p of best.values()) {
        if (p.version !== version) continue;
        const m = maskWords(words, p.length);
        if (m.every((w, i) => w === p.words[i]) && (!found || p.length > found.length)) found = p;
      }
      return found?.id;
    };
    const ones = new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    let matched = 0;
    for (let q = 0; q < 400; q++) {
      const v6 = q % 2 === 1;
      const words = new Uint32Array(v6 ? v6base : v4base);
      if (v6) {
        words[1] = Math.floor(rand() * 0x10000) << 16;
        words[2] = Math.floor(rand() * 0x1_0000_0000) >>> 0;
        words[3] = Math.floor(rand() * 0x1_0000_0000) >>> 0;
      } else words[0] = (words[0]! | Math.floor(rand() * 256)) >>> 0;
      // Half the queries start from a stored prefix so matches are frequent.
      if (q % 4 < 2) {
        const p = prefixes[Math.floor(rand() * prefixes.length)]!;
        const netMask = maskWords(ones, p.length);
        if (p.version === (v6 ? 6 : 4)) for (let i = 0; i < 4; i++) words[i] = (p.words[i]! | (words[i]! & ~netMask[i]!)) >>> 0;
      }
      const expected = brute(v6 ? 6 : 4, words);
      if (expected !== undefined) matched++;
      expect(table.lookup(v6 ? 6 : 4, words)?.value).toBe(expected);
    }
    expect(matched).toBeGreaterThan(100);
    expect(table.size).toBe(best.size);
  });
});
