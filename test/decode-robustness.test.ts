import { describe, expect, it } from 'vitest';
import { Decoder } from '../src/decode/decoder.js';
import { DecodedPacket, type DecodeStats } from '../src/decode/types.js';
import {
  ah,
  ciscoHdlc,
  erspan2,
  erspan3,
  ethernet,
  geneve,
  gre,
  greV1,
  gtpu,
  ipv4,
  ipv6,
  ipv6Fragment,
  ipv6Options,
  ipv6Routing,
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
  vxlan,
} from './support/frames.js';

/** Small deterministic PRNG (mulberry32) so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LINK_TYPES = [0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 192, 228, 229, 276, 147];

function outcomes(stats: DecodeStats): number {
  return stats.decoded + stats.unknownLinkType + stats.nonIp + stats.malformed + stats.otherTransport + stats.snapCutHeaders;
}

/**
 * Decodes and checks the accounting: every call settles exactly one outcome counter, except
 * a fragment that is only buffered (or dropped by a limit), which counts as a fragment.
 */
function decodeChecked(decoder: Decoder, linkType: number, frame: Buffer, ts: number, packet: DecodedPacket): boolean {
  const before = outcomes(decoder.stats);
  const fragmentsBefore = decoder.stats.fragments;
  const ok = decoder.decode(linkType, frame, 0, frame.length, ts, packet);
  const settled = outcomes(decoder.stats) - before;
  const buffered = decoder.stats.fragments - fragmentsBefore;
  // Plain checks first: expect() on every one of 100k frames would dominate the run time.
  const accounted = settled === 1 || (settled === 0 && buffered === 1);
  const sane =
    !ok ||
    ((packet.ipVersion === 4 || packet.ipVersion === 6) &&
      (packet.protocol === 6 || packet.protocol === 17) &&
      packet.payloadLength >= 0 &&
      packet.payloadOffset + packet.payloadLength <= packet.buf.length);
  if (!accounted || !sane) {
    throw new Error(`link ${linkType} frame ${frame.toString('hex')}: ok=${ok} settled=${settled} buffered=${buffered}`);
  }
  return ok;
}

/** Valid frames of every kind the decoder knows, as seeds for mutation. */
function corpus(): [number, Buffer][] {
  const seg = tcp({ srcPort: 50000, dstPort: 3333, seq: 1, ack: 2 }, '{"method":"mining.subscribe"}');
  const ip4 = ipv4({ src: '192.0.2.1', dst: '203.0.113.2', protocol: 6, options: [1, 1, 1, 1] }, seg);
  const ip6 = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: 0 }, ipv6Options(43, ipv6Routing(51, ah(17, udp({ srcPort: 1, dstPort: 2 }, 'x')))));
  const eth = ethernet(0x0800, ip4);
  const outer = (protocol: number, payload: Buffer) => ethernet(0x0800, ipv4({ src: '198.51.100.1', dst: '198.51.100.2', protocol }, payload));
  const outerUdp = (port: number, payload: Buffer) => outer(17, udp({ srcPort: port, dstPort: port }, payload));
  return [
    [1, eth],
    [1, ethernet(0x86dd, ip6, { vlans: [{ tpid: 0x88a8, id: 1 }, { id: 2 }] })],
    [1, ethernet(0x8847, mpls([1, 2], pwControlWord(eth)))],
    [1, ethernet(0x8864, pppoe(0x21, ip4))],
    [0, nullLink(2, ip4)],
    [108, loopLink(30, ip6)],
    [101, ip6],
    [113, sll(0x0800, ip4)],
    [276, sll2(0x86dd, ip6)],
    [9, ppp(0x21, ip4)],
    [50, ciscoHdlc(0x86dd, ip6)],
    [192, ppi(1, eth)],
    [1, outer(47, gre({ protocol: 0x0800, checksum: true, key: 1, sequence: 2 }, ip4))],
    [1, outer(47, gre({ protocol: 0x0800, routes: [{ family: 0x800, data: [1, 2, 3, 4] }] }, ip4))],
    [1, outer(47, gre({ protocol: 0x88be, sequence: 1 }, erspan2(eth)))],
    [1, outer(47, gre({ protocol: 0x22eb }, erspan3(eth, { platform: true })))],
    [1, outer(47, greV1(1, ppp(0x21, ip4), { sequence: 1, ackNumber: 1 }))],
    [1, outerUdp(4789, vxlan(1, eth))],
    [1, outerUdp(6081, geneve(0x6558, eth, 2))],
    [1, outerUdp(2152, gtpu(ip4, { sequence: 1, extensions: [{ type: 0x85, content: [0, 1] }] }))],
    [1, outer(41, ip6)],
    [1, ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 6, id: 3, moreFragments: true }, seg.subarray(0, 32)))],
    [1, ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 6, id: 3, fragmentOffset: 32 }, seg.subarray(32)))],
    [1, ethernet(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: 44 }, ipv6Fragment(6, 0, true, 9, seg.subarray(0, 24))))],
    [1, ethernet(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: 44 }, ipv6Fragment(6, 24, false, 9, seg.subarray(24))))],
  ];
}

describe('robustness', () => {
  it('decodes every corpus frame before mutation (so mutations start from valid input)', () => {
    const decoder = new Decoder();
    const packet = new DecodedPacket();
    const results = corpus().map(([linkType, frame]) => decodeChecked(decoder, linkType, frame, 0, packet));
    // The two pairs of fragments complete on their second half.
    expect(results.filter((ok) => !ok)).toHaveLength(2);
    expect(decoder.stats.reassembled).toBe(2);
  });

  it('never throws on random garbage under any link type, and counts every frame', () => {
    const next = random(0x5eed);
    const decoder = new Decoder({ maxFragmentDatagrams: 32, maxFragmentBytes: 64 * 1024 });
    const packet = new DecodedPacket();
    const scratch = Buffer.alloc(512);
    for (let i = 0; i < 100_000; i++) {
      const length = Math.floor(next() * scratch.length);
      for (let j = 0; j < length; j++) scratch[j] = Math.floor(next() * 256);
      const frame = scratch.subarray(0, length);
      decodeChecked(decoder, LINK_TYPES[i % LINK_TYPES.length]!, frame, i * 1000, packet);
    }
    expect(outcomes(decoder.stats) + decoder.stats.fragments).toBeGreaterThanOrEqual(100_000);
  });

  it('never throws on mutated and truncated valid frames', () => {
    const next = random(0xc0ffee);
    const seeds = corpus();
    const decoder = new Decoder({ maxFragmentDatagrams: 32, maxFragmentBytes: 64 * 1024, maxTunnelDepth: 3 });
    const packet = new DecodedPacket();
    let decoded = 0;
    for (let i = 0; i < 300_000; i++) {
      const [linkType, original] = seeds[i % seeds.length]!;
      const frame = Buffer.from(original);
      const flips = 1 + Math.floor(next() * 4);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(next() * frame.length);
        frame[at] = next() < 0.5 ? frame[at]! ^ (1 << Math.floor(next() * 8)) : Math.floor(next() * 256);
      }
      const cut = next() < 0.3 ? Math.floor(next() * frame.length) : frame.length;
      if (decodeChecked(decoder, linkType, frame.subarray(0, cut), i * 100, packet)) decoded++;
    }
    // Most single-bit damage lands in payloads or ignored fields, so plenty still decode.
    expect(decoded).toBeGreaterThan(30_000);
    expect(decoder.stats.malformed).toBeGreaterThan(3_000);
  });

  it('survives frames of every length cut from a deeply tunnelled frame', () => {
    let frame = ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 6 }, tcp({ srcPort: 1, dstPort: 2 })));
    for (let i = 0; i < 6; i++) {
      const carrier = i % 2 === 0 ? udp({ srcPort: 7, dstPort: 4789 }, vxlan(i, frame)) : gre({ protocol: 0x6558 }, frame);
      frame = ethernet(0x0800, ipv4({ src: '198.51.100.1', dst: '198.51.100.2', protocol: i % 2 === 0 ? 17 : 47 }, carrier));
    }
    const decoder = new Decoder({ maxTunnelDepth: 6 });
    const packet = new DecodedPacket();
    for (let length = 0; length <= frame.length; length++) {
      const ok = decodeChecked(decoder, 1, frame.subarray(0, length), 0, packet);
      // A cut frame decodes only as far as its headers were captured, and says so.
      if (length === frame.length) expect([ok, packet.tunnelDepth, packet.payloadMissing]).toEqual([true, 6, 0]);
      else if (ok) expect(packet.payloadMissing).toBeGreaterThan(0);
    }
  });
});
