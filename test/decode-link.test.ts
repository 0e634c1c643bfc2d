import { describe, expect, it } from 'vitest';
import { Decoder } from '../src/decode/decoder.js';
import { DecodedPacket, TCP_ACK, TCP_PSH } from '../src/decode/types.js';
import {
  bytes,
  ciscoHdlc,
  decodeFrame,
  ethernet,
  ipv4,
  ipv6,
  loopLink,
  mpls,
  nullLink,
  ppi,
  ppp,
  pppoe,
  pwControlWord,
  sll,
  sll2,
  tcp,
  udp,
} from './support/frames.js';

const LOGIN = '{"id":1,"method":"login","params":{}}\n';

/** IPv4/TCP from 192.0.2.10:50000 to 203.0.113.5:3333 carrying LOGIN. */
function tcp4(payload = LOGIN): Buffer {
  return ipv4(
    { src: '192.0.2.10', dst: '203.0.113.5', protocol: 6 },
    tcp({ srcPort: 50000, dstPort: 3333, seq: 0xfffffff0, ack: 0x80000001, flags: TCP_PSH | TCP_ACK }, payload),
  );
}

/** IPv6/UDP from 2001:db8::10 port 40000 to 2001:db8:1::5 port 3333. */
function udp6(payload = 'hello'): Buffer {
  return ipv6({ src: '2001:db8::10', dst: '2001:db8:1::5', next: 17 }, udp({ srcPort: 40000, dstPort: 3333 }, payload));
}

function expectTcp4(result: ReturnType<typeof decodeFrame>): void {
  expect(result.ok).toBe(true);
  const p = result.packet;
  expect(p.ipVersion).toBe(4);
  expect(result.src).toBe('192.0.2.10');
  expect(result.dst).toBe('203.0.113.5');
  expect(Array.from(p.src)).toEqual([0xc000020a, 0, 0, 0]);
  expect(p.protocol).toBe(6);
  expect(p.srcPort).toBe(50000);
  expect(p.dstPort).toBe(3333);
  expect(p.seq).toBe(0xfffffff0);
  expect(p.ack).toBe(0x80000001);
  expect(p.tcpFlags).toBe(TCP_PSH | TCP_ACK);
  expect(result.payload).toBe(LOGIN);
  expect(result.decoder.stats.decoded).toBe(1);
}

function expectUdp6(result: ReturnType<typeof decodeFrame>, payload = 'hello'): void {
  expect(result.ok).toBe(true);
  const p = result.packet;
  expect(p.ipVersion).toBe(6);
  expect(result.src).toBe('2001:db8::10');
  expect(result.dst).toBe('2001:db8:1::5');
  expect(p.protocol).toBe(17);
  expect(p.srcPort).toBe(40000);
  expect(p.dstPort).toBe(3333);
  expect(p.tcpFlags).toBe(0);
  expect(result.payload).toBe(payload);
}

describe('Ethernet', () => {
  it('decodes IPv4/TCP with every field', () => {
    const result = decodeFrame(1, ethernet(0x0800, tcp4()));
    expectTcp4(result);
    expect(result.packet.tunnelDepth).toBe(0);
    expect(result.packet.vlanId).toBe(-1);
  });

  it('decodes IPv6/UDP', () => {
    expectUdp6(decodeFrame(1, ethernet(0x86dd, udp6())));
  });

  it('trims Ethernet padding using the IP total length', () => {
    const frame = ethernet(0x0800, tcp4(''), { padTo: 60 });
    expect(frame.length).toBe(60);
    const result = decodeFrame(1, frame);
    expect(result.ok).toBe(true);
    expect(result.packet.payloadLength).toBe(0);
  });

  it('trims padding and trailing FCS after IPv6 using the payload length', () => {
    const frame = bytes(ethernet(0x86dd, udp6('x')), [0xde, 0xad, 0xbe, 0xef]);
    const result = decodeFrame(1, frame);
    expectUdp6(result, 'x');
  });

  it('records the outermost VLAN id across stacked tags of every TPID', () => {
    const frame = ethernet(0x0800, tcp4(), {
      vlans: [
        { tpid: 0x88a8, id: 100 },
        { tpid: 0x9100, id: 200 },
        { tpid: 0x8100, id: 300, priority: 5 },
      ],
    });
    const result = decodeFrame(1, frame);
    expectTcp4(result);
    expect(result.packet.vlanId).toBe(100);
  });

  it('masks the priority bits out of the VLAN id', () => {
    const result = decodeFrame(1, ethernet(0x86dd, udp6(), { vlans: [{ id: 4094, priority: 7 }] }));
    expectUdp6(result);
    expect(result.packet.vlanId).toBe(4094);
  });

  it('decodes MPLS label stacks down to the bottom of stack', () => {
    expectTcp4(decodeFrame(1, ethernet(0x8847, mpls([16, 17, 18], tcp4()))));
    expectUdp6(decodeFrame(1, ethernet(0x8848, mpls([1000], udp6()))));
  });

  it('decodes an Ethernet pseudowire with a control word inside MPLS', () => {
    const inner = ethernet(0x0800, tcp4(), { vlans: [{ id: 42 }] });
    const result = decodeFrame(1, ethernet(0x8847, mpls([100, 200], pwControlWord(inner)), { vlans: [{ id: 7 }] }));
    expectTcp4(result);
    expect(result.packet.tunnelDepth).toBe(1);
    expect(result.packet.vlanId).toBe(7);
  });

  it('decodes PPPoE sessions carrying IPv4 and IPv6', () => {
    expectTcp4(decodeFrame(1, ethernet(0x8864, pppoe(0x0021, tcp4()))));
    expectUdp6(decodeFrame(1, ethernet(0x8864, pppoe(0x0057, udp6()))));
  });

  it('decodes LLC/SNAP-encapsulated IP', () => {
    const snap = bytes([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00], tcp4());
    expectTcp4(decodeFrame(1, ethernet(snap.length, snap)));
  });

  it('counts ARP, LLDP and plain LLC as non-IP', () => {
    const decoder = new Decoder();
    expect(decodeFrame(1, ethernet(0x0806, Buffer.alloc(28)), decoder).ok).toBe(false);
    expect(decodeFrame(1, ethernet(0x88cc, Buffer.alloc(20)), decoder).ok).toBe(false);
    expect(decodeFrame(1, ethernet(3, [0x42, 0x42, 0x03]), decoder).ok).toBe(false);
    expect(decodeFrame(1, ethernet(0x8864, pppoe(0xc021, Buffer.alloc(8))), decoder).ok).toBe(false);
    expect(decoder.stats.nonIp).toBe(4);
    expect(decoder.stats.malformed).toBe(0);
  });

  it('counts truncated link headers as malformed', () => {
    const decoder = new Decoder();
    const full = ethernet(0x0800, tcp4(), { vlans: [{ id: 5 }] });
    for (const length of [0, 6, 13, 17]) {
      expect(decoder.decode(1, full, 0, length, 0, new DecodedPacket())).toBe(false);
    }
    expect(decodeFrame(1, ethernet(0x8847, [0, 0, 0, 0]), decoder).ok).toBe(false); // no bottom of stack
    expect(decodeFrame(1, ethernet(0x8864, pppoe(0x0021, tcp4()).subarray(0, 20)), decoder).ok).toBe(false);
    expect(decoder.stats.malformed).toBe(6);
  });
});

describe('other link types', () => {
  it('decodes BSD NULL in either byte order', () => {
    expectTcp4(decodeFrame(0, nullLink(2, tcp4(), true)));
    expectTcp4(decodeFrame(0, nullLink(2, tcp4(), false)));
    for (const family of [24, 28, 30]) {
      expectUdp6(decodeFrame(0, nullLink(family, udp6(), true)));
      expectUdp6(decodeFrame(0, nullLink(family, udp6(), false)));
    }
  });

  it('decodes LOOP with the family in network order', () => {
    expectTcp4(decodeFrame(108, loopLink(2, tcp4())));
    expectUdp6(decodeFrame(108, loopLink(24, udp6())));
    const wrongOrder = decodeFrame(108, nullLink(2, tcp4(), true));
    expect(wrongOrder.ok).toBe(false);
    expect(wrongOrder.decoder.stats.nonIp).toBe(1);
  });

  it('counts unknown BSD address families as non-IP', () => {
    const result = decodeFrame(0, nullLink(7, tcp4()));
    expect(result.ok).toBe(false);
    expect(result.decoder.stats.nonIp).toBe(1);
  });

  it.each([101, 12, 14])('decodes raw IP (link type %i) by version nibble', (linkType) => {
    expectTcp4(decodeFrame(linkType, tcp4()));
    expectUdp6(decodeFrame(linkType, udp6()));
  });

  it('decodes the IPv4-only and IPv6-only raw link types', () => {
    expectTcp4(decodeFrame(228, tcp4()));
    expectUdp6(decodeFrame(229, udp6()));
    const mismatch = decodeFrame(228, udp6());
    expect(mismatch.ok).toBe(false);
    expect(mismatch.decoder.stats.malformed).toBe(1);
  });

  it('decodes Linux SLL and SLL2', () => {
    expectTcp4(decodeFrame(113, sll(0x0800, tcp4())));
    expectUdp6(decodeFrame(113, sll(0x86dd, udp6())));
    expectTcp4(decodeFrame(276, sll2(0x0800, tcp4())));
    expectUdp6(decodeFrame(276, sll2(0x86dd, udp6())));
    const tagged = decodeFrame(113, sll(0x8100, bytes([0x00, 0x0a, 0x08, 0x00], tcp4())));
    expectTcp4(tagged);
    expect(tagged.packet.vlanId).toBe(10);
  });

  it('decodes PPP with and without address/control and with a compressed protocol', () => {
    expectTcp4(decodeFrame(9, ppp(0x0021, tcp4())));
    expectTcp4(decodeFrame(9, ppp(0x0021, tcp4(), { addressControl: false })));
    expectTcp4(decodeFrame(9, ppp(0x0021, tcp4(), { compressed: true })));
    expectUdp6(decodeFrame(9, ppp(0x0057, udp6(), { addressControl: false, compressed: true })));
    expectTcp4(decodeFrame(50, ppp(0x0021, tcp4())));
    expectUdp6(decodeFrame(50, ppp(0x0057, udp6())));
    expectTcp4(decodeFrame(9, ppp(0x0281, mpls([20], tcp4()))));
  });

  it('decodes Cisco HDLC under link types 50 and 104', () => {
    expectTcp4(decodeFrame(50, ciscoHdlc(0x0800, tcp4())));
    expectUdp6(decodeFrame(104, ciscoHdlc(0x86dd, udp6())));
  });

  it('counts PPP control protocols as non-IP', () => {
    const result = decodeFrame(9, ppp(0xc021, Buffer.alloc(4)));
    expect(result.ok).toBe(false);
    expect(result.decoder.stats.nonIp).toBe(1);
  });

  it('decodes PPI by its inner link type, with extra PPI fields skipped', () => {
    expectTcp4(decodeFrame(192, ppi(1, ethernet(0x0800, tcp4()))));
    expectUdp6(decodeFrame(192, ppi(101, udp6(), Buffer.alloc(24, 0x77))));
  });

  it('rejects PPI inside PPI and bad PPI header lengths', () => {
    const nested = decodeFrame(192, ppi(192, ppi(1, ethernet(0x0800, tcp4()))));
    expect(nested.ok).toBe(false);
    expect(nested.decoder.stats.unknownLinkType).toBe(1);
    const tooLong = ppi(1, ethernet(0x0800, tcp4()));
    tooLong.writeUInt16LE(tooLong.length + 1, 2);
    const result = decodeFrame(192, tooLong);
    expect(result.ok).toBe(false);
    expect(result.decoder.stats.malformed).toBe(1);
  });

  it('counts unknown link types', () => {
    const decoder = new Decoder();
    for (const linkType of [105, 127, 147, -1, 65536]) expect(decodeFrame(linkType, tcp4(), decoder).ok).toBe(false);
    expect(decoder.stats.unknownLinkType).toBe(5);
    expect(decoder.stats.decoded).toBe(0);
  });

  it('decodes a frame in the middle of a larger chunk', () => {
    const frame = ethernet(0x0800, tcp4());
    const chunk = bytes(Buffer.alloc(37, 0xff), frame, Buffer.alloc(11, 0xff));
    const packet = new DecodedPacket();
    const decoder = new Decoder();
    expect(decoder.decode(1, chunk, 37, frame.length, 0, packet)).toBe(true);
    expect(packet.buf).toBe(chunk);
    expect(chunk.toString('latin1', packet.payloadOffset, packet.payloadOffset + packet.payloadLength)).toBe(LOGIN);
    expect(decoder.decode(1, chunk, 40, chunk.length, 0, packet)).toBe(false);
    expect(decoder.decode(1, chunk, -1, 10, 0, packet)).toBe(false);
    expect(decoder.decode(1, chunk, 1.5, 10, 0, packet)).toBe(false);
    expect(decoder.stats.malformed).toBe(3);
  });

  it('resets every field of a reused packet', () => {
    const decoder = new Decoder();
    const packet = new DecodedPacket();
    const vlanFrame = ethernet(0x0800, tcp4(), { vlans: [{ id: 9 }] });
    expect(decoder.decode(1, vlanFrame, 0, vlanFrame.length, 0, packet)).toBe(true);
    const arp = ethernet(0x0806, Buffer.alloc(28));
    expect(decoder.decode(1, arp, 0, arp.length, 0, packet)).toBe(false);
    expect(packet.ipVersion).toBe(0);
    expect(packet.vlanId).toBe(-1);
    expect(packet.srcPort).toBe(0);
    expect(packet.seq).toBe(0);
    expect(packet.payloadLength).toBe(0);
    const plain = ethernet(0x86dd, udp6());
    expect(decoder.decode(1, plain, 0, plain.length, 0, packet)).toBe(true);
    expect(packet.tcpFlags).toBe(0);
    expect(packet.ack).toBe(0);
  });
});
