/**
 * Cross-checks synthetic captures with real tools: tshark must decode every link type and
 * tunnel down to the right inner addresses with good checksums, reassemble scripted
 * sessions to exactly the scripted bytes, and read timestamps back at full resolution.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { links, type Link } from '../src/synth/link.js';
import { fragmentIpv4, udpPacket } from '../src/synth/packets.js';
import { mergeByTime, tcpSession, type SessionOptions, type TimedPacket, type Turn } from '../src/synth/tcp-session.js';
import { frame, pcapBytes, pcapngBytes, type FramedPacket } from '../src/synth/writer.js';
import { scratchDir } from './support/scratch.js';

function toolAvailable(tool: string, args: string[]): boolean {
  try {
    execFileSync(tool, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const tsharkAvailable = toolAvailable('tshark', ['--version']);
const tcpcapinfoAvailable = toolAvailable('tcpcapinfo', ['--version']);

const tmp = scratchDir('synth-tshark-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeCapture(name: string, bytes: Buffer): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

/** Runs tshark on a file with checksum validation on; stderr (root warnings) is dropped. */
function tshark(file: string, args: string[]): string {
  return execFileSync(
    'tshark',
    ['-n', '-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 },
  );
}

/** One row per packet; each field is the list of all its occurrences, outermost first. */
function tsharkFields(file: string, fields: string[], extra: string[] = []): string[][][] {
  const out = tshark(file, [...extra, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=;', ...fields.flatMap((f) => ['-e', f])]);
  return out
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t').map((v) => (v === '' ? [] : v.split(';'))));
}

const client4 = { ip: '192.0.2.33', port: 50123 };
const server4 = { ip: '203.0.113.77', port: 3333 };
const client6 = { ip: '2001:db8:10::33', port: 50124 };
const server6 = { ip: '2001:db8:20::77', port: 14433 };

const turns: Turn[] = [
  { from: 'client', data: '{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"wallet","pass":"x","agent":"xmrig/6.21.0"}}\n' },
  { from: 'server', data: '{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"1","job":{"blob":"0707","job_id":"j1","target":"b88d0600"},"status":"OK"}}\n' },
  { from: 'client', data: '{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"1","job_id":"j1","nonce":"0400a0c1","result":"ab"}}\n' },
];

const scripted = (side: 'client' | 'server', ts: Turn[]) =>
  Buffer.concat(ts.filter((t) => t.from === side).map((t) => (typeof t.data === 'string' ? Buffer.from(t.data) : t.data)));

describe.runIf(tsharkAvailable)('tshark reads synthetic captures', () => {
  const start = 1_700_000_000_000_000;
  const v4 = tcpSession({ client: client4, server: server4, startMicros: start, turns, seed: 11 });
  const v6 = tcpSession({ client: client6, server: server6, startMicros: start + 50, turns, seed: 12 });
  const both = mergeByTime(v4, v6);
  const o1 = '198.51.100.1';
  const o2 = '198.51.100.2';

  const variants: { name: string; link: Link; chain4: string; chain6: string }[] = [
    { name: 'ethernet', link: links.ethernet(), chain4: 'eth:ethertype:ip:tcp', chain6: 'eth:ethertype:ipv6:tcp' },
    { name: 'vlan', link: links.ethernet({ vlans: [42] }), chain4: 'eth:ethertype:vlan:ethertype:ip:tcp', chain6: 'vlan:ethertype:ipv6:tcp' },
    { name: 'qinq', link: links.ethernet({ vlans: [100, 200], qinq: true }), chain4: 'ieee8021ad:ethertype:vlan:ethertype:ip:tcp', chain6: 'ieee8021ad:ethertype:vlan:ethertype:ipv6:tcp' },
    { name: 'padded', link: links.ethernet({ padToMinimum: true }), chain4: 'eth:ethertype:ip:tcp', chain6: 'eth:ethertype:ipv6:tcp' },
    { name: 'raw', link: links.rawIp(), chain4: 'raw:ip:tcp', chain6: 'raw:ipv6:tcp' },
    { name: 'sll', link: links.sll(), chain4: 'sll:ethertype:ip:tcp', chain6: 'sll:ethertype:ipv6:tcp' },
    { name: 'sll2', link: links.sll2(), chain4: 'sll:ethertype:ip:tcp', chain6: 'sll:ethertype:ipv6:tcp' },
    { name: 'null', link: links.nullLoop(), chain4: 'null:ip:tcp', chain6: 'null:ipv6:tcp' },
    { name: 'loop', link: links.loop(), chain4: 'null:ip:tcp', chain6: 'null:ipv6:tcp' },
    { name: 'mpls', link: links.mpls([1000, 2000]), chain4: 'mpls:ip:tcp', chain6: 'mpls:ipv6:tcp' },
    { name: 'erspan2', link: links.greEthernetErspan2(o1, o2), chain4: 'ip:gre:erspan:eth:ethertype:ip:tcp', chain6: 'gre:erspan:eth:ethertype:ipv6:tcp' },
    { name: 'erspan3', link: links.erspan3(o1, o2), chain4: 'ip:gre:erspan:eth:ethertype:ip:tcp', chain6: 'gre:erspan:eth:ethertype:ipv6:tcp' },
    { name: 'vxlan', link: links.vxlan(o1, o2), chain4: 'ip:udp:vxlan:eth:ethertype:ip:tcp', chain6: 'udp:vxlan:eth:ethertype:ipv6:tcp' },
    { name: 'vxlan-vlan', link: links.vxlan(o1, o2, { inner: links.ethernet({ vlans: [7] }) }), chain4: 'vxlan:eth:ethertype:vlan:ethertype:ip:tcp', chain6: 'vxlan:eth:ethertype:vlan:ethertype:ipv6:tcp' },
    { name: 'gtpu', link: links.gtpu(o1, o2), chain4: 'ip:udp:gtp:ip:tcp', chain6: 'ip:udp:gtp:ipv6:tcp' },
    { name: 'ipip', link: links.ipInIp(o1, o2), chain4: 'eth:ethertype:ip:ip:tcp', chain6: 'eth:ethertype:ip:ipv6:tcp' },
    { name: 'gre', link: links.greIp(o1, o2), chain4: 'ip:gre:ip:tcp', chain6: 'ip:gre:ipv6:tcp' },
    { name: 'outer-ipv6-gre', link: links.greIp('2001:db8:ffff::1', '2001:db8:ffff::2'), chain4: 'ipv6:gre:ip:tcp', chain6: 'ipv6:gre:ipv6:tcp' },
  ];

  it.each(variants)('decodes $name to the inner addresses, ports and good checksums', ({ name, link, chain4, chain6 }) => {
    const file = writeCapture(`${name}.pcap`, pcapBytes(frame(both, link), { linkType: link.linkType }));
    const rows = tsharkFields(file, [
      'frame.protocols',
      'ip.src',
      'ip.dst',
      'ipv6.src',
      'ipv6.dst',
      'tcp.srcport',
      'tcp.dstport',
      'tcp.checksum.status',
      'ip.checksum.status',
      'udp.checksum.status',
      '_ws.malformed',
      '_ws.expert.severity',
    ]);
    expect(rows).toHaveLength(both.length);
    const flows = new Map<string, number>();
    for (const [protocols, ipSrc, ipDst, ip6Src, ip6Dst, sport, dport, tcpStatus, ipStatus, udpStatus, malformed, severity] of rows) {
      const inner6 = protocols![0]!.includes('ipv6:tcp');
      expect(protocols![0]).toContain(inner6 ? chain6 : chain4);
      // The innermost occurrence is the tunnelled packet.
      const key = inner6
        ? `${ip6Src!.at(-1)}.${sport![0]}>${ip6Dst!.at(-1)}.${dport![0]}`
        : `${ipSrc!.at(-1)}.${sport![0]}>${ipDst!.at(-1)}.${dport![0]}`;
      flows.set(key, (flows.get(key) ?? 0) + 1);
      expect(tcpStatus).toEqual(['1']);
      expect(ipStatus!.every((s) => s === '1')).toBe(true);
      expect(udpStatus!.every((s) => s === '1')).toBe(true);
      expect(malformed).toEqual([]);
      // 0x800000 is PI_ERROR: nothing may be flagged as an error.
      expect(severity!.every((s) => Number(s) < 0x800000)).toBe(true);
    }
    const count = (pkts: TimedPacket[], fromPort: number) => pkts.filter((p) => p.ip.readUInt16BE(p.ip[0]! >> 4 === 4 ? 20 : 40) === fromPort).length;
    expect(Object.fromEntries(flows)).toEqual({
      [`192.0.2.33.50123>203.0.113.77.3333`]: count(v4, 50123),
      [`203.0.113.77.3333>192.0.2.33.50123`]: count(v4, 3333),
      [`2001:db8:10::33.50124>2001:db8:20::77.14433`]: count(v6, 50124),
      [`2001:db8:20::77.14433>2001:db8:10::33.50124`]: count(v6, 14433),
    });
  });

  /** `follow,tcp,raw` output: client bytes on unindented lines, server bytes indented. */
  function followStream(file: string, stream: number): { client: Buffer; server: Buffer } {
    const out = tshark(file, ['-q', '-z', `follow,tcp,raw,${stream}`]);
    const body = out.split(/^Node 1: .*$/m)[1]!.split(/^=+$/m)[0]!;
    const client: Buffer[] = [];
    const server: Buffer[] = [];
    for (const line of body.split('\n')) {
      if (line.trim() === '') continue;
      (line.startsWith('\t') ? server : client).push(Buffer.from(line.trim(), 'hex'));
    }
    return { client: Buffer.concat(client), server: Buffer.concat(server) };
  }

  it('follow-stream reassembly returns exactly the scripted bytes through splits, retransmits, reordering and wraparound', () => {
    const bulky: Turn[] = [
      ...turns,
      { from: 'server', data: Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 31 + 7) & 255)) },
      { from: 'client', data: 'tail ' + 'z'.repeat(3000) },
    ];
    const options: SessionOptions = {
      client: client4,
      server: server4,
      startMicros: start,
      turns: bulky,
      seed: 21,
      mss: 900,
      randomSegments: true,
      splitAt: [1, 2, 50],
      retransmitProbability: 0.15,
      reorderProbability: 0.25,
      isn: { client: 0xfffffc00, server: 0xffffd000 },
    };
    const session6 = tcpSession({ ...options, client: client6, server: server6, startMicros: start + 7, seed: 22 });
    const file = writeCapture('follow.pcap', pcapBytes(frame(mergeByTime(tcpSession(options), session6), links.ethernet()), { linkType: 1 }));
    for (const stream of [0, 1]) {
      const { client, server } = followStream(file, stream);
      expect(client.equals(scripted('client', bulky))).toBe(true);
      expect(server.equals(scripted('server', bulky))).toBe(true);
    }
    // The impairments are visible to tshark too.
    const analysis = tsharkFields(file, ['tcp.analysis.retransmission', 'tcp.analysis.out_of_order']);
    expect(analysis.some((r) => r[0]!.length > 0)).toBe(true);
    expect(analysis.some((r) => r[1]!.length > 0)).toBe(true);
  });

  it('follow-stream works through a tunnel', () => {
    const file = writeCapture('follow-vxlan.pcap', pcapBytes(frame(v4, links.vxlan(o1, o2)), { linkType: 1 }));
    const { client, server } = followStream(file, 0);
    expect(client.equals(scripted('client', turns))).toBe(true);
    expect(server.equals(scripted('server', turns))).toBe(true);
  });

  it('pcapng with nanosecond and microsecond interfaces round-trips timestamps', () => {
    const packets: FramedPacket[] = [
      { tsMicros: 0, tsNanos: 1_700_000_000_123_456_789n, frame: links.ethernet().frame(v4[0]!.ip), interfaceId: 0 },
      { tsMicros: 1_700_000_001_000_001, frame: links.sll().frame(v4[1]!.ip), interfaceId: 1 },
      { tsMicros: 1_700_000_002_999_999, frame: links.ethernet().frame(v6[0]!.ip), interfaceId: 0, comment: 'ipv6 syn' },
    ];
    const interfaces = [
      { linkType: 1, tsresolNanos: true, name: 'eth-ns' },
      { linkType: 113, name: 'any-us' },
    ];
    for (const bigEndian of [false, true]) {
      const file = writeCapture(`ts-${bigEndian ? 'be' : 'le'}.pcapng`, pcapngBytes(packets, { interfaces, bigEndian }));
      const rows = tsharkFields(file, ['frame.time_epoch', 'frame.interface_id', 'frame.interface_name', 'frame.comment', 'ip.src', 'ipv6.src']);
      expect(rows.map((r) => r[0]![0])).toEqual(['1700000000.123456789', '1700000001.000001000', '1700000002.999999000']);
      expect(rows.map((r) => r[1]![0])).toEqual(['0', '1', '0']);
      expect(rows.map((r) => r[2]![0])).toEqual(['eth-ns', 'any-us', 'eth-ns']);
      expect(rows[2]![3]).toEqual(['ipv6 syn']);
      expect(rows.map((r) => r[4]![0] ?? r[5]![0])).toEqual(['192.0.2.33', '203.0.113.77', '2001:db8:10::33']);
    }
  });

  it('classic pcap in nanosecond and big-endian variants keeps timestamps and lengths', () => {
    const packets: FramedPacket[] = [
      { tsMicros: 0, tsNanos: 1_700_000_000_000_000_001n, frame: v4[3]!.ip },
      { tsMicros: 1_700_000_000_500_000, frame: v4[4]!.ip },
    ];
    const file = writeCapture('ns-be.pcap', pcapBytes(packets, { linkType: 101, nanosecond: true, bigEndian: true, snaplen: 60 }));
    const rows = tsharkFields(file, ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'ip.src']);
    expect(rows.map((r) => r[0]![0])).toEqual(['1700000000.000000001', '1700000000.500000000']);
    expect(rows.map((r) => Number(r[1]![0]))).toEqual([v4[3]!.ip.length, v4[4]!.ip.length]);
    expect(rows.map((r) => Number(r[2]![0]))).toEqual([Math.min(60, v4[3]!.ip.length), Math.min(60, v4[4]!.ip.length)]);
    expect(rows[0]![3]).toEqual(['192.0.2.33']);
  });

  it('IPv4 fragments and UDP datagrams decode and reassemble', () => {
    const payload = Buffer.from(JSON.stringify({ id: 1, method: 'mining.subscribe', params: ['x'.repeat(2500)] }));
    const datagram = udpPacket({ ip: '192.0.2.5', port: 40000 }, { ip: '198.51.100.9', port: 3334 }, payload, { ipId: 0x4242 });
    const fragments = fragmentIpv4(datagram, 1200);
    const file = writeCapture('frag.pcap', pcapBytes(fragments.map((ip, i) => ({ tsMicros: start + i, frame: ip })), { linkType: 101 }));
    const rows = tsharkFields(file, ['ip.checksum.status', 'udp.length', 'udp.checksum.status', 'ip.fragment.count', 'data.data']);
    expect(rows).toHaveLength(3);
    const last = rows[2]!;
    expect(rows.every((r) => r[0]![0] === '1')).toBe(true);
    expect(last[1]).toEqual([String(payload.length + 8)]);
    expect(last[2]).toEqual(['1']);
    expect(last[3]).toEqual(['3']);
    expect(Buffer.from(last[4]![0]!.replace(/:/g, ''), 'hex').equals(payload)).toBe(true);
  });
});

describe.runIf(tcpcapinfoAvailable)('tcpreplay tools accept synthetic pcaps', () => {
  it('tcpcapinfo reads every record without complaint', () => {
    const session = tcpSession({ client: client4, server: server4, startMicros: 1_700_000_000_000_000, turns, seed: 4, retransmitProbability: 0.2 });
    for (const [name, link] of [
      ['eth', links.ethernet({ vlans: [5] })],
      ['erspan', links.greEthernetErspan2('198.51.100.1', '198.51.100.2')],
    ] as const) {
      const file = writeCapture(`tcpcapinfo-${name}.pcap`, pcapBytes(frame(session, link), { linkType: link.linkType }));
      const out = execFileSync('tcpcapinfo', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const records = out.split('\n').filter((l) => /^\d+\t/.test(l));
      expect(records).toHaveLength(session.length);
      expect(records.every((l) => /\tOK$/.test(l))).toBe(true);
    }
  });
});
