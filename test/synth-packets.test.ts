import { describe, expect, it } from 'vitest';
import { randomInt, seededRandom } from '../src/synth/rng.js';
import {
  fragmentIpv4,
  fragmentIpv6,
  ipBytes,
  ipPacket,
  mssOption,
  tcpPacket,
  udpPacket,
  TCP_ACK,
  TCP_PSH,
  TCP_SYN,
} from '../src/synth/packets.js';

/** Reference checksum written independently of the code under test: byte pairs, fold at end. */
function referenceSum(bytes: number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

const verifies = (bytes: number[]) => referenceSum(bytes) === 0xffff;

/** Pseudo-header + transport bytes of a packet, as the receiver would checksum them. */
function transportWithPseudoHeader(pkt: Buffer): { bytes: number[]; protocol: number; offset: number } {
  if (pkt[0]! >> 4 === 4) {
    const ihl = (pkt[0]! & 15) * 4;
    const segment = [...pkt.subarray(ihl, pkt.readUInt16BE(2))];
    const pseudo = [...pkt.subarray(12, 20), 0, pkt[9]!, segment.length >> 8, segment.length & 255];
    return { bytes: [...pseudo, ...segment], protocol: pkt[9]!, offset: ihl };
  }
  const segment = [...pkt.subarray(40, 40 + pkt.readUInt16BE(4))];
  const len = segment.length;
  const pseudo = [...pkt.subarray(8, 40), (len >>> 24) & 255, (len >> 16) & 255, (len >> 8) & 255, len & 255, 0, 0, 0, pkt[6]!];
  return { bytes: [...pseudo, ...segment], protocol: pkt[6]!, offset: 40 };
}

const client = { ip: '192.0.2.1', port: 40001 };
const server = { ip: '203.0.113.9', port: 3333 };
const client6 = { ip: '2001:db8::1', port: 40001 };
const server6 = { ip: '2001:db8:ffff::abcd', port: 4444 };

describe('seededRandom', () => {
  it('repeats the same sequence for the same seed and differs across seeds', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const seqA = Array.from({ length: 50 }, a);
    expect(Array.from({ length: 50 }, b)).toEqual(seqA);
    expect(Array.from({ length: 50 }, c)).not.toEqual(seqA);
  });

  it('stays in [0, 1) and spreads evenly', () => {
    const rand = seededRandom(7);
    const buckets = new Array<number>(10).fill(0);
    let min = 1;
    let max = 0;
    for (let i = 0; i < 20000; i++) {
      const x = rand();
      min = Math.min(min, x);
      max = Math.max(max, x);
      buckets[Math.floor(x * 10)]!++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    for (const n of buckets) expect(Math.abs(n - 2000)).toBeLessThan(250);
  });

  it('randomInt covers both ends of an inclusive range', () => {
    const rand = seededRandom(3);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(randomInt(rand, 1, 4));
    expect([...seen].sort()).toEqual([1, 2, 3, 4]);
  });
});

describe('address parsing', () => {
  it('expands IPv6 shorthand and embedded IPv4', () => {
    expect(ipBytes('2001:db8::1').toString('hex')).toBe('20010db8000000000000000000000001');
    expect(ipBytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(ipBytes('2001:db8:1:2:3:4:5:6').toString('hex')).toBe('20010db8000100020003000400050006');
    expect(ipBytes('::').toString('hex')).toBe('0'.repeat(32));
    expect(ipBytes('198.51.100.7').toString('hex')).toBe('c6336407');
  });

  it('rejects bad text and mixed families', () => {
    expect(() => ipBytes('192.0.2.300')).toThrow();
    expect(() => tcpPacket(client, server6, { seq: 0, ack: 0, flags: TCP_SYN })).toThrow(/families/);
  });
});

describe('tcpPacket', () => {
  it('builds an IPv4 header with correct fields and checksum', () => {
    const payload = Buffer.from('{"id":1,"method":"mining.subscribe"}\n');
    const pkt = tcpPacket(client, server, { seq: 1000, ack: 2000, flags: TCP_ACK | TCP_PSH, payload, ttl: 50, ipId: 0x1234 });
    expect(pkt[0]).toBe(0x45);
    expect(pkt.readUInt16BE(2)).toBe(pkt.length);
    expect(pkt.length).toBe(20 + 20 + payload.length);
    expect(pkt.readUInt16BE(4)).toBe(0x1234);
    expect(pkt[8]).toBe(50);
    expect(pkt[9]).toBe(6);
    expect([...pkt.subarray(12, 16)]).toEqual([192, 0, 2, 1]);
    expect([...pkt.subarray(16, 20)]).toEqual([203, 0, 113, 9]);
    expect(verifies([...pkt.subarray(0, 20)])).toBe(true);

    const tcp = pkt.subarray(20);
    expect(tcp.readUInt16BE(0)).toBe(40001);
    expect(tcp.readUInt16BE(2)).toBe(3333);
    expect(tcp.readUInt32BE(4)).toBe(1000);
    expect(tcp.readUInt32BE(8)).toBe(2000);
    expect(tcp[12]! >> 4).toBe(5);
    expect(tcp[13]).toBe(TCP_ACK | TCP_PSH);
    expect(tcp.readUInt16BE(14)).toBe(65535);
    expect(tcp.subarray(20).equals(payload)).toBe(true);
    expect(verifies(transportWithPseudoHeader(pkt).bytes)).toBe(true);
  });

  it('gets the TCP checksum right for odd and even payload lengths, options and sequence numbers past 2^31', () => {
    for (let len = 0; len < 40; len++) {
      const payload = Buffer.from(Array.from({ length: len }, (_, i) => (i * 37 + len) & 255));
      const pkt = tcpPacket(client, server, { seq: 0xfffffff0 + len, ack: 0x80000001, flags: TCP_ACK, payload, options: len % 3 ? undefined : mssOption(1400) });
      expect(verifies(transportWithPseudoHeader(pkt).bytes)).toBe(true);
      expect(pkt.readUInt32BE(24)).toBe((0xfffffff0 + len) >>> 0);
    }
  });

  it('pads options to a 4-byte multiple and counts them in the data offset', () => {
    const pkt = tcpPacket(client, server, { seq: 1, ack: 0, flags: TCP_SYN, options: Buffer.from([1, 1, 4, 2, 8]) });
    expect(pkt[20 + 12]! >> 4).toBe(7);
    expect([...pkt.subarray(40, 48)]).toEqual([1, 1, 4, 2, 8, 0, 0, 0]);
    expect(verifies(transportWithPseudoHeader(pkt).bytes)).toBe(true);
  });

  it('builds IPv6 packets with a valid TCP checksum', () => {
    const payload = Buffer.from('odd-length!');
    const pkt = tcpPacket(client6, server6, { seq: 5, ack: 6, flags: TCP_ACK, payload, ttl: 33 });
    expect(pkt[0]! >> 4).toBe(6);
    expect(pkt.readUInt16BE(4)).toBe(20 + payload.length);
    expect(pkt[6]).toBe(6);
    expect(pkt[7]).toBe(33);
    expect(pkt.subarray(8, 24).equals(ipBytes('2001:db8::1'))).toBe(true);
    expect(pkt.subarray(24, 40).equals(ipBytes('2001:db8:ffff::abcd'))).toBe(true);
    expect(verifies(transportWithPseudoHeader(pkt).bytes)).toBe(true);
  });
});

describe('udpPacket', () => {
  it('fills length and checksum for IPv4 and IPv6', () => {
    for (const [src, dst] of [
      [client, server],
      [client6, server6],
    ] as const) {
      const payload = Buffer.from('{"jsonrpc":"2.0","method":"mining.notify"}');
      const pkt = udpPacket(src, dst, payload);
      const { bytes, protocol, offset } = transportWithPseudoHeader(pkt);
      expect(protocol).toBe(17);
      expect(pkt.readUInt16BE(offset + 4)).toBe(8 + payload.length);
      expect(pkt.readUInt16BE(offset + 6)).not.toBe(0);
      expect(verifies(bytes)).toBe(true);
    }
  });

  it('sends a computed zero checksum as 0xFFFF', () => {
    // Find the payload word that makes the sum come out as zero, then check the encoding.
    const probe = udpPacket(client, server, Buffer.alloc(2));
    const partial = ~probe.readUInt16BE(26) & 0xffff;
    const word = (0xffff - partial) & 0xffff;
    const pkt = udpPacket(client, server, Buffer.from([word >> 8, word & 255]));
    expect(pkt.readUInt16BE(26)).toBe(0xffff);
    expect(verifies(transportWithPseudoHeader(pkt).bytes)).toBe(true);
  });
});

describe('fragmentIpv4', () => {
  const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 255));
  const original = udpPacket(client, server, payload, { ipId: 0xbeef });

  it('splits into valid fragments that reassemble to the original datagram', () => {
    const frags = fragmentIpv4(original, 256);
    expect(frags).toHaveLength(Math.ceil((8 + payload.length) / 256));
    const reassembled = Buffer.alloc(8 + payload.length);
    frags.forEach((f, i) => {
      expect(verifies([...f.subarray(0, 20)])).toBe(true);
      expect(f.readUInt16BE(2)).toBe(f.length);
      expect(f.readUInt16BE(4)).toBe(0xbeef);
      const flags = f.readUInt16BE(6);
      const offset = (flags & 0x1fff) * 8;
      expect(offset).toBe(i * 256);
      expect((flags & 0x2000) !== 0).toBe(i < frags.length - 1);
      f.subarray(20).copy(reassembled, offset);
    });
    expect(reassembled.equals(original.subarray(20))).toBe(true);
  });

  it('keeps offsets relative to the datagram when re-fragmenting a fragment', () => {
    const [first, second] = fragmentIpv4(original, 512);
    const pieces = fragmentIpv4(second!, 128);
    expect(pieces.map((p) => (p.readUInt16BE(6) & 0x1fff) * 8)).toEqual([512, 640, 768, 896]);
    expect(pieces.slice(0, -1).every((p) => (p.readUInt16BE(6) & 0x2000) !== 0)).toBe(true);
    expect(pieces.at(-1)!.readUInt16BE(6) & 0x2000).toBe(0);
    const refragmented = fragmentIpv4(first!, 128);
    expect(refragmented.every((p) => (p.readUInt16BE(6) & 0x2000) !== 0)).toBe(true);
  });

  it('drops options without the copy bit from later fragments', () => {
    // Hand-made header with two options: copied (0x83, loose source route style) and not (0x07).
    const base = ipPacket('192.0.2.1', '203.0.113.9', 17, Buffer.alloc(64, 0xab));
    const withOptions = Buffer.concat([base.subarray(0, 20), Buffer.from([0x07, 4, 1, 2, 0x83, 4, 3, 4]), base.subarray(20)]);
    withOptions[0] = 0x47;
    withOptions.writeUInt16BE(withOptions.length, 2);
    const frags = fragmentIpv4(withOptions, 32);
    expect(frags[0]![0]! & 15).toBe(7);
    expect(frags[1]![0]! & 15).toBe(6);
    expect([...frags[1]!.subarray(20, 24)]).toEqual([0x83, 4, 3, 4]);
    for (const f of frags) expect(verifies([...f.subarray(0, (f[0]! & 15) * 4)])).toBe(true);
  });

  it('rejects sizes that are not multiples of 8', () => {
    expect(() => fragmentIpv4(original, 100)).toThrow(/multiple of 8/);
  });
});

describe('fragmentIpv6', () => {
  it('inserts fragment headers that reassemble to the original payload', () => {
    const original = udpPacket(client6, server6, Buffer.alloc(300, 0x5a));
    const frags = fragmentIpv6(original, 128, 0xcafe);
    expect(frags).toHaveLength(3);
    const reassembled = Buffer.alloc(original.length - 40);
    frags.forEach((f, i) => {
      expect(f[6]).toBe(44);
      expect(f.readUInt16BE(4)).toBe(f.length - 40);
      expect(f[40]).toBe(17);
      const field = f.readUInt16BE(42);
      expect(field & 0xfff8).toBe(i * 128);
      expect(field & 1).toBe(i < 2 ? 1 : 0);
      expect(f.readUInt32BE(44)).toBe(0xcafe);
      f.subarray(48).copy(reassembled, field & 0xfff8);
    });
    expect(reassembled.equals(original.subarray(40))).toBe(true);
  });
});
