import { describe, expect, it } from 'vitest';
import { Decoder } from '../src/decode/decoder.js';
import { DecodedPacket } from '../src/decode/types.js';
import { PIECE_OVERHEAD_BYTES } from '../src/decode/reassembly.js';
import {
  bytes,
  ethernet,
  gre,
  ipv4,
  ipv6,
  ipv6Fragment,
  ipv6Options,
  render,
  splitPayload,
  tcp,
  udp,
  vxlan,
} from './support/frames.js';

const SECOND = 1_000_000;
/** 200 distinct payload bytes so misplaced pieces show. */
const DATA = Array.from({ length: 200 }, (_, i) => String.fromCharCode(0x21 + (i % 90))).join('');

function segment(payload = DATA): Buffer {
  return tcp({ srcPort: 50000, dstPort: 3333, seq: 42, ack: 43 }, payload);
}

/** IPv4 fragments (as Ethernet frames) of `ipPayload`, `size` bytes each. */
function v4Fragments(ipPayload: Buffer, size: number, id = 0x4242, protocol = 6, src = '192.0.2.1'): Buffer[] {
  return splitPayload(ipPayload, size).map((piece) =>
    ethernet(
      0x0800,
      ipv4({ src, dst: '203.0.113.9', protocol, id, fragmentOffset: piece.offset, moreFragments: piece.more }, piece.data),
    ),
  );
}

/** IPv6 fragments with a hop-by-hop header in the unfragmentable part. */
function v6Fragments(fragmentable: Buffer, size: number, firstHeader: number, id = 0x01020304): Buffer[] {
  return splitPayload(fragmentable, size).map((piece) =>
    ethernet(
      0x86dd,
      ipv6(
        { src: '2001:db8::1', dst: '2001:db8::2', next: 0 },
        ipv6Options(44, ipv6Fragment(firstHeader, piece.offset, piece.more, id, piece.data)),
      ),
    ),
  );
}

class Feeder {
  readonly decoder: Decoder;
  readonly packet = new DecodedPacket();

  constructor(opts?: ConstructorParameters<typeof Decoder>[0]) {
    this.decoder = new Decoder(opts);
  }

  feed(frame: Buffer, tsMicros = SECOND): boolean {
    return this.decoder.decode(1, frame, 0, frame.length, tsMicros, this.packet);
  }

  /** Feeds all frames; returns the index of each that completed a packet. */
  feedAll(frames: Buffer[], tsMicros = SECOND): number[] {
    const completed: number[] = [];
    frames.forEach((frame, i) => {
      if (this.feed(frame, tsMicros)) completed.push(i);
    });
    return completed;
  }
}

describe('IPv4 reassembly', () => {
  it('reassembles fragments in order into a datagram of its own', () => {
    const feeder = new Feeder();
    const frames = v4Fragments(segment(), 64);
    expect(frames).toHaveLength(4);
    expect(feeder.feedAll(frames)).toEqual([3]);
    const p = feeder.packet;
    expect(render(p)).toEqual({ src: '192.0.2.1', dst: '203.0.113.9', payload: DATA });
    expect(p.srcPort).toBe(50000);
    expect(p.seq).toBe(42);
    expect(frames).not.toContain(p.buf);
    expect(p.buf.length).toBe(220);
    expect(feeder.decoder.stats).toMatchObject({ fragments: 4, reassembled: 1, fragmentsDropped: 0, decoded: 1, malformed: 0 });
    expect(feeder.decoder.pendingFragments).toEqual({ datagrams: 0, bytes: 0 });
  });

  it('reassembles fragments in reverse and shuffled order', () => {
    for (const order of [
      [3, 2, 1, 0],
      [2, 0, 3, 1],
      [1, 3, 0, 2],
    ]) {
      const feeder = new Feeder();
      const frames = v4Fragments(segment(), 64);
      expect(feeder.feedAll(order.map((i) => frames[i]!))).toEqual([3]);
      expect(render(feeder.packet).payload).toBe(DATA);
    }
  });

  it('keeps datagrams with different ids, protocols or sources apart', () => {
    const feeder = new Feeder();
    const a = v4Fragments(segment('A'.repeat(100)), 64, 1);
    const b = v4Fragments(segment('B'.repeat(100)), 64, 2);
    const c = v4Fragments(udp({ srcPort: 1, dstPort: 2 }, 'C'.repeat(100)), 64, 1, 17);
    const d = v4Fragments(segment('D'.repeat(100)), 64, 1, 6, '192.0.2.77');
    const payloads: string[] = [];
    for (const frame of [a[0]!, b[0]!, c[0]!, d[0]!, d[1]!, c[1]!, b[1]!, a[1]!]) {
      if (feeder.feed(frame)) payloads.push(render(feeder.packet).payload);
    }
    expect(payloads).toEqual(['D'.repeat(100), 'C'.repeat(100), 'B'.repeat(100), 'A'.repeat(100)]);
  });

  it('ignores duplicate fragments', () => {
    const feeder = new Feeder();
    const frames = v4Fragments(segment(), 64);
    expect(feeder.feedAll([frames[0]!, frames[0]!, frames[1]!, frames[1]!, frames[2]!, frames[3]!])).toEqual([5]);
    expect(render(feeder.packet).payload).toBe(DATA);
  });

  it('keeps the first copy of overlapping bytes and fills only the holes', () => {
    const feeder = new Feeder();
    const whole = segment();
    const frame = (offset: number, data: Buffer, more: boolean) =>
      ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.9', protocol: 6, id: 9, fragmentOffset: offset, moreFragments: more }, data));
    const forged = Buffer.alloc(64, 0x58); // 'X'
    const frames = [
      frame(0, whole.subarray(0, 48), true),
      frame(64, whole.subarray(64, 128), true),
      frame(32, forged, true), // overlaps both neighbours, fills 48..64 only
      frame(128, whole.subarray(128), false),
    ];
    expect(feeder.feedAll(frames)).toEqual([3]);
    const expected = bytes(whole.subarray(0, 48), forged.subarray(16, 32), whole.subarray(64)).subarray(20).toString('latin1');
    expect(render(feeder.packet).payload).toBe(expected);
  });

  it('drops contradicting last fragments and data beyond the end', () => {
    const feeder = new Feeder();
    const frames = v4Fragments(segment(), 64);
    const shortLast = ethernet(
      0x0800,
      ipv4({ src: '192.0.2.1', dst: '203.0.113.9', protocol: 6, id: 0x4242, fragmentOffset: 128, moreFragments: false }, Buffer.alloc(8)),
    );
    expect(feeder.feedAll([frames[3]!, frames[0]!, shortLast])).toEqual([]);
    expect(feeder.decoder.stats.malformed).toBe(1);
    expect(feeder.decoder.stats.fragmentsDropped).toBe(3);
    expect(feeder.decoder.pendingFragments.datagrams).toBe(0);

    const beyond = new Feeder();
    expect(beyond.feedAll([frames[2]!, frames[1]!, frames[0]!])).toEqual([]);
    expect(beyond.feed(ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.9', protocol: 6, id: 0x4242, fragmentOffset: 64, moreFragments: false }, Buffer.alloc(8))))).toBe(false);
    expect(beyond.decoder.stats.fragmentsDropped).toBe(4);
  });

  it('counts fragments with impossible sizes as malformed', () => {
    const feeder = new Feeder();
    const odd = ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.9', protocol: 6, moreFragments: true }, Buffer.alloc(30)));
    const empty = ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.9', protocol: 6, fragmentOffset: 8, moreFragments: true }, []));
    const tooFar = ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.9', protocol: 6, fragmentOffset: 65528, moreFragments: false }, Buffer.alloc(16)));
    expect(feeder.feedAll([odd, empty, tooFar])).toEqual([]);
    expect(feeder.decoder.stats).toMatchObject({ fragments: 3, malformed: 3, fragmentsDropped: 3 });
  });

  it('decodes a tunnel found in a reassembled datagram', () => {
    const inner = ethernet(0x0800, ipv4({ src: '198.51.100.20', dst: '198.51.100.21', protocol: 6 }, segment()));
    const outerPayload = udp({ srcPort: 1234, dstPort: 4789 }, vxlan(5, inner));
    const feeder = new Feeder();
    expect(feeder.feedAll(v4Fragments(outerPayload, 96, 7, 17))).toEqual([2]);
    expect(render(feeder.packet)).toEqual({ src: '198.51.100.20', dst: '198.51.100.21', payload: DATA });
    expect(feeder.packet.tunnelDepth).toBe(1);
  });

  it('reassembles fragments found inside a tunnel', () => {
    const feeder = new Feeder();
    const frames = splitPayload(segment(), 104).map((piece) =>
      ethernet(
        0x0800,
        ipv4(
          { src: '198.51.100.1', dst: '198.51.100.2', protocol: 47 },
          gre({ protocol: 0x0800 }, ipv4({ src: '192.0.2.1', dst: '203.0.113.9', protocol: 6, id: 5, fragmentOffset: piece.offset, moreFragments: piece.more }, piece.data)),
        ),
      ),
    );
    expect(feeder.feedAll(frames.reverse())).toEqual([2]);
    expect(render(feeder.packet).payload).toBe(DATA);
    expect(feeder.packet.tunnelDepth).toBe(1);
    expect(feeder.decoder.stats.tunnelled).toBe(3);
  });
});

describe('IPv6 reassembly', () => {
  it('reassembles in and out of order, continuing the header chain after the fragment header', () => {
    const fragmentable = ipv6Options(17, udp({ srcPort: 5353, dstPort: 3333 }, DATA)); // destination options first
    for (const order of [
      [0, 1, 2, 3],
      [3, 1, 0, 2],
    ]) {
      const feeder = new Feeder();
      const frames = v6Fragments(fragmentable, 56, 60);
      expect(frames).toHaveLength(4);
      expect(feeder.feedAll(order.map((i) => frames[i]!))).toEqual([3]);
      expect(render(feeder.packet)).toEqual({ src: '2001:db8::1', dst: '2001:db8::2', payload: DATA });
      expect(feeder.packet.srcPort).toBe(5353);
      expect(feeder.decoder.stats).toMatchObject({ fragments: 4, reassembled: 1, decoded: 1 });
    }
  });

  it('drops the whole datagram on overlap (RFC 5722) but ignores exact duplicates', () => {
    const fragmentable = segment();
    const frames = v6Fragments(fragmentable, 64, 6);
    const duplicates = new Feeder();
    expect(duplicates.feedAll([frames[0]!, frames[1]!, frames[1]!, frames[2]!, frames[3]!])).toEqual([4]);
    expect(render(duplicates.packet).payload).toBe(DATA);
    expect(duplicates.decoder.stats.fragmentsDropped).toBe(1);

    const overlapping = ethernet(
      0x86dd,
      ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: 44 }, ipv6Fragment(6, 56, true, 0x01020304, Buffer.alloc(16, 0x58))),
    );
    const attacked = new Feeder();
    expect(attacked.feedAll([frames[0]!, frames[1]!, overlapping, frames[2]!, frames[3]!])).toEqual([]);
    expect(attacked.decoder.stats.reassembled).toBe(0);
    expect(attacked.decoder.stats.fragmentsDropped).toBe(3);
  });

  it('refuses a fragment header inside a reassembled datagram', () => {
    const nested = ipv6Fragment(6, 8, true, 77, Buffer.alloc(64));
    const frames = v6Fragments(nested, 48, 44);
    const feeder = new Feeder();
    expect(feeder.feedAll(frames)).toEqual([]);
    expect(feeder.decoder.stats.reassembled).toBe(1);
    expect(feeder.decoder.stats.malformed).toBe(1);
  });
});

describe('limits', () => {
  it('drops datagrams not completed within the timeout (capture time)', () => {
    const feeder = new Feeder({ fragmentTimeoutMicros: 30 * SECOND });
    const frames = v4Fragments(segment(), 64);
    expect(feeder.feedAll(frames.slice(0, 2), 100 * SECOND)).toEqual([]);
    expect(feeder.decoder.pendingFragments.datagrams).toBe(1);
    // An unrelated packet moves the clock past the deadline.
    const other = ethernet(0x0800, ipv4({ src: '192.0.2.50', dst: '192.0.2.51', protocol: 17 }, udp({ srcPort: 1, dstPort: 2 })));
    expect(feeder.feed(other, 130 * SECOND)).toBe(true);
    expect(feeder.decoder.pendingFragments).toEqual({ datagrams: 0, bytes: 0 });
    expect(feeder.decoder.stats.fragmentsDropped).toBe(2);
    // The rest arrives too late: it starts a new datagram that cannot complete.
    expect(feeder.feedAll(frames.slice(2), 131 * SECOND)).toEqual([]);
    expect(feeder.decoder.stats.reassembled).toBe(0);
  });

  it('completes a datagram just inside the timeout', () => {
    const feeder = new Feeder({ fragmentTimeoutMicros: 30 * SECOND });
    const frames = v4Fragments(segment(), 64);
    expect(feeder.feedAll(frames.slice(0, 3), 100 * SECOND)).toEqual([]);
    expect(feeder.feed(frames[3]!, 130 * SECOND - 1)).toBe(true);
  });

  it('evicts the oldest datagram when too many are pending', () => {
    const feeder = new Feeder({ maxFragmentDatagrams: 2 });
    const sets = [1, 2, 3].map((id) => v4Fragments(segment(), 128, id));
    expect(feeder.feedAll(sets.map((set) => set[0]!))).toEqual([]);
    expect(feeder.decoder.pendingFragments.datagrams).toBe(2);
    expect(feeder.decoder.stats.fragmentsDropped).toBe(1);
    expect(feeder.feed(sets[0]![1]!)).toBe(false); // id 1 was evicted, starts over, evicts id 2
    expect(feeder.feed(sets[2]![1]!)).toBe(true);
    expect(feeder.decoder.stats.reassembled).toBe(1);
  });

  it('never buffers more than maxFragmentBytes, each piece charged its bytes and an overhead', () => {
    const piece = 96 + PIECE_OVERHEAD_BYTES;
    const feeder = new Feeder({ maxFragmentBytes: piece + 100 });
    const first = v4Fragments(segment(), 96, 1);
    const second = v4Fragments(segment(), 96, 2);
    expect(feeder.feed(first[0]!)).toBe(false);
    expect(feeder.decoder.pendingFragments.bytes).toBe(piece);
    expect(feeder.feed(second[0]!)).toBe(false); // pushes the first datagram out
    expect(feeder.decoder.pendingFragments).toEqual({ datagrams: 1, bytes: piece });
    expect(feeder.feed(second[1]!)).toBe(false); // two pieces do not fit: the datagram itself is dropped
    expect(feeder.decoder.pendingFragments).toEqual({ datagrams: 0, bytes: 0 });
    expect(feeder.decoder.stats.fragmentsDropped).toBe(3);
    expect(feeder.decoder.stats.reassembled).toBe(0);
  });

  it('charges tiny fragments for what they cost, not for their few bytes', () => {
    const feeder = new Feeder({ maxFragmentBytes: 64 * 1024, maxFragmentDatagrams: 100_000 });
    for (let id = 0; id < 20_000; id++) {
      feeder.feed(ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.9', protocol: 17, id, moreFragments: true }, Buffer.alloc(8))), SECOND + id);
    }
    // Counted by their bytes alone, 8,192 of them would stay; charged with their overhead,
    // 64 KiB / 136 bytes = 481.
    const pending = feeder.decoder.pendingFragments;
    expect(pending.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(pending.datagrams).toBe(Math.floor((64 * 1024) / (8 + PIECE_OVERHEAD_BYTES)));
  });

  it('stays within its caps under a flood of never-completed fragments', () => {
    const feeder = new Feeder({ maxFragmentDatagrams: 64, maxFragmentBytes: 4096 });
    for (let id = 0; id < 5000; id++) {
      const frame = ethernet(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.9', protocol: 17, id, moreFragments: true }, Buffer.alloc(256)));
      feeder.feed(frame, SECOND + id);
      const pending = feeder.decoder.pendingFragments;
      expect(pending.datagrams).toBeLessThanOrEqual(64);
      expect(pending.bytes).toBeLessThanOrEqual(4096);
    }
    expect(feeder.decoder.stats.fragments).toBe(5000);
    expect(feeder.decoder.stats.fragmentsDropped).toBe(5000 - Math.floor(4096 / (256 + PIECE_OVERHEAD_BYTES)));
  });

  it('turns reassembly off with a datagram limit of 0', () => {
    const feeder = new Feeder({ maxFragmentDatagrams: 0 });
    expect(feeder.feedAll(v4Fragments(segment(), 64))).toEqual([]);
    expect(feeder.decoder.stats).toMatchObject({ fragments: 4, fragmentsDropped: 4, reassembled: 0 });
    expect(feeder.decoder.pendingFragments).toEqual({ datagrams: 0, bytes: 0 });
  });

  it('rejects nonsensical options', () => {
    expect(() => new Decoder({ maxTunnelDepth: -1 })).toThrow(RangeError);
    expect(() => new Decoder({ maxTunnelDepth: 65 })).toThrow(RangeError);
    expect(() => new Decoder({ maxFragmentBytes: 1.5 })).toThrow(RangeError);
    expect(() => new Decoder({ fragmentTimeoutMicros: Number.NaN })).toThrow(RangeError);
  });
});

describe('fragment count per datagram', () => {
  it('gives up a datagram that arrives in more than 256 pieces', () => {
    const decoder = new Decoder();
    const packet = new DecodedPacket();
    const payload = Buffer.concat([segment(), Buffer.alloc(2400, 0x61)]); // 2,620 bytes → 328 eight-byte pieces
    const pieces = v4Fragments(payload, 8);
    expect(pieces.length).toBeGreaterThan(256);
    let decoded = 0;
    for (const p of pieces) if (decoder.decode(1, p, 0, p.length, 1_000_000, packet)) decoded++;
    expect(decoded).toBe(0);
    expect(decoder.stats.fragments).toBe(pieces.length);
    expect(decoder.stats.reassembled).toBe(0);
    expect(decoder.stats.malformed).toBe(1); // given up at piece 257
    // The pieces after it start over and can never complete: they wait for the timeout.
    const waiting = pieces.length - 257;
    expect(decoder.pendingFragments.bytes).toBe(waiting * 8 - (8 - (payload.length % 8 || 8)) + waiting * PIECE_OVERHEAD_BYTES);
  });
});
