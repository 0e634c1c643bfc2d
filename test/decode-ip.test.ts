import { describe, expect, it } from 'vitest';
import { Decoder } from '../src/decode/decoder.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../src/decode/types.js';
import {
  ah,
  bytes,
  decodeFrame,
  ethernet,
  ipv4,
  ipv6,
  ipv6Fragment,
  ipv6Options,
  ipv6Routing,
  tcp,
  udp,
} from './support/frames.js';

const V4 = { src: '198.51.100.1', dst: '198.51.100.2' };
const V6 = { src: '2001:db8::a', dst: '2001:db8::b' };

describe('IPv4', () => {
  it('skips IP options using the IHL', () => {
    const options = [0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00]; // router alert, NOPs, EOL
    const frame = ethernet(0x0800, ipv4({ ...V4, protocol: 6, options }, tcp({ srcPort: 1, dstPort: 2 }, 'data')));
    const result = decodeFrame(1, frame);
    expect(result.ok).toBe(true);
    expect(result.src).toBe('198.51.100.1');
    expect(result.dst).toBe('198.51.100.2');
    expect(result.payload).toBe('data');
  });

  it('uses the maximum IHL of 60 bytes', () => {
    const frame = ipv4({ ...V4, protocol: 17, options: Buffer.alloc(40, 1) }, udp({ srcPort: 9, dstPort: 10 }, 'x'));
    const result = decodeFrame(101, frame);
    expect(result.ok).toBe(true);
    expect(result.packet.srcPort).toBe(9);
    expect(result.payload).toBe('x');
  });

  it('decodes a packet the snap length cut short from what was captured, and says how much is missing', () => {
    const decoder = new Decoder();
    const whole = ipv4({ ...V4, protocol: 6 }, tcp({ srcPort: 1, dstPort: 2 }, 'abcdefghij'));
    const result = decodeFrame(228, whole.subarray(0, whole.length - 6), decoder);
    expect(result.ok).toBe(true);
    expect(result.payload).toBe('abcd');
    expect(result.packet.payloadMissing).toBe(6);
    expect(decoder.stats.snapTruncated).toBe(1);
    // A cut fragment cannot be completed: still malformed.
    const fragment = ipv4({ ...V4, protocol: 6, moreFragments: true }, tcp({ srcPort: 1, dstPort: 2 }, 'abcdefghij'));
    expect(decodeFrame(228, fragment.subarray(0, fragment.length - 6), decoder).ok).toBe(false);
    expect(decoder.stats.malformed).toBe(1);
  });

  it('counts a bad version, IHL < 5, and total lengths out of bounds as malformed', () => {
    const decoder = new Decoder();
    const segment = tcp({ srcPort: 1, dstPort: 2 }, 'abc');
    const broken = [
      ipv4({ ...V4, protocol: 6, version: 5 }, segment),
      ipv4({ ...V4, protocol: 6, ihl: 4 }, segment),
      ipv4({ ...V4, protocol: 6, ihl: 0 }, segment),
      ipv4({ ...V4, protocol: 6, ihl: 15 }, Buffer.alloc(10)), // header longer than the packet
      ipv4({ ...V4, protocol: 6, totalLength: 19 }, segment), // shorter than the header
      ipv4({ ...V4, protocol: 6 }, segment).subarray(0, 19), // truncated header
    ];
    for (const packet of broken) expect(decodeFrame(228, packet, decoder).ok).toBe(false);
    expect(decoder.stats.malformed).toBe(broken.length);
    expect(decoder.stats.decoded).toBe(0);
  });

  it('takes a total length of 0 (TSO) to mean the rest of the frame', () => {
    const result = decodeFrame(228, ipv4({ ...V4, protocol: 6, totalLength: 0 }, tcp({ srcPort: 1, dstPort: 2 }, 'tso')));
    expect(result.ok).toBe(true);
    expect(result.payload).toBe('tso');
  });

  it('counts ICMP and ESP as other transports', () => {
    const decoder = new Decoder();
    expect(decodeFrame(228, ipv4({ ...V4, protocol: 1 }, [8, 0, 0, 0, 0, 1, 0, 1]), decoder).ok).toBe(false);
    const esp = decodeFrame(228, ipv4({ ...V4, protocol: 50 }, Buffer.alloc(16)), decoder);
    expect(esp.ok).toBe(false);
    expect(esp.packet.protocol).toBe(50);
    expect(esp.packet.ipVersion).toBe(4);
    expect(decoder.stats.otherTransport).toBe(2);
    expect(decoder.stats.malformed).toBe(0);
  });

  it('does not treat IPv6 extension header numbers as such inside IPv4', () => {
    const result = decodeFrame(228, ipv4({ ...V4, protocol: 0 }, ipv6Options(6, tcp({ srcPort: 1, dstPort: 2 }))));
    expect(result.ok).toBe(false);
    expect(result.decoder.stats.otherTransport).toBe(1);
  });

  it('walks AH in IPv4', () => {
    const result = decodeFrame(228, ipv4({ ...V4, protocol: 51 }, ah(6, tcp({ srcPort: 5, dstPort: 6 }, 'after-ah'))));
    expect(result.ok).toBe(true);
    expect(result.payload).toBe('after-ah');
  });
});

describe('IPv6', () => {
  const segment = () => tcp({ srcPort: 4444, dstPort: 3333, seq: 7, ack: 9, flags: TCP_ACK }, 'v6-data');

  it('decodes addresses in RFC 5952 form', () => {
    const result = decodeFrame(229, ipv6({ src: '2001:db8:0:0:1:0:0:1', dst: '2001:db8:ffff::', next: 6 }, segment()));
    expect(result.ok).toBe(true);
    expect(result.src).toBe('2001:db8::1:0:0:1');
    expect(result.dst).toBe('2001:db8:ffff::');
    expect(Array.from(result.packet.dst)).toEqual([0x20010db8, 0xffff0000, 0, 0]);
  });

  it('walks hop-by-hop, routing, destination options and AH headers', () => {
    const chain = ipv6Options(43, ipv6Routing(60, ipv6Options(51, ah(6, segment()), 14)));
    const result = decodeFrame(229, ipv6({ ...V6, next: 0 }, chain));
    expect(result.ok).toBe(true);
    expect(result.packet.srcPort).toBe(4444);
    expect(result.packet.seq).toBe(7);
    expect(result.packet.ack).toBe(9);
    expect(result.payload).toBe('v6-data');
  });

  it('accepts an atomic fragment header as a whole datagram', () => {
    const result = decodeFrame(229, ipv6({ ...V6, next: 44 }, ipv6Fragment(6, 0, false, 99, segment())));
    expect(result.ok).toBe(true);
    expect(result.payload).toBe('v6-data');
    expect(result.decoder.stats.fragments).toBe(0);
  });

  it('counts no-next-header and ICMPv6 as other transports', () => {
    const decoder = new Decoder();
    expect(decodeFrame(229, ipv6({ ...V6, next: 59 }, []), decoder).ok).toBe(false);
    expect(decodeFrame(229, ipv6({ ...V6, next: 60 }, ipv6Options(58, [128, 0, 0, 0])), decoder).ok).toBe(false);
    expect(decoder.stats.otherTransport).toBe(2);
  });

  it('counts truncated headers and extension headers as malformed', () => {
    const decoder = new Decoder();
    const whole = ipv6({ ...V6, next: 0 }, ipv6Options(6, segment(), 14));
    const cases = [
      whole.subarray(0, 39),
      ipv6({ ...V6, next: 0 }, [6]), // extension header cut short
      ipv6({ ...V6, next: 0 }, [6, 3, 1, 0, 0, 0, 0, 0]), // says 32 bytes, has 8
      ipv6({ ...V6, next: 51 }, [6, 200, 0, 0, 0, 0, 0, 0]), // AH longer than the packet
    ];
    for (const packet of cases) expect(decodeFrame(229, packet, decoder).ok).toBe(false);
    expect(decoder.stats.malformed).toBe(cases.length);
  });

  it('uses the payload length, not the frame end', () => {
    const packet = bytes(ipv6({ ...V6, next: 17 }, udp({ srcPort: 1, dstPort: 2 }, 'abc')), 'trailer');
    const result = decodeFrame(229, packet);
    expect(result.ok).toBe(true);
    expect(result.payload).toBe('abc');
  });
});

describe('TCP', () => {
  it('reads flags, sequence numbers over 2^31, options and the payload window', () => {
    const segment = tcp(
      { srcPort: 65535, dstPort: 1, seq: 0xffffffff, ack: 0x80000000, flags: TCP_SYN | TCP_ACK, options: [2, 4, 5, 0xb4, 1, 3, 3, 7] },
      'payload-after-options',
    );
    const result = decodeFrame(228, ipv4({ ...V4, protocol: 6 }, segment));
    expect(result.ok).toBe(true);
    const p = result.packet;
    expect(p.srcPort).toBe(65535);
    expect(p.dstPort).toBe(1);
    expect(p.seq).toBe(0xffffffff);
    expect(p.ack).toBe(0x80000000);
    expect(p.tcpFlags).toBe(TCP_SYN | TCP_ACK);
    expect(result.payload).toBe('payload-after-options');
    expect(p.payloadOffset).toBe(20 + 28);
  });

  it('reports a zero-length payload for bare control segments', () => {
    const result = decodeFrame(228, ipv4({ ...V4, protocol: 6 }, tcp({ srcPort: 1, dstPort: 2, flags: TCP_FIN | TCP_RST })));
    expect(result.ok).toBe(true);
    expect(result.packet.tcpFlags).toBe(TCP_FIN | TCP_RST);
    expect(result.packet.payloadLength).toBe(0);
  });

  it('counts truncated headers and bad data offsets as malformed', () => {
    const decoder = new Decoder();
    const cases = [
      ipv4({ ...V4, protocol: 6 }, tcp({ srcPort: 1, dstPort: 2 }).subarray(0, 19)),
      ipv4({ ...V4, protocol: 6 }, tcp({ srcPort: 1, dstPort: 2, dataOffset: 4 })),
      ipv4({ ...V4, protocol: 6 }, tcp({ srcPort: 1, dstPort: 2, dataOffset: 6 })),
    ];
    for (const packet of cases) expect(decodeFrame(228, packet, decoder).ok).toBe(false);
    expect(decoder.stats.malformed).toBe(3);
  });
});

describe('UDP', () => {
  it('bounds the payload by the UDP length', () => {
    const datagram = bytes(udp({ srcPort: 53, dstPort: 5353, length: 8 + 3 }, 'abc'), 'junk');
    const result = decodeFrame(228, ipv4({ ...V4, protocol: 17 }, datagram));
    expect(result.ok).toBe(true);
    expect(result.packet.srcPort).toBe(53);
    expect(result.packet.dstPort).toBe(5353);
    expect(result.payload).toBe('abc');
  });

  it('counts UDP lengths under 8 or beyond the packet as malformed', () => {
    const decoder = new Decoder();
    const cases = [
      ipv4({ ...V4, protocol: 17 }, udp({ srcPort: 1, dstPort: 2, length: 7 }, 'abc')),
      ipv4({ ...V4, protocol: 17 }, udp({ srcPort: 1, dstPort: 2, length: 100 }, 'abc')),
      ipv4({ ...V4, protocol: 17 }, udp({ srcPort: 1, dstPort: 2 }).subarray(0, 7)),
      ipv4({ ...V4, protocol: 17 }, udp({ srcPort: 1, dstPort: 2, length: 0 }, 'abc')),
    ];
    for (const packet of cases) expect(decodeFrame(228, packet, decoder).ok).toBe(false);
    expect(decoder.stats.malformed).toBe(4);
  });

  it('takes UDP length 0 in IPv6 as the rest of the packet (jumbogram style)', () => {
    const result = decodeFrame(229, ipv6({ ...V6, next: 17 }, udp({ srcPort: 1, dstPort: 2, length: 0 }, 'big')));
    expect(result.ok).toBe(true);
    expect(result.payload).toBe('big');
  });
});
