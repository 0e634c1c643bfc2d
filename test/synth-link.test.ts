import { describe, expect, it } from 'vitest';
import { links } from '../src/synth/link.js';
import { tcpPacket, TCP_ACK } from '../src/synth/packets.js';

const a = { ip: '192.0.2.7', port: 40007 };
const b = { ip: '203.0.113.8', port: 3333 };
const ip4 = tcpPacket(a, b, { seq: 1, ack: 2, flags: TCP_ACK, payload: Buffer.from('{"method":"login"}\n') });
const ip4Back = tcpPacket(b, a, { seq: 2, ack: 1, flags: TCP_ACK });
const ip6 = tcpPacket({ ip: '2001:db8::7', port: 40007 }, { ip: '2001:db8::8', port: 3333 }, { seq: 1, ack: 2, flags: TCP_ACK });

function headerChecksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/** Outer Ethernet + IPv4 of a tunnel frame: checks the outer layers and returns what they carry. */
function outerIpv4(frame: Buffer, outerSrc: string, outerDst: string) {
  expect(frame.readUInt16BE(12)).toBe(0x0800);
  const ip = frame.subarray(14);
  expect(ip[0]).toBe(0x45);
  expect(ip.readUInt16BE(2)).toBe(ip.length);
  expect(headerChecksumOk(ip.subarray(0, 20))).toBe(true);
  expect([...ip.subarray(12, 16)].join('.')).toBe(outerSrc);
  expect([...ip.subarray(16, 20)].join('.')).toBe(outerDst);
  return { protocol: ip[9]!, payload: ip.subarray(20), ipId: ip.readUInt16BE(4) };
}

describe('plain link layers', () => {
  it('ethernet picks the EtherType from the IP version and mirrors MACs per host', () => {
    const eth = links.ethernet();
    expect(eth.linkType).toBe(1);
    const f = eth.frame(ip4);
    expect(f.readUInt16BE(12)).toBe(0x0800);
    expect(f.subarray(14).equals(ip4)).toBe(true);
    expect(f.subarray(0, 5).toString('hex')).toBe('00005e0053');
    expect(f.subarray(6, 11).toString('hex')).toBe('00005e0053');
    const back = eth.frame(ip4Back);
    expect(back.subarray(0, 6).equals(f.subarray(6, 12))).toBe(true);
    expect(back.subarray(6, 12).equals(f.subarray(0, 6))).toBe(true);
    expect(eth.frame(ip6).readUInt16BE(12)).toBe(0x86dd);
  });

  it('ethernet stacks VLAN tags, outermost first, with 802.1ad for QinQ', () => {
    const single = links.ethernet({ vlans: [100] }).frame(ip4);
    expect([single.readUInt16BE(12), single.readUInt16BE(14), single.readUInt16BE(16)]).toEqual([0x8100, 100, 0x0800]);
    const qinq = links.ethernet({ vlans: [10, 20], qinq: true }).frame(ip6);
    expect([12, 14, 16, 18, 20].map((o) => qinq.readUInt16BE(o))).toEqual([0x88a8, 10, 0x8100, 20, 0x86dd]);
    expect(qinq.subarray(22).equals(ip6)).toBe(true);
  });

  it('ethernet pads short frames to 60 bytes when asked', () => {
    const small = links.ethernet({ padToMinimum: true }).frame(ip4Back);
    expect(small.length).toBe(60);
    expect(small.subarray(14, 14 + ip4Back.length).equals(ip4Back)).toBe(true);
    expect(small.subarray(14 + ip4Back.length).every((x) => x === 0)).toBe(true);
  });

  it('raw IP is the packet itself', () => {
    expect(links.rawIp().linkType).toBe(101);
    expect(links.rawIp().frame(ip6).equals(ip6)).toBe(true);
  });

  it('SLL and SLL2 carry the protocol and address in their fixed headers', () => {
    const sll = links.sll();
    expect(sll.linkType).toBe(113);
    const f1 = sll.frame(ip6);
    expect([f1.readUInt16BE(2), f1.readUInt16BE(4), f1.readUInt16BE(14)]).toEqual([1, 6, 0x86dd]);
    expect(f1.subarray(16).equals(ip6)).toBe(true);

    const sll2 = links.sll2();
    expect(sll2.linkType).toBe(276);
    const f2 = sll2.frame(ip4);
    expect([f2.readUInt16BE(0), f2.readUInt16BE(2), f2.readUInt32BE(4), f2.readUInt16BE(8), f2[11]]).toEqual([0x0800, 0, 1, 1, 6]);
    expect(f2.subarray(20).equals(ip4)).toBe(true);
  });

  it('NULL uses host-order address families, LOOP network order', () => {
    const nul = links.nullLoop();
    expect(nul.linkType).toBe(0);
    expect(nul.frame(ip4).readUInt32LE(0)).toBe(2);
    expect(nul.frame(ip6).readUInt32LE(0)).toBe(24);
    expect(links.nullLoop({ bigEndian: true, inet6Family: 30 }).frame(ip6).readUInt32BE(0)).toBe(30);
    const lo = links.loop();
    expect(lo.linkType).toBe(108);
    expect(lo.frame(ip4).readUInt32BE(0)).toBe(2);
    expect(lo.frame(ip4).subarray(4).equals(ip4)).toBe(true);
  });

  it('MPLS writes the label stack with bottom-of-stack only on the last label', () => {
    const f = links.mpls([16, 1048575]).frame(ip4);
    expect(f.readUInt16BE(12)).toBe(0x8847);
    const [first, second] = [f.readUInt32BE(14), f.readUInt32BE(18)];
    expect([first >>> 12, (first >> 8) & 1, first & 255]).toEqual([16, 0, 64]);
    expect([second >>> 12, (second >> 8) & 1, second & 255]).toEqual([1048575, 1, 64]);
    expect(f.subarray(22).equals(ip4)).toBe(true);
    expect(() => links.mpls([])).toThrow();
  });
});

describe('tunnels', () => {
  const o1 = '198.51.100.1';
  const o2 = '198.51.100.2';
  const innerEth = links.ethernet().frame(ip4);

  it('ERSPAN II: GRE with sequence numbers, protocol 0x88BE, 8-byte header, inner Ethernet', () => {
    const link = links.greEthernetErspan2(o1, o2, { sessionId: 77 });
    expect(link.linkType).toBe(1);
    const frames = [link.frame(ip4), link.frame(ip4)];
    frames.forEach((f, i) => {
      const { protocol, payload } = outerIpv4(f, o1, o2);
      expect(protocol).toBe(47);
      expect(payload.readUInt16BE(0)).toBe(0x1000);
      expect(payload.readUInt16BE(2)).toBe(0x88be);
      expect(payload.readUInt32BE(4)).toBe(i);
      const erspan = payload.subarray(8, 16);
      expect(erspan[0]! >> 4).toBe(1);
      expect(erspan.readUInt16BE(2) & 0x3ff).toBe(77);
      expect(payload.subarray(16).equals(innerEth)).toBe(true);
    });
    expect(outerIpv4(frames[1]!, o1, o2).ipId).toBe(outerIpv4(frames[0]!, o1, o2).ipId + 1);
  });

  it('ERSPAN III: protocol 0x22EB and a 12-byte header of version 2', () => {
    const f = links.erspan3(o1, o2).frame(ip4);
    const { protocol, payload } = outerIpv4(f, o1, o2);
    expect(protocol).toBe(47);
    expect(payload.readUInt16BE(0) & 0x1000).toBe(0x1000);
    expect(payload.readUInt16BE(2)).toBe(0x22eb);
    expect(payload[8]! >> 4).toBe(2);
    expect((payload.readUInt32BE(16) >> 10) & 0x1f).toBe(0); // frame type: Ethernet
    expect(payload.subarray(20).equals(innerEth)).toBe(true);
  });

  it('VXLAN: UDP 4789, I flag, VNI, inner Ethernet, per-flow source port', () => {
    const link = links.vxlan(o1, o2, { vni: 0x123456 });
    const f = link.frame(ip4);
    const { protocol, payload } = outerIpv4(f, o1, o2);
    expect(protocol).toBe(17);
    expect(payload.readUInt16BE(2)).toBe(4789);
    expect(payload.readUInt16BE(4)).toBe(payload.length);
    const srcPort = payload.readUInt16BE(0);
    expect(srcPort).toBeGreaterThanOrEqual(49152);
    expect(outerIpv4(link.frame(ip4), o1, o2).payload.readUInt16BE(0)).toBe(srcPort);
    const vx = payload.subarray(8, 16);
    expect(vx[0]).toBe(0x08);
    expect(vx.readUInt32BE(4) >>> 8).toBe(0x123456);
    expect(payload.subarray(16).equals(innerEth)).toBe(true);
  });

  it('GTP-U: UDP 2152, version 1 PT 1 G-PDU with the right length and TEID', () => {
    const f = links.gtpu(o1, o2, { teid: 0xdeadbeef }).frame(ip6);
    const { protocol, payload } = outerIpv4(f, o1, o2);
    expect(protocol).toBe(17);
    expect([payload.readUInt16BE(0), payload.readUInt16BE(2)]).toEqual([2152, 2152]);
    const gtp = payload.subarray(8);
    expect([gtp[0], gtp[1]]).toEqual([0x30, 0xff]);
    expect(gtp.readUInt16BE(2)).toBe(ip6.length);
    expect(gtp.readUInt32BE(4)).toBe(0xdeadbeef);
    expect(gtp.subarray(8).equals(ip6)).toBe(true);
  });

  it('IP-in-IP uses protocol 4 for IPv4 and 41 for IPv6', () => {
    const link = links.ipInIp(o1, o2);
    expect(outerIpv4(link.frame(ip4), o1, o2)).toMatchObject({ protocol: 4, payload: ip4 });
    expect(outerIpv4(link.frame(ip6), o1, o2)).toMatchObject({ protocol: 41, payload: ip6 });
  });

  it('GRE carries IP with a bare 4-byte header', () => {
    const link = links.greIp(o1, o2);
    const { protocol, payload } = outerIpv4(link.frame(ip6), o1, o2);
    expect(protocol).toBe(47);
    expect([payload.readUInt16BE(0), payload.readUInt16BE(2)]).toEqual([0, 0x86dd]);
    expect(payload.subarray(4).equals(ip6)).toBe(true);
  });

  it('refuses outer addresses of different families', () => {
    expect(() => links.vxlan('198.51.100.1', '2001:db8::1')).toThrow(/families/);
  });
});
