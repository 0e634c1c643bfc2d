/**
 * The signature file format: native lines with tags, the public list formats as they are
 * (hosts files, domain lists, IP/CIDR lists, maltrail trails), comments, and every bad
 * line reported with its file and line. Then the folder loader and the lookups.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentMatcher, parseAgentFile } from '../src/signatures/agents.js';
import { parseLines } from '../src/signatures/lines.js';
import { parsePoolFile, PoolIndex } from '../src/signatures/pools.js';
import { parseProtocolFile } from '../src/signatures/protocols.js';
import { loadSignatureDir } from '../src/signatures/signature-set.js';
import { parseTlsFile } from '../src/signatures/tls-fingerprints.js';
import type { SignatureProblem } from '../src/signatures/types.js';
import { scratchDir } from './support/scratch.js';

function pools(text: string, file = 'pools/test.txt'): { entries: ReturnType<typeof parsePoolFile>; problems: SignatureProblem[] } {
  const problems: SignatureProblem[] = [];
  return { entries: parsePoolFile(text, file, problems), problems };
}

function signatureDir(files: Record<string, string>): string {
  const dir = scratchDir('minewatch-sig-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('pool lists', () => {
  it('reads native lines: names, wildcards, exceptions, addresses, CIDRs and ports with tags', () => {
    const { entries, problems } = pools(
      [
        '# a comment',
        '@source https://pool.example/docs',
        '*.pool.example          pool=Example coin=xmr dialect=cryptonote',
        '!www.pool.example',
        'Stratum.Other.Example.  pool=Other   # trailing comment',
        '198.51.100.7:3333       pool=Example type=proxy',
        '198.51.100.0/24:3333-3340',
        '203.0.113.9',
        '2001:db8::/32',
        '[2001:db8::5]:443       source="a capture"',
        'pool.example:14444-14433',
      ].join('\n'),
    );
    expect(problems).toEqual([{ file: 'pools/test.txt', line: 11, message: "'pool.example:14444-14433': bad port or port range" }]);
    expect(entries.map((e) => [e.kind, e.value, e.ports, e.exclude])).toEqual([
      ['wildcard', 'pool.example', null, false],
      ['domain', 'www.pool.example', null, true],
      ['domain', 'stratum.other.example', null, false],
      ['ip', '198.51.100.7', { low: 3333, high: 3333 }, false],
      ['cidr', '198.51.100.0/24', { low: 3333, high: 3340 }, false],
      ['ip', '203.0.113.9', null, false],
      ['cidr', '2001:db8::/32', null, false],
      ['ip', '2001:db8::5', { low: 443, high: 443 }, false],
    ]);
    expect(entries[0]!.tags).toEqual({ pool: 'Example', coin: 'xmr', dialect: 'cryptonote', type: 'pool' });
    expect(entries[0]!.origin).toEqual({ file: 'pools/test.txt', line: 3, source: 'https://pool.example/docs' });
    expect(entries[3]!.tags.type).toBe('proxy');
    expect(entries[7]!.origin.source).toBe('a capture');
  });

  it('reads a hosts file as it is', () => {
    const { entries, problems } = pools(
      [
        '# hosts file from a blocklist',
        '127.0.0.1 localhost',
        '::1 localhost ip6-localhost ip6-loopback',
        '255.255.255.255 broadcasthost',
        '0.0.0.0 0.0.0.0',
        '0.0.0.0 coinhive.example',
        '0.0.0.0\tminer.one.example miner.two.example   # two names on a line',
        '127.0.0.1 not_a*name.example',
      ].join('\n'),
      'pools/hosts',
    );
    expect(entries.map((e) => [e.kind, e.value, e.origin.line])).toEqual([
      ['domain', 'coinhive.example', 6],
      ['domain', 'miner.one.example', 7],
      ['domain', 'miner.two.example', 7],
    ]);
    expect(problems).toEqual([{ file: 'pools/hosts', line: 8, message: "'not_a*name.example' is not a host name, IP address, CIDR block or IP:port" }]);
  });

  it('reads plain domain lists and plain IP/CIDR lists', () => {
    const domains = pools('pool-one.example\npool-two.example\n\n# end\n');
    expect(domains.problems).toEqual([]);
    expect(domains.entries.map((e) => e.value)).toEqual(['pool-one.example', 'pool-two.example']);
    const ips = pools('192.0.2.1\n198.51.100.0/28\n2001:db8:1::/48\n');
    expect(ips.problems).toEqual([]);
    expect(ips.entries.map((e) => `${e.kind} ${e.value}`)).toEqual(['ip 192.0.2.1', 'cidr 198.51.100.0/28', 'cidr 2001:db8:1::/48']);
  });

  it('reads maltrail-style trails: # Reference lines name the source of what follows', () => {
    const { entries, problems } = pools(
      ['# Copyright (c) example', '', '# Reference: https://blog.example/miner-campaign', 'pool.campaign.example', '203.0.113.44:7777', '', '# Reference: https://other.example/report', '198.51.100.9'].join('\n'),
      'pools/trail.txt',
    );
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.value, e.ports?.low ?? null, e.origin.source])).toEqual([
      ['pool.campaign.example', null, 'https://blog.example/miner-campaign'],
      ['203.0.113.44', 7777, 'https://blog.example/miner-campaign'],
      ['198.51.100.9', null, 'https://other.example/report'],
    ]);
  });

  it('reports every garbage line by file and line and keeps the good ones', () => {
    const { entries, problems } = pools(
      [
        'good.example',
        'this is garbage',
        'http://pool.example/path',
        'pool.example/script.js',
        '10.0.0.0/4',
        '198.51.100.1/24',
        '300.1.2.3',
        '198.51.100.7:99999',
        'pool.example type=castle',
        'pool.example color=red',
        '@frobnicate yes',
        'pool.example pool="unterminated',
        '!198.51.100.7',
        'also-good.example',
      ].join('\n'),
      'pools/bad.txt',
    );
    expect(entries.map((e) => e.value)).toEqual(['good.example', 'also-good.example']);
    expect(problems.map((p) => p.line).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(problems.every((p) => p.file === 'pools/bad.txt')).toBe(true);
    const byLine = new Map(problems.map((p) => [p.line, p.message]));
    expect(byLine.get(2)).toBe("one endpoint per line, got 'this is garbage'");
    expect(byLine.get(4)).toContain('URL paths are not supported');
    expect(byLine.get(5)).toContain('too wide');
    expect(byLine.get(6)).toContain('bits set beyond /24');
    expect(byLine.get(9)).toContain("type 'castle'");
    expect(byLine.get(10)).toContain("unknown field 'color'");
    expect(byLine.get(11)).toContain('unknown directive @frobnicate');
    expect(byLine.get(12)).toBe('unterminated quoted value');
    expect(byLine.get(13)).toContain('exceptions');
  });
});

describe('pool index', () => {
  const index = new PoolIndex(
    pools(
      [
        '*.pool.example pool=Wild',
        '!www.pool.example',
        '!*.web.pool.example',
        'exact.pool.example pool=Exact',
        '*.stratum-only.example:3000-4000 pool=Ports',
        '198.51.100.7:3333 pool=OnePort',
        '198.51.100.0/24 pool=Net24',
        '198.51.100.128/25 pool=Net25',
        '2001:db8:aa::/48 pool=Six',
      ].join('\n'),
    ).entries,
  );

  it('matches names: exceptions first, then the exact name, then the most specific wildcard', () => {
    expect(index.matchName('a.pool.example')?.tags.pool).toBe('Wild');
    expect(index.matchName('A.B.POOL.EXAMPLE.')?.tags.pool).toBe('Wild');
    expect(index.matchName('exact.pool.example')?.tags.pool).toBe('Exact');
    expect(index.matchName('pool.example')).toBeNull(); // '*.' is below the name only
    expect(index.matchName('www.pool.example')).toBeNull();
    expect(index.matchName('x.web.pool.example')).toBeNull();
    expect(index.matchName('pool.example.evil')).toBeNull();
    expect(index.matchName('notpool.example')).toBeNull();
  });

  it('applies port ranges to names and addresses (port 0: any)', () => {
    expect(index.matchName('eu.stratum-only.example', 3333)?.tags.pool).toBe('Ports');
    expect(index.matchName('eu.stratum-only.example', 443)).toBeNull();
    expect(index.matchName('eu.stratum-only.example')?.tags.pool).toBe('Ports');
    expect(index.matchAddress('198.51.100.7', 3333)?.tags.pool).toBe('OnePort');
    expect(index.matchAddress('198.51.100.7', 80)?.tags.pool).toBe('Net24');
  });

  it('matches CIDR blocks, longest prefix first, IPv4 and IPv6', () => {
    expect(index.matchAddress('198.51.100.200', 1)?.tags.pool).toBe('Net25');
    expect(index.matchAddress('198.51.100.20', 1)?.tags.pool).toBe('Net24');
    expect(index.matchAddress('198.51.101.1', 1)).toBeNull();
    expect(index.matchAddress('2001:db8:aa:1::9', 1)?.tags.pool).toBe('Six');
    expect(index.matchAddress('2001:db8:ab::9', 1)).toBeNull();
  });
});

describe('agent, TLS and protocol files', () => {
  it('agent patterns: prefix, contains, regex; bad lines by line', () => {
    const problems: SignatureProblem[] = [];
    const rules = parseAgentFile(
      ['XMRig prefix=XMRig/', 'Custom contains=" farm-miner "', 'SRB regex="^SRBMiner[- ]"', 'Broken regex=(', 'TwoNames One prefix=x', 'NoPattern'].join('\n'),
      'agents/a.txt',
      problems,
    );
    const m = new AgentMatcher(rules);
    expect(m.match('XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0')?.miner).toBe('XMRig');
    expect(m.match('xmrig/6.0')?.miner).toBe('XMRig');
    expect(m.match('the farm-miner v2')?.miner).toBe('Custom');
    expect(m.match('SRBMiner-MULTI/2.4.4')?.miner).toBe('SRB');
    expect(m.match('Mozilla/5.0')).toBeNull();
    expect(problems.map((p) => p.line)).toEqual([4, 5, 6]);
    expect(problems[0]!.message).toMatch(/^bad regex/);
  });

  it('TLS fingerprints: JA3 and JA4 shapes checked', () => {
    const problems: SignatureProblem[] = [];
    const fps = parseTlsFile(
      ['ja3:ec2e8760003621ca668b5f03e616cd57 miner=bfgminer', 'ja4:t13d1516h2_8daaf6152771_e5627efa2ab1 miner=x standalone=low', 'ja3:nothex miner=x', 'ja5:abc miner=x', 'ja3:ec2e8760003621ca668b5f03e616cd58'].join('\n'),
      'tls/t.txt',
      problems,
    );
    expect(fps.map((f) => [f.kind, f.standalone])).toEqual([
      ['ja3', null],
      ['ja4', 'low'],
    ]);
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [3, "'nothex' is not a JA3 fingerprint"],
      [4, "'ja5:abc': expected ja3:<md5> or ja4:<fingerprint>"],
      [5, 'miner= is required'],
    ]);
  });

  it('protocol rules: methods with shapes, markers, evidence rules; bad values by line', () => {
    const problems: SignatureProblem[] = [];
    const p = parseProtocolFile(
      [
        'method mining.submit_v2 family=stratum sender=miner strength=strong shape=submit',
        'marker EthereumStratum/3 dialect=ethstratum3',
        'rule tls.sni confidence=medium',
        'rule sv2.noise confidence=medium port-confidence=low client-bytes=64 server-bytes=234 ports=34254,34255-34256',
        'method mining.x family=stratum sender=miner strength=strong shape=notify',
        'method mining.y family=cryptonight sender=miner strength=strong',
        'rule dns.query confidence=certain',
        'rule endpoint.sustained confidence=medium min-seconds=60',
        'rule made.up confidence=low',
        'marker Foo',
      ].join('\n'),
      'protocols/p.txt',
      problems,
    );
    expect(p.methods.map((m) => [m.method, m.shape, m.strong])).toEqual([['mining.submit_v2', 'submit', true]]);
    expect(p.markers.map((m) => m.dialect)).toEqual(['ethstratum3']);
    expect(p.rules.map((r) => r.name)).toEqual(['tls.sni', 'sv2.noise']);
    expect(p.rules[1]!.ports).toEqual([
      { low: 34254, high: 34254 },
      { low: 34255, high: 34256 },
    ]);
    expect(problems.map((x) => x.line)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(problems[0]!.message).toContain('shape=notify');
    expect(problems[3]!.message).toBe('rule endpoint.sustained needs min-packets=');
  });
});

describe('signature folder loader', () => {
  it('loads a folder, counts per kind, ignores README and other components JSON tables', () => {
    const dir = signatureDir({
      'README.md': '# notes',
      'algorithms.json': '{}',
      'pools/a.txt': '*.pool.example\n!www.pool.example\n198.51.100.0/24\n203.0.113.1\n',
      'pools/drop-in/hosts': '0.0.0.0 miner.example\n',
      'agents/m.txt': 'XMRig prefix=XMRig/\n',
      'tls/t.txt': 'ja3:ec2e8760003621ca668b5f03e616cd57 miner=bfgminer\n',
      'protocols/p.txt': 'method mining.subscribe family=stratum sender=miner strength=strong shape=subscribe\nrule tls.sni confidence=medium\n',
    });
    const r = loadSignatureDir(dir);
    expect(r.problems).toEqual([]);
    expect(r.set).not.toBeNull();
    expect(r.counts).toMatchObject({ files: 5, domains: 1, wildcards: 1, exclusions: 1, ips: 1, cidrs: 1, agents: 1, ja3: 1, methods: 1, rules: 1 });
    expect(r.set!.pools.matchName('miner.example')?.origin.file).toBe('pools/drop-in/hosts');
  });

  it('refuses a folder with any problem, naming file and line; stray files are problems too', () => {
    const dir = signatureDir({
      'pools/a.txt': 'ok.example\n\nbad entry here\n',
      'coinminers.txt': 'x.example\n',
      'protocols/p.txt': 'rule tls.sni confidence=medium\nrule tls.sni confidence=low\n',
    });
    const r = loadSignatureDir(dir);
    expect(r.set).toBeNull();
    expect(r.problems).toEqual([
      { file: 'coinminers.txt', line: 0, message: 'unexpected file: signature files go under pools/, agents/, tls/, protocols/' },
      { file: 'pools/a.txt', line: 3, message: "one endpoint per line, got 'bad entry here'" },
      { file: 'protocols/p.txt', line: 2, message: "rule 'tls.sni' already defined at protocols/p.txt:1" },
    ]);
  });

  it('a lists-only folder borrows the shipped protocol rules (and says so); strict mode wants sources', () => {
    const dir = signatureDir({ 'pools/list.txt': 'pool.example\n' });
    const r = loadSignatureDir(dir);
    expect(r.notes).toContain('no protocols/ folder: using the shipped protocol rules');
    expect(r.set!.protocols.method('stratum', 'mining.subscribe')).toBeDefined();
    const strict = loadSignatureDir(dir, { requireSources: true });
    expect(strict.problems).toEqual([{ file: 'pools/list.txt', line: 1, message: 'entry has no source (@source, # Reference: or source=)' }]);
  });

  it('a missing folder is one problem', () => {
    const r = loadSignatureDir(join(tmpdir(), 'minewatch-no-such-folder'));
    expect(r.set).toBeNull();
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/^cannot read signature folder/);
  });
});

describe('the shared line syntax', () => {
  it('splits tokens on any blank, joins quoted parts into their token and ends lines at a blank #', () => {
    const problems: SignatureProblem[] = [];
    const text = [
      'one\ttwo\u00a0three  note="a # b"  # the comment',
      'mid"dle part"end key="x y"z',
      'hash#inside #comment',
      '\u3000lead key=v\u2003tail',
    ].join('\r\n');
    const lines = parseLines(text, 'f.txt', ['note', 'key'], problems);
    expect(problems).toEqual([]);
    expect(lines.map((l) => [l.words, Object.fromEntries(l.fields)])).toEqual([
      [['one', 'two', 'three'], { note: 'a # b' }],
      [['middle partend'], { key: 'x yz' }],
      [['hash#inside'], {}],
      [['lead', 'tail'], { key: 'v' }],
    ]);
  });
});
