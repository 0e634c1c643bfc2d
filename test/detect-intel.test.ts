/**
 * Evidence that survives encryption, through the real pipeline with the shipped signatures:
 * DNS queries and answers (A, AAAA, CNAME chains) teaching pool addresses, TLS hellos (SNI,
 * fingerprints), HTTP Host, sustained flows to pool endpoints, lone SYNs, the Stratum V2
 * handshake shape, and a browser miner seen only through DNS and TLS. Generated captures,
 * documentation addresses; pool names are the real listed ones.
 */
import { describe, expect, it } from 'vitest';
import { shippedSignatures } from '../src/signatures/signature-set.js';
import type { HitRow } from '../src/store/types.js';
import { dnsAnswer, dnsQuery, type DnsRecordSpec } from '../src/synth/dns.js';
import { udpPacket, type Endpoint } from '../src/synth/packets.js';
import type { TimedPacket, Turn } from '../src/synth/tcp-session.js';
import { applicationData, clientHelloRecord, opaqueBytes, serverHelloRecord, type ClientHelloSpec } from '../src/synth/tls.js';
import { cnameChain, parseDnsMessage } from '../src/detect/dns-message.js';
import { anySuffixListed } from '../src/signatures/name-hash.js';
import { DnsScreen, SCREEN_MALFORMED, SCREEN_MAYBE_POOL, SCREEN_NO_POOL } from '../src/detect/dns-screen.js';
import { parseSetupConnection } from '../src/detect/sv2.js';
import { parseClientHello, parseServerHello } from '../src/detect/tls-hello.js';
import { firstHandshake } from '../src/detect/tls-records.js';
import { randomInt, seededRandom } from '../src/synth/rng.js';
import { captureOf, conversation, replayBytes } from './support/pipeline.js';

const T0 = 1_780_000_000_000_000;
const CLIENT = '192.0.2.44';
const RESOLVER: Endpoint = { ip: '192.0.2.53', port: 53 };

function dnsExchange(name: string, records: DnsRecordSpec[], at: number, opts: { qtype?: 'A' | 'AAAA'; rcode?: number; answered?: boolean; id?: number } = {}): TimedPacket[] {
  const client: Endpoint = { ip: CLIENT, port: 40000 + (at % 1000) };
  const id = opts.id ?? 0x1234;
  const out: TimedPacket[] = [{ tsMicros: at, ip: udpPacket(client, RESOLVER, dnsQuery(id, name, opts.qtype ?? 'A')) }];
  if (opts.answered ?? true) out.push({ tsMicros: at + 2_000, ip: udpPacket(RESOLVER, client, dnsAnswer(id, name, records, opts.qtype ?? 'A', opts.rcode ?? 0)) });
  return out;
}

/** A TLS session: hello, server hello, then `records` encrypted exchanges `gapMicros` apart. */
function tlsSession(serverIp: string, port: number, hello: ClientHelloSpec, records: number, gapMicros: number, start: number, clientPort = 50000): TimedPacket[] {
  const turns: Turn[] = [
    { from: 'client', data: clientHelloRecord(hello) },
    { from: 'server', data: Buffer.concat([serverHelloRecord(), applicationData(900)]) },
  ];
  for (let i = 0; i < records; i++) {
    turns.push({ from: 'client', data: applicationData(80, i + 10), gapMicros });
    turns.push({ from: 'server', data: applicationData(300, i + 100) });
  }
  return conversation({ turns, serverIp, serverPort: port, client: { ip: CLIENT, port: clientPort }, startMicros: start });
}

async function replay(...parts: TimedPacket[][]): Promise<HitRow[]> {
  const r = await replayBytes(captureOf(parts), undefined, 'intel.pcap', shippedSignatures());
  return r.hits;
}

function kinds(hits: HitRow[]): string[] {
  return hits.map((h) => `${h.kind} ${h.confidence} ${h.minerIp} ${h.poolIp}:${h.poolPort}`);
}

describe('DNS', () => {
  it('a query for a pool name is low evidence on the asking host; the answer is the pool side', async () => {
    const hits = await replay(dnsExchange('pool.supportxmr.com', [{ type: 'A', name: 'pool.supportxmr.com', address: '203.0.113.80', ttl: 60 }], T0));
    expect(kinds(hits)).toEqual([`dns.query low ${CLIENT} 203.0.113.80:0`]);
    expect(hits[0]).toMatchObject({ poolHost: 'pool.supportxmr.com', dialect: 'cryptonote', detector: 'dns', transport: 'udp' });
    expect(hits[0]!.detail).toContain('pool=SupportXMR');
    expect(hits[0]!.provenance).toMatch(/^dns; pools\/mining-pools\.txt:\d+ \*\.supportxmr\.com; protocols\/evidence\.txt:\d+ rule dns\.query$/);
  });

  it('learns A and AAAA answers, so a later TLS flow without SNI to them is a sustained pool flow', async () => {
    const v4 = dnsExchange('pool.supportxmr.com', [{ type: 'A', name: 'pool.supportxmr.com', address: '203.0.113.80', ttl: 30 }], T0);
    const v6 = dnsExchange('pool.supportxmr.com', [{ type: 'AAAA', name: 'pool.supportxmr.com', address: '2001:db8::80', ttl: 30 }], T0 + 10_000, { qtype: 'AAAA', id: 7 });
    // XMRig sends no SNI: only the learned address ties the flow to the pool.
    const tls = tlsSession('203.0.113.80', 443, { alpn: [] }, 8, 10_000_000, T0 + 1_000_000);
    const hits = await replay(v4, v6, tls);
    const flow = hits.filter((h) => h.kind === 'tls.pool-endpoint');
    expect(kinds(flow)).toEqual([`tls.pool-endpoint medium ${CLIENT} 203.0.113.80:443`]);
    expect(flow[0]!.poolHost).toBe('pool.supportxmr.com');
    expect(flow[0]!.detail).toContain('dns-learned');
    expect(flow[0]!.detail).toContain('no sni');
    expect(flow[0]!.provenance).toContain('(dns-learned: pool.supportxmr.com -> 203.0.113.80)');
    // The AAAA answer gave one dns.query hit too (the repeat window keeps it to one per name).
    expect(hits.filter((h) => h.kind === 'dns.query')).toHaveLength(1);
  });

  it('reads DNS over TCP as over UDP: evidence on the asker, answers learned, length prefixes split anywhere', async () => {
    const framed = (msg: Buffer): Buffer => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);
    const noise = framed(dnsQuery(1, 'www.example.net'));
    const query = framed(dnsQuery(0x4242, 'pool.supportxmr.com'));
    const answer = framed(dnsAnswer(0x4242, 'pool.supportxmr.com', [{ type: 'A', name: 'pool.supportxmr.com', address: '203.0.113.81', ttl: 60 }]));
    const overTcp = conversation({
      // An unlisted query first, then the pool's in the same connection; every segment
      // boundary falls inside a length prefix or a message.
      turns: [
        { from: 'client', data: Buffer.concat([noise, query]) },
        { from: 'server', data: Buffer.concat([framed(dnsAnswer(1, 'www.example.net', [])), answer]) },
      ],
      serverIp: RESOLVER.ip,
      serverPort: 53,
      client: { ip: CLIENT, port: 40123 },
      startMicros: T0,
      session: { mss: 7 },
    });
    const tls = tlsSession('203.0.113.81', 443, { alpn: [] }, 8, 10_000_000, T0 + 1_000_000);
    const r = await replayBytes(captureOf([overTcp, tls]), undefined, 'intel.pcap', shippedSignatures());
    const dns = r.hits.filter((h) => h.kind === 'dns.query');
    expect(kinds(dns)).toEqual([`dns.query low ${CLIENT} 203.0.113.81:0`]);
    expect(dns[0]).toMatchObject({ poolHost: 'pool.supportxmr.com', transport: 'tcp', detector: 'dns' });
    expect(kinds(r.hits.filter((h) => h.kind === 'tls.pool-endpoint'))).toEqual([`tls.pool-endpoint medium ${CLIENT} 203.0.113.81:443`]);
    expect(r.sensor.engine.stats.dnsMessages).toBe(4);
    expect(r.sensor.engine.stats.dnsLearned).toBe(1);
  });

  it('a TCP stream to port 53 that is not DNS is dropped, not misread (garbage of every size and segmentation)', async () => {
    const junk = conversation({
      turns: [{ from: 'client', data: Buffer.from('\x00\x05hello world, this is not DNS at all') }, { from: 'server', data: Buffer.alloc(300, 0xff) }],
      serverIp: RESOLVER.ip,
      serverPort: 53,
      client: { ip: CLIENT, port: 40124 },
      startMicros: T0,
    });
    const rand = seededRandom(5353);
    const fuzz = Array.from({ length: 120 }, (_, n) =>
      conversation({
        turns: [
          { from: 'client', data: Buffer.from(Array.from({ length: randomInt(rand, 1, 3000) }, () => randomInt(rand, 0, 255))) },
          { from: 'server', data: Buffer.from(Array.from({ length: randomInt(rand, 1, 3000) }, () => randomInt(rand, 0, 255))) },
        ],
        serverIp: RESOLVER.ip,
        serverPort: 53,
        client: { ip: CLIENT, port: 41000 + n },
        startMicros: T0 + n * 5000,
        session: { mss: randomInt(rand, 1, 1400) },
      }),
    );
    const r = await replayBytes(captureOf([junk, ...fuzz]), undefined, 'intel.pcap', shippedSignatures());
    expect(r.hits).toEqual([]);
    expect(r.sensor.engine.carryBytesHeld).toBe(0);
  });

  it('follows CNAME chains both ways: the listed name may be the question or the target', async () => {
    const listedTarget = dnsExchange(
      'mine.innocent.example',
      [
        { type: 'CNAME', name: 'mine.innocent.example', target: 'relay.innocent.example' },
        { type: 'CNAME', name: 'relay.innocent.example', target: 'gulf.moneroocean.stream' },
        { type: 'A', name: 'gulf.moneroocean.stream', address: '198.51.100.61' },
        { type: 'A', name: 'unrelated.example', address: '198.51.100.99' },
      ],
      T0,
    );
    const tls = tlsSession('198.51.100.61', 10128, { sni: 'mine.innocent.example' }, 8, 10_000_000, T0 + 500_000);
    const stray = tlsSession('198.51.100.99', 443, {}, 8, 10_000_000, T0 + 600_000, 50001);
    const hits = await replay(listedTarget, tls, stray);
    const q = hits.find((h) => h.kind === 'dns.query')!;
    expect(q).toMatchObject({ poolHost: 'gulf.moneroocean.stream', poolIp: '198.51.100.61' });
    expect(q.detail).toContain('cname relay.innocent.example > gulf.moneroocean.stream');
    expect(kinds(hits.filter((h) => h.kind.startsWith('tls')))).toEqual([`tls.pool-endpoint medium ${CLIENT} 198.51.100.61:10128`]);
    expect(hits.some((h) => h.poolIp === '198.51.100.99')).toBe(false);
  });

  it('learned addresses expire after the TTL (clamped to the floor) and are then no evidence', async () => {
    const dns = dnsExchange('pool.supportxmr.com', [{ type: 'A', name: 'pool.supportxmr.com', address: '203.0.113.80', ttl: 5 }], T0);
    // ttl-floor is 3600 s: a flow two hours later is not tagged.
    const late = tlsSession('203.0.113.80', 443, {}, 8, 10_000_000, T0 + 2 * 3600 * 1_000_000);
    const hits = await replay(dns, late);
    expect(kinds(hits)).toEqual([`dns.query low ${CLIENT} 203.0.113.80:0`]);
  });

  it('NXDOMAIN and unanswered queries still count, with no pool address rolled up', async () => {
    const nx = dnsExchange('xmr-eu1.nanopool.org', [], T0, { rcode: 3 });
    const silent = dnsExchange('donate.v2.xmrig.com', [], T0 + 5_000, { answered: false, id: 9 });
    const r = await replayBytes(captureOf([nx, silent]), undefined, 'nx.pcap', shippedSignatures());
    expect(kinds(r.hits).sort()).toEqual([`dns.query low ${CLIENT} 0.0.0.0:0`, `dns.query low ${CLIENT} 0.0.0.0:0`]);
    expect(r.hits.map((h) => h.detail).join(' ')).toMatch(/NXDOMAIN[\s\S]*unanswered|unanswered[\s\S]*NXDOMAIN/);
    expect(r.ips.map((s) => `${s.ip} ${s.role}`)).toEqual([`${CLIENT} miner`]);
    expect(r.ips[0]!.peers).toEqual([]);
  });

  it('names on no list, pool web sites and DNS to other ports are no evidence', async () => {
    const hits = await replay(
      dnsExchange('www.example.com', [{ type: 'A', name: 'www.example.com', address: '203.0.113.7' }], T0),
      dnsExchange('www.supportxmr.com', [{ type: 'A', name: 'www.supportxmr.com', address: '203.0.113.8' }], T0 + 1_000, { id: 3 }),
    );
    expect(hits).toEqual([]);
  });
});

describe('DNS screen (before any string is built)', () => {
  const set = shippedSignatures();
  const hashes = set.pools.nameHashes;
  const screen = new DnsScreen();
  const verdict = (msg: Buffer): number => screen.screen(msg, 0, msg.length, hashes);
  /** What the full parse decides: does the question or a CNAME target name a listed pool? */
  const listed = (msg: Buffer): boolean => {
    const m = parseDnsMessage(msg, 0, msg.length);
    return m !== null && cnameChain(m).some((n) => set.pools.matchName(n) !== null);
  };

  it('passes every message the full parse finds a listed name in, and no message without one', () => {
    const rand = seededRandom(53);
    const listedNames = ['pool.supportxmr.com', 'gulf.moneroocean.stream', 'Pool.SupportXMR.COM', 'xmr-eu1.nanopool.org'];
    let passed = 0;
    for (let i = 0; i < 400; i++) {
      const plain = `h${randomInt(rand, 0, 1e6)}.cdn${randomInt(rand, 0, 50)}.example.net`;
      const pool = listedNames[i % listedNames.length]!;
      const asTarget = i % 3 === 0;
      const question = asTarget ? plain : i % 2 ? pool : plain;
      const records: DnsRecordSpec[] = asTarget
        ? [{ type: 'CNAME', name: plain, target: pool }, { type: 'A', name: pool, address: '203.0.113.9' }]
        : [{ type: 'A', name: question, address: '203.0.113.9' }];
      for (const msg of [dnsQuery(i, question), dnsAnswer(i, question, records)]) {
        const expected = listed(msg);
        expect(verdict(msg)).toBe(expected ? SCREEN_MAYBE_POOL : SCREEN_NO_POOL);
        if (expected) passed++;
      }
    }
    expect(passed).toBeGreaterThan(300);
  });

  it('the same hashes rule names out as text (SNI, HTTP Host) without hiding a listed one', () => {
    const names = [...set.pools.nameHashes].length;
    expect(names).toBeGreaterThan(20);
    for (const name of ['pool.supportxmr.com', 'POOL.SupportXMR.com.', 'xmr-eu1.nanopool.org', 'gulf.moneroocean.stream', 'a.b.auto.nicehash.com']) {
      expect(anySuffixListed(name, set.pools.nameHashes)).toBe(true);
      expect(set.pools.matchName(name)).not.toBeNull();
    }
    const rand = seededRandom(99);
    for (let i = 0; i < 2000; i++) {
      const name = `w${randomInt(rand, 0, 1e6)}.example${randomInt(rand, 0, 99)}.net`;
      expect(anySuffixListed(name, set.pools.nameHashes)).toBe(false);
      expect(set.pools.matchName(name)).toBeNull();
    }
  });

  it('follows compression pointers and ignores letter case', () => {
    // Question "x.Pool.SupportXMR.com"; one CNAME answer whose name points at the question
    // and whose target is "y" + a pointer into the question's "supportxmr.com".
    const header = Buffer.from([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    const qname = Buffer.from('\x01x\x04Pool\x0aSupportXMR\x03com\x00', 'latin1');
    const qtail = Buffer.from([0, 1, 0, 1]);
    const supportAt = 12 + 2 + 5; // offset of the "SupportXMR" label
    const rdata = Buffer.from([1, 0x79, 0xc0, supportAt]);
    const rr = Buffer.concat([Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, rdata.length]), rdata]);
    const msg = Buffer.concat([header, qname, qtail, rr]);
    expect(cnameChain(parseDnsMessage(msg, 0, msg.length)!)).toEqual(['x.pool.supportxmr.com', 'y.supportxmr.com']);
    expect(verdict(msg)).toBe(SCREEN_MAYBE_POOL);
    // The same shape with an unlisted domain passes nothing.
    const other = Buffer.from(msg);
    other.write('ExampleNet', 12 + 2 + 5 + 1, 'latin1');
    expect(verdict(other)).toBe(SCREEN_NO_POOL);
  });

  it('calls malformed input malformed: short, pointer loops, labels past the end', () => {
    expect(verdict(Buffer.alloc(5))).toBe(SCREEN_MALFORMED);
    const loop = Buffer.concat([Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 12])]);
    expect(verdict(loop)).toBe(SCREEN_MALFORMED);
    const cut = Buffer.concat([Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([30, 0x61, 0x62])]);
    expect(verdict(cut)).toBe(SCREEN_MALFORMED);
    const rand = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: randomInt(rand, 0, 80) }, () => randomInt(rand, 0, 255)));
      expect([SCREEN_MALFORMED, SCREEN_NO_POOL, SCREEN_MAYBE_POOL]).toContain(verdict(junk));
    }
  });

  it('keeps unlisted lookups out of detection: only the listed exchange is parsed and stored', async () => {
    const noise = Array.from({ length: 50 }, (_, i) => dnsExchange(`site${i}.example.com`, [{ type: 'A', name: `site${i}.example.com`, address: '198.51.100.80' }], T0 + i * 10_000));
    const pool = dnsExchange('pool.supportxmr.com', [{ type: 'A', name: 'pool.supportxmr.com', address: '203.0.113.80', ttl: 60 }], T0 + 900_000);
    const r = await replayBytes(captureOf([...noise, pool]), undefined, 'intel.pcap', shippedSignatures());
    expect(kinds(r.hits)).toEqual([`dns.query low ${CLIENT} 203.0.113.80:0`]);
    expect(r.sensor.engine.stats.dnsMessages).toBe(102);
  });
});

describe('TLS', () => {
  it('takes the first handshake message from a record cut short as soon as the message is whole', () => {
    // A ServerHello with more handshake data behind it in the same record (as the
    // certificates usually are): every prefix gives 'more' or exactly the ServerHello.
    const hello = serverHelloRecord();
    const body = hello.subarray(5);
    const record = Buffer.concat([hello.subarray(0, 3), Buffer.from([0, 0]), body, Buffer.from([11, 0, 0x02, 0x58]), Buffer.alloc(600, 7)]);
    record.writeUInt16BE(record.length - 5, 3);
    const whole = firstHandshake(record, 0, record.length);
    expect(whole).not.toBe('more');
    const expected = body.subarray(0, 4 + body.readUIntBE(1, 3));
    for (let cut = 0; cut <= record.length; cut++) {
      const r = firstHandshake(record, 0, cut);
      if (cut < 5 + expected.length) expect(r).toBe('more');
      else expect(r !== 'more' && r !== null && r.buf.subarray(r.start, r.end).equals(expected)).toBe(true);
    }
  });

  it('SNI naming a listed pool is a medium hit on the client, with JA3/JA4 in the detail', async () => {
    const hits = await replay(tlsSession('203.0.113.90', 3333, { sni: 'us1.bitminter.com', alpn: ['http/1.1'] }, 1, 1_000, T0));
    expect(kinds(hits)).toEqual([`tls.sni medium ${CLIENT} 203.0.113.90:3333`]);
    expect(hits[0]).toMatchObject({ dialect: 'stratum', poolHost: 'us1.bitminter.com', detector: 'tls' });
    expect(hits[0]!.detail).toMatch(/pool=BitMinter .*sni us1\.bitminter\.com alpn http\/1\.1 ja3 [0-9a-f]{32} ja4 t13d\d{4}h1_[0-9a-f]{12}_[0-9a-f]{12}/);
  });

  it('a TLS flow to an unlisted host is no hit, however long', async () => {
    const hits = await replay(tlsSession('203.0.113.91', 443, { sni: 'www.example.com', alpn: ['h2'] }, 10, 20_000_000, T0), tlsSession('203.0.113.92', 3333, {}, 10, 20_000_000, T0, 50002));
    expect(hits).toEqual([]);
  });

  it('a pool web site behind a port-limited entry is no hit (2Miners lists stratum ports only)', async () => {
    const hits = await replay(tlsSession('203.0.113.93', 443, { sni: 'eth.2miners.com', alpn: ['h2'] }, 2, 1_000, T0), tlsSession('203.0.113.94', 12222, { sni: 'xmr.2miners.com' }, 2, 1_000, T0, 50003));
    expect(kinds(hits)).toEqual([`tls.sni medium ${CLIENT} 203.0.113.94:12222`]);
  });
});

describe('HTTP Host', () => {
  it('a request to a listed pool host is a medium hit', async () => {
    const req = 'GET /lib/coinhive.min.js HTTP/1.1\r\nHost: coinhive.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n';
    const res = 'HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: 4\r\n\r\nvar;';
    const hits = await replay(conversation({ turns: [{ from: 'client', data: req }, { from: 'server', data: res }], serverIp: '203.0.113.95', serverPort: 80, client: { ip: CLIENT, port: 50010 } }));
    expect(kinds(hits)).toEqual([`http.host medium ${CLIENT} 203.0.113.95:80`]);
    expect(hits[0]!.detail).toContain('pool=Coinhive type=webminer');
    expect(hits[0]!.detail).toContain('GET /lib/coinhive.min.js');
  });
});

describe('pool endpoints', () => {
  it('a lone SYN to a DNS-learned pool address is low; a readable non-mining flow there is none', async () => {
    const dns = dnsExchange('pool.hashvault.pro', [{ type: 'A', name: 'pool.hashvault.pro', address: '203.0.113.70', ttl: 600 }], T0);
    const syn = conversation({ turns: [], serverIp: '203.0.113.70', serverPort: 3333, client: { ip: '192.0.2.45', port: 50020 }, startMicros: T0 + 1_000_000, session: { close: 'none' } });
    const http = conversation({
      turns: [
        { from: 'client', data: 'GET / HTTP/1.1\r\nHost: 203.0.113.70\r\n\r\n' },
        { from: 'server', data: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' },
      ],
      serverIp: '203.0.113.70',
      serverPort: 80,
      client: { ip: '192.0.2.46', port: 50021 },
      startMicros: T0 + 2_000_000,
    });
    const hits = await replay(dns, syn, http);
    const endpoint = hits.filter((h) => h.detector === 'endpoint');
    expect(kinds(endpoint)).toEqual(['endpoint.connect low 192.0.2.45 203.0.113.70:3333']);
  });

  it('binary payload to a learned pool address is a hit only once sustained', async () => {
    const dns = dnsExchange('pool.hashvault.pro', [{ type: 'A', name: 'pool.hashvault.pro', address: '203.0.113.71', ttl: 600 }], T0);
    const binaryTurns = (n: number, gap: number): Turn[] =>
      Array.from({ length: n }, (_, i): Turn[] => [
        { from: 'client', data: opaqueBytes(100, i), gapMicros: gap },
        { from: 'server', data: opaqueBytes(200, i + 50) },
      ]).flat();
    const short = conversation({ turns: binaryTurns(3, 1_000_000), serverIp: '203.0.113.71', serverPort: 3333, client: { ip: '192.0.2.47', port: 50030 }, startMicros: T0 + 1_000 });
    const long = conversation({ turns: binaryTurns(8, 10_000_000), serverIp: '203.0.113.71', serverPort: 3333, client: { ip: '192.0.2.48', port: 50031 }, startMicros: T0 + 2_000 });
    const hits = await replay(dns, short, long);
    expect(kinds(hits.filter((h) => h.detector === 'endpoint'))).toEqual(['endpoint.sustained medium 192.0.2.48 203.0.113.71:3333']);
  });
});

describe('Stratum V2', () => {
  const handshake = (client: Endpoint, serverIp: string, port: number, clientFirst = 64, serverFirst = 234): TimedPacket[] =>
    conversation({
      turns: [
        { from: 'client', data: opaqueBytes(clientFirst, 1) },
        { from: 'server', data: opaqueBytes(serverFirst, 2) },
        { from: 'client', data: opaqueBytes(22 + 16 + 60, 3) }, // an encrypted frame: header 22 + payload + MAC
        { from: 'server', data: opaqueBytes(22 + 16 + 40, 4) },
      ],
      serverIp,
      serverPort: port,
      client,
    });

  it('the Noise handshake shape towards the SV2 port is a low heuristic hit', async () => {
    const hits = await replay(handshake({ ip: CLIENT, port: 50040 }, '203.0.113.100', 34254));
    expect(kinds(hits)).toEqual([`sv2.noise-handshake low ${CLIENT} 203.0.113.100:34254`]);
    expect(hits[0]).toMatchObject({ dialect: 'sv2', detector: 'sv2' });
    expect(hits[0]!.detail).toMatch(/^heuristic: Noise NX handshake shape \(client 64 B, server 234 B/);
  });

  it('towards a DNS-learned pool endpoint it is medium; other shapes or ports are nothing', async () => {
    const dns = dnsExchange('stratum.antpool.com', [{ type: 'A', name: 'stratum.antpool.com', address: '203.0.113.101' }], T0 - 1_000_000);
    const hits = await replay(
      dns,
      handshake({ ip: '192.0.2.50', port: 50041 }, '203.0.113.101', 3333),
      handshake({ ip: '192.0.2.51', port: 50042 }, '203.0.113.102', 34254, 65, 234),
      handshake({ ip: '192.0.2.52', port: 50043 }, '203.0.113.103', 34254, 64, 233),
      handshake({ ip: '192.0.2.54', port: 50044 }, '203.0.113.104', 4444),
    );
    expect(kinds(hits.filter((h) => h.detector === 'sv2'))).toEqual(['sv2.noise-handshake medium 192.0.2.50 203.0.113.101:3333']);
  });

  it('a plaintext SetupConnection is the protocol itself: high, with the pool host and device', async () => {
    const str = (s: string): Buffer => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
    const payload = Buffer.concat([
      Buffer.from([0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00]), // mining protocol, versions 2..2, flags
      str('pool.example.net'),
      Buffer.from([0xce, 0x85]), // port 34254 LE
      str('Bitmain'),
      str('S19'),
      str('fw-1.2'),
      str('rig-7'),
    ]);
    const frame = Buffer.concat([Buffer.from([0x00, 0x00, 0x00, payload.length & 0xff, payload.length >> 8, 0]), payload]);
    const hits = await replay(conversation({ turns: [{ from: 'client', data: frame }, { from: 'server', data: opaqueBytes(40, 9) }], serverIp: '203.0.113.105', serverPort: 34254, client: { ip: CLIENT, port: 50045 } }));
    expect(kinds(hits)).toEqual([`sv2.SetupConnection high ${CLIENT} 203.0.113.105:34254`]);
    expect(hits[0]).toMatchObject({ poolHost: 'pool.example.net', agent: 'Bitmain S19 fw-1.2', dialect: 'sv2' });
  });
});

describe('a browser miner seen only through DNS and TLS', () => {
  it('DNS for a listed web-mining domain, then TLS: the client is a medium hit with the service name', async () => {
    const browser = '192.0.2.60';
    const dns: TimedPacket[] = [
      { tsMicros: T0, ip: udpPacket({ ip: browser, port: 41000 }, RESOLVER, dnsQuery(1, 'ws014.coinhive.com')) },
      {
        tsMicros: T0 + 3_000,
        ip: udpPacket(RESOLVER, { ip: browser, port: 41000 }, dnsAnswer(1, 'ws014.coinhive.com', [{ type: 'A', name: 'ws014.coinhive.com', address: '203.0.113.120', ttl: 177 }])),
      },
    ];
    const turns: Turn[] = [
      { from: 'client', data: clientHelloRecord({ sni: 'ws014.coinhive.com', alpn: ['http/1.1'], extraExtensions: [0x0a0a] }) },
      { from: 'server', data: Buffer.concat([serverHelloRecord(), applicationData(1200)]) },
    ];
    for (let i = 0; i < 20; i++) turns.push({ from: i % 2 ? 'server' : 'client', data: applicationData(120, i + 200), gapMicros: 3_000_000 });
    const wss = conversation({ turns, serverIp: '203.0.113.120', serverPort: 443, client: { ip: browser, port: 52000 }, startMicros: T0 + 10_000 });
    const other = tlsSession('203.0.113.121', 443, { sni: 'news.example.org', alpn: ['h2'] }, 10, 5_000_000, T0 + 20_000, 52001);
    const r = await replayBytes(captureOf([dns, wss, other]), undefined, 'browser.pcap', shippedSignatures());
    const miners = r.ips.filter((s) => s.role === 'miner').map((s) => s.ip);
    expect(miners).toEqual([browser]);
    const tls = r.hits.filter((h) => h.kind === 'tls.sni');
    expect(kinds(tls)).toEqual([`tls.sni medium ${browser} 203.0.113.120:443`]);
    expect(tls[0]!.detail).toContain('pool=Coinhive type=webminer coin=xmr');
    expect(tls[0]!.poolHost).toBe('ws014.coinhive.com');
    expect(r.hits.find((h) => h.kind === 'dns.query')).toMatchObject({ minerIp: browser, confidence: 'low', poolHost: 'ws014.coinhive.com' });
    // Web miners resolve to shared CDN addresses: they are not learned as pool endpoints.
    expect(r.hits.filter((h) => h.poolIp === '203.0.113.121')).toEqual([]);
  });
});

describe('robustness', () => {
  it('a ClientHello split into small segments is still read', async () => {
    const turns: Turn[] = [
      { from: 'client', data: clientHelloRecord({ sni: 'pool.supportxmr.com', alpn: ['h2'] }) },
      { from: 'server', data: serverHelloRecord() },
    ];
    const hits = await replay(conversation({ turns, serverIp: '203.0.113.130', serverPort: 443, client: { ip: CLIENT, port: 50090 }, session: { mss: 37 } }));
    expect(kinds(hits)).toEqual([`tls.sni medium ${CLIENT} 203.0.113.130:443`]);
  });

  it('hello, record, DNS and SetupConnection parsers take random and truncated bytes without throwing', () => {
    const rand = seededRandom(7);
    const hello = clientHelloRecord({ sni: 'a.example', alpn: ['h2'] });
    const answer = dnsAnswer(1, 'x.pool.example', [{ type: 'CNAME', name: 'x.pool.example', target: 'y.pool.example' }, { type: 'A', name: 'y.pool.example', address: '192.0.2.1' }]);
    for (let i = 0; i < 3000; i++) {
      const n = randomInt(rand, 0, 300);
      const junk = Buffer.alloc(n);
      for (let j = 0; j < n; j++) junk[j] = randomInt(rand, 0, 255);
      if (n > 3 && i % 2) junk.set([0x16, 0x03, 0x01], 0);
      // Truncations and single-byte corruptions of valid messages.
      const cut = hello.subarray(0, randomInt(rand, 0, hello.length));
      const bent = Buffer.from(answer);
      bent[randomInt(rand, 0, bent.length - 1)] = randomInt(rand, 0, 255);
      for (const b of [junk, cut]) {
        const hs = firstHandshake(b, 0, b.length);
        if (hs && hs !== 'more') parseClientHello(hs.buf, hs.start, hs.end);
        parseClientHello(b, 0, b.length);
        parseServerHello(b, 0, b.length);
        parseSetupConnection(b, 0, b.length);
      }
      for (const b of [junk, bent, answer.subarray(0, randomInt(rand, 0, answer.length))]) {
        const msg = parseDnsMessage(b, 0, b.length);
        if (msg) expect(cnameChain(msg).length).toBeLessThanOrEqual(9);
      }
    }
    // A compression pointer to itself ends the parse instead of looping.
    const loop = Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    expect(parseDnsMessage(loop, 0, loop.length)).toBeNull();
  });
});
