import { describe, expect, it } from 'vitest';
import { Decoder } from '../src/decode/decoder.js';
import { TCP_ACK, TCP_PSH } from '../src/decode/types.js';
import {
  bytes,
  decodeFrame,
  erspan2,
  erspan3,
  ethernet,
  geneve,
  gre,
  greV1,
  gtpu,
  ipv4,
  ipv6,
  ppp,
  tcp,
  udp,
  vxlan,
} from './support/frames.js';

const SUBMIT = '{"method":"submit"}\n';

/** The innermost packet every tunnel below carries: 192.0.2.10:50000 -> 203.0.113.5:3333. */
function innerIp(): Buffer {
  return ipv4(
    { src: '192.0.2.10', dst: '203.0.113.5', protocol: 6 },
    tcp({ srcPort: 50000, dstPort: 3333, seq: 1000, ack: 2000, flags: TCP_PSH | TCP_ACK }, SUBMIT),
  );
}

function innerIp6(): Buffer {
  return ipv6({ src: '2001:db8:5::10', dst: '2001:db8:6::5', next: 17 }, udp({ srcPort: 5000, dstPort: 3333 }, SUBMIT));
}

function innerFrame(vlan?: number): Buffer {
  return ethernet(0x0800, innerIp(), vlan === undefined ? {} : { vlans: [{ id: vlan }] });
}

/** Outer Ethernet/IPv4 198.51.100.1 -> 198.51.100.2 with the given protocol. */
function outer(protocol: number, payload: Buffer): Buffer {
  return ethernet(0x0800, ipv4({ src: '198.51.100.1', dst: '198.51.100.2', protocol }, payload));
}

function outerUdp(dstPort: number, payload: Buffer, srcPort = 40000): Buffer {
  return outer(17, udp({ srcPort, dstPort }, payload));
}

function expectInner(result: ReturnType<typeof decodeFrame>, depth: number): void {
  expect(result.ok).toBe(true);
  expect(result.src).toBe('192.0.2.10');
  expect(result.dst).toBe('203.0.113.5');
  expect(Array.from(result.packet.src)).toEqual([0xc000020a, 0, 0, 0]);
  expect(result.packet.protocol).toBe(6);
  expect(result.packet.srcPort).toBe(50000);
  expect(result.packet.dstPort).toBe(3333);
  expect(result.packet.seq).toBe(1000);
  expect(result.packet.ack).toBe(2000);
  expect(result.packet.tcpFlags).toBe(TCP_PSH | TCP_ACK);
  expect(result.payload).toBe(SUBMIT);
  expect(result.packet.tunnelDepth).toBe(depth);
  expect(result.decoder.stats.tunnelled).toBe(1);
  expect(result.decoder.stats.decoded).toBe(1);
}

describe('GRE', () => {
  it('decapsulates IPv4 with every optional field (checksum, key, sequence)', () => {
    expectInner(decodeFrame(1, outer(47, gre({ protocol: 0x0800 }, innerIp()))), 1);
    expectInner(decodeFrame(1, outer(47, gre({ protocol: 0x0800, checksum: true }, innerIp()))), 1);
    expectInner(decodeFrame(1, outer(47, gre({ protocol: 0x0800, key: 0xdeadbeef }, innerIp()))), 1);
    expectInner(decodeFrame(1, outer(47, gre({ protocol: 0x0800, checksum: true, key: 5, sequence: 9 }, innerIp()))), 1);
  });

  it('walks RFC 1701 source routes', () => {
    const routes = [{ family: 0x0800, data: [1, 2, 3, 4, 5, 6, 7, 8] }, { family: 0x0800, data: [9, 9, 9, 9] }];
    expectInner(decodeFrame(1, outer(47, gre({ protocol: 0x0800, routes }, innerIp()))), 1);
  });

  it('decapsulates IPv6 inside GRE over IPv6', () => {
    const frame = ethernet(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: 47 }, gre({ protocol: 0x86dd }, innerIp6())));
    const result = decodeFrame(1, frame);
    expect(result.ok).toBe(true);
    expect(result.src).toBe('2001:db8:5::10');
    expect(result.dst).toBe('2001:db8:6::5');
    expect(result.packet.protocol).toBe(17);
    expect(result.payload).toBe(SUBMIT);
    expect(result.packet.tunnelDepth).toBe(1);
  });

  it('decapsulates transparent Ethernet bridging (0x6558)', () => {
    const result = decodeFrame(1, outer(47, gre({ protocol: 0x6558, key: 1 }, innerFrame(33))));
    expectInner(result, 1);
    expect(result.packet.vlanId).toBe(33);
  });

  it('decapsulates PPTP enhanced GRE carrying PPP', () => {
    expectInner(decodeFrame(1, outer(47, greV1(7, ppp(0x0021, innerIp())))), 1);
    expectInner(decodeFrame(1, outer(47, greV1(7, ppp(0x0021, innerIp()), { sequence: 1, ackNumber: 2 }))), 1);
  });

  it('counts a truncated or unknown-version GRE header as malformed', () => {
    const decoder = new Decoder();
    expect(decodeFrame(1, outer(47, Buffer.from([0x00, 0x00, 0x08])), decoder).ok).toBe(false);
    expect(decodeFrame(1, outer(47, gre({ protocol: 0x0800, version: 2 }, innerIp())), decoder).ok).toBe(false);
    expect(decodeFrame(1, outer(47, gre({ protocol: 0x0800, key: 1, sequence: 2 }, []).subarray(0, 10)), decoder).ok).toBe(false);
    expect(decoder.stats.malformed).toBe(3);
    expect(decoder.stats.tunnelled).toBe(0);
  });

  it('counts a non-IP GRE payload as non-IP after stripping the tunnel', () => {
    const result = decodeFrame(1, outer(47, gre({ protocol: 0x0806 }, Buffer.alloc(28))));
    expect(result.ok).toBe(false);
    expect(result.decoder.stats.nonIp).toBe(1);
    expect(result.decoder.stats.tunnelled).toBe(1);
  });
});

describe('ERSPAN', () => {
  it('type I: GRE 0x88BE without a sequence number carries Ethernet directly', () => {
    expectInner(decodeFrame(1, outer(47, gre({ protocol: 0x88be }, innerFrame()))), 1);
  });

  it('type II: GRE sequence bit set, 8-byte ERSPAN header, then Ethernet', () => {
    const result = decodeFrame(1, outer(47, gre({ protocol: 0x88be, sequence: 77 }, erspan2(innerFrame(12), 5, 99))));
    expectInner(result, 1);
    expect(result.packet.vlanId).toBe(12);
  });

  it('type III with and without the platform-specific subheader', () => {
    expectInner(decodeFrame(1, outer(47, gre({ protocol: 0x22eb, sequence: 1 }, erspan3(innerFrame())))), 1);
    expectInner(decodeFrame(1, outer(47, gre({ protocol: 0x22eb, sequence: 1 }, erspan3(innerFrame(), { platform: true })))), 1);
  });

  it('counts ERSPAN headers with the wrong version as malformed', () => {
    const decoder = new Decoder();
    const badType2 = erspan2(innerFrame());
    badType2[0] = 0x20;
    expect(decodeFrame(1, outer(47, gre({ protocol: 0x88be, sequence: 1 }, badType2)), decoder).ok).toBe(false);
    expect(decodeFrame(1, outer(47, gre({ protocol: 0x22eb }, erspan3(innerFrame(), { version: 1 }))), decoder).ok).toBe(false);
    expect(decodeFrame(1, outer(47, gre({ protocol: 0x22eb }, erspan3(Buffer.alloc(0), { platform: true }).subarray(0, 14))), decoder).ok).toBe(false);
    expect(decoder.stats.malformed).toBe(3);
  });
});

describe('VXLAN', () => {
  it('decapsulates Ethernet after an 8-byte header with the I flag', () => {
    const result = decodeFrame(1, outerUdp(4789, vxlan(0x123456, innerFrame(300))));
    expectInner(result, 1);
    expect(result.packet.vlanId).toBe(300);
  });

  it('keeps the outermost VLAN when the inner frame is tagged too', () => {
    const frame = ethernet(0x0800, ipv4({ src: '198.51.100.1', dst: '198.51.100.2', protocol: 17 }, udp({ srcPort: 1, dstPort: 4789 }, vxlan(1, innerFrame(300)))), {
      vlans: [{ id: 20 }],
    });
    const result = decodeFrame(1, frame);
    expectInner(result, 1);
    expect(result.packet.vlanId).toBe(20);
  });

  it('leaves UDP to port 4789 alone when the I flag is missing or the frame is too short', () => {
    const decoder = new Decoder();
    for (const payload of [vxlan(1, innerFrame(), 0x00), vxlan(1, Buffer.alloc(5))]) {
      const result = decodeFrame(1, outerUdp(4789, payload), decoder);
      expect(result.ok).toBe(true);
      expect(result.packet.dstPort).toBe(4789);
      expect(result.src).toBe('198.51.100.1');
      expect(result.packet.tunnelDepth).toBe(0);
      expect(result.packet.payloadLength).toBe(payload.length);
    }
    expect(decoder.stats.tunnelled).toBe(0);
  });
});

describe('Geneve', () => {
  it('decapsulates Ethernet and IP payloads, skipping options', () => {
    expectInner(decodeFrame(1, outerUdp(6081, geneve(0x6558, innerFrame()))), 1);
    expectInner(decodeFrame(1, outerUdp(6081, geneve(0x6558, innerFrame(), 3))), 1);
    expectInner(decodeFrame(1, outerUdp(6081, geneve(0x0800, innerIp(), 1))), 1);
  });

  it('leaves UDP to 6081 alone for other versions or payload types', () => {
    const decoder = new Decoder();
    expect(decodeFrame(1, outerUdp(6081, geneve(0x6558, innerFrame(), 0, 1)), decoder).packet.tunnelDepth).toBe(0);
    expect(decodeFrame(1, outerUdp(6081, geneve(0x0806, Buffer.alloc(28))), decoder).packet.dstPort).toBe(6081);
    expect(decoder.stats.decoded).toBe(2);
    expect(decoder.stats.tunnelled).toBe(0);
  });
});

describe('GTP-U', () => {
  it('decapsulates a plain G-PDU', () => {
    expectInner(decodeFrame(1, outerUdp(2152, gtpu(innerIp()), 2152)), 1);
  });

  it('decapsulates with sequence number and an extension header chain', () => {
    const extensions = [
      { type: 0x85, content: [0x00, 0x09] },
      { type: 0x40, content: [0x08, 0x68] },
      { type: 0x20, content: [1, 2, 3, 4, 5, 6, 7] },
    ];
    expectInner(decodeFrame(1, outerUdp(2152, gtpu(innerIp(), { sequence: 3 }))), 1);
    expectInner(decodeFrame(1, outerUdp(2152, gtpu(innerIp(), { extensions }))), 1);
    // Uplink G-PDUs may come from an ephemeral source port to 2152, downlink the other way round.
    expectInner(decodeFrame(1, outerUdp(30000, gtpu(innerIp(), { sequence: 1, extensions }), 2152)), 1);
  });

  it('decapsulates IPv6 user traffic', () => {
    const result = decodeFrame(1, outerUdp(2152, gtpu(innerIp6())));
    expect(result.ok).toBe(true);
    expect(result.src).toBe('2001:db8:5::10');
    expect(result.packet.tunnelDepth).toBe(1);
    expect(result.payload).toBe(SUBMIT);
  });

  it('bounds the user packet by the GTP length field', () => {
    const message = gtpu(innerIp());
    const result = decodeFrame(1, outerUdp(2152, bytes(message, 'trailing')));
    expectInner(result, 1);
  });

  it('treats anything that is not a well-formed G-PDU as ordinary UDP', () => {
    const decoder = new Decoder();
    const badExtension = gtpu(innerIp(), { extensions: [{ type: 0x85, content: [0, 9] }] });
    badExtension[12] = 0; // extension length 0
    const notGtp = [
      gtpu(innerIp(), { messageType: 1 }), // echo request
      gtpu(innerIp(), { version: 2 }),
      gtpu(innerIp(), { length: 5000 }),
      gtpu(Buffer.from('not an IP packet')), // 'n' looks like IPv6 but is too short for it
      gtpu(Buffer.alloc(60, 0x20)),
      badExtension,
      Buffer.from([0x30, 0xff]),
    ];
    for (const payload of notGtp) {
      const result = decodeFrame(1, outerUdp(2152, payload), decoder);
      expect(result.ok).toBe(true);
      expect(result.src).toBe('198.51.100.1');
      expect(result.packet.dstPort).toBe(2152);
      expect(result.packet.payloadLength).toBe(payload.length);
    }
    expect(decoder.stats.tunnelled).toBe(0);
    expect(decoder.stats.malformed).toBe(0);
  });
});

describe('IP in IP', () => {
  it('decapsulates IPv4 in IPv4 (4), IPv6 in IPv4 (41) and IPv4 in IPv6 (4)', () => {
    expectInner(decodeFrame(1, outer(4, innerIp())), 1);
    const sixInFour = decodeFrame(1, outer(41, innerIp6()));
    expect(sixInFour.ok).toBe(true);
    expect(sixInFour.src).toBe('2001:db8:5::10');
    expect(sixInFour.packet.tunnelDepth).toBe(1);
    expectInner(decodeFrame(229, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: 4 }, innerIp())), 1);
  });
});

describe('nesting', () => {
  it('strips mixed tunnels layer by layer and counts the packet once', () => {
    // VXLAN inside GTP-U inside GRE.
    const vxlanPacket = ipv4({ src: '198.51.100.7', dst: '198.51.100.8', protocol: 17 }, udp({ srcPort: 1, dstPort: 4789 }, vxlan(9, innerFrame())));
    const gtpPacket = ipv4({ src: '198.51.100.5', dst: '198.51.100.6', protocol: 17 }, udp({ srcPort: 2152, dstPort: 2152 }, gtpu(vxlanPacket)));
    const result = decodeFrame(1, outer(47, gre({ protocol: 0x0800 }, gtpPacket)));
    expectInner(result, 3);
  });

  it('stops at maxTunnelDepth and counts the packet as malformed', () => {
    let packet = innerIp();
    for (let i = 0; i < 10; i++) packet = ipv4({ src: '198.51.100.1', dst: '198.51.100.2', protocol: 4 }, packet);
    const decoder = new Decoder();
    expect(decodeFrame(228, packet, decoder).ok).toBe(false);
    expect(decoder.stats.malformed).toBe(1);
    expect(decoder.stats.tunnelled).toBe(1);

    const generous = decodeFrame(228, packet, new Decoder({ maxTunnelDepth: 10 }));
    expectInner(generous, 10);
  });

  it('survives a tunnel bomb far deeper than the cap', () => {
    let frame = innerFrame();
    for (let i = 0; i < 1500; i++) frame = outer(47, gre({ protocol: 0x6558 }, frame));
    const decoder = new Decoder({ maxTunnelDepth: 8 });
    const result = decodeFrame(1, frame, decoder);
    expect(result.ok).toBe(false);
    expect(result.packet.tunnelDepth).toBe(8);
    expect(decoder.stats.malformed).toBe(1);
  });

  it('decodes at the highest allowed cap of 64 and refuses one layer more', () => {
    let packet = innerIp();
    for (let i = 0; i < 64; i++) packet = ipv4({ src: '198.51.100.1', dst: '198.51.100.2', protocol: 4 }, packet);
    expectInner(decodeFrame(228, packet, new Decoder({ maxTunnelDepth: 64 })), 64);
    packet = ipv4({ src: '198.51.100.1', dst: '198.51.100.2', protocol: 4 }, packet);
    const refused = decodeFrame(228, packet, new Decoder({ maxTunnelDepth: 64 }));
    expect(refused.ok).toBe(false);
    expect(refused.decoder.stats.malformed).toBe(1);
  });

  it('honours maxTunnelDepth 0 by refusing every tunnel', () => {
    const result = decodeFrame(1, outerUdp(4789, vxlan(1, innerFrame())), new Decoder({ maxTunnelDepth: 0 }));
    expect(result.ok).toBe(false);
    expect(result.decoder.stats.malformed).toBe(1);
  });
});
