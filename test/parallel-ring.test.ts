/**
 * The shared-memory ring between the reader and a shard worker (parallel/packet-ring.ts):
 * every field of a decoded packet crosses intact, payload inside the record or pointed at in
 * the shared chunks, across many wrap-arounds of the ring. Writer and reader run in turns on
 * one thread here; replay --workers (parallel-replay.test.ts) runs them on threads.
 */
import { describe, expect, it } from 'vitest';
import { DecodedPacket } from '../src/decode/types.js';
import { createRingMemory, PacketRingReader, PacketRingWriter, RECORD_END, RECORD_PACKET, RECORD_SWEEP, RECORD_TICK } from '../src/parallel/packet-ring.js';
import { randomInt, seededRandom } from '../src/synth/rng.js';

describe('packet ring', () => {
  it('carries packets and marks intact through many wrap-arounds', () => {
    const memory = createRingMemory(1 << 20);
    const chunks = new SharedArrayBuffer(1 << 16);
    Buffer.from(chunks).fill(0x5a);
    const writer = new PacketRingWriter(memory);
    const reader = new PacketRingReader(memory, chunks);
    const rand = seededRandom(11);
    const source = Buffer.alloc(70_000);
    for (let i = 0; i < source.length; i++) source[i] = i % 251;
    const got = new DecodedPacket();
    let ordinal = 0;
    for (let round = 0; round < 40; round++) {
      const sent: { pkt: DecodedPacket; ordinal: number; shared: boolean; chunkAt: number }[] = [];
      // Under half the ring per round, so the writer never waits for this same thread.
      for (let used = 0; used < 400_000; ) {
        const pkt = new DecodedPacket();
        pkt.ipVersion = rand() < 0.2 ? 6 : 4;
        pkt.protocol = rand() < 0.5 ? 6 : 17;
        pkt.tcpFlags = randomInt(rand, 0, 0x3f);
        pkt.srcPort = randomInt(rand, 0, 65535);
        pkt.dstPort = randomInt(rand, 0, 65535);
        pkt.seq = randomInt(rand, 0, 0xffffffff);
        pkt.ack = randomInt(rand, 0, 0xffffffff);
        for (let w = 0; w < 4; w++) {
          pkt.src[w] = randomInt(rand, 0, 0xffffffff);
          pkt.dst[w] = randomInt(rand, 0, 0xffffffff);
        }
        pkt.vlanId = rand() < 0.5 ? -1 : randomInt(rand, 0, 4095);
        pkt.tunnelDepth = randomInt(rand, 0, 3);
        // The reader's DNS screen verdict rides along (-1: not screened).
        pkt.dnsScreen = randomInt(rand, -1, 2);
        pkt.payloadMissing = rand() < 0.1 ? randomInt(rand, 1, 9000) : 0;
        pkt.tsMicros = 1_700_000_000_000_000 + ordinal * 1000;
        pkt.buf = source;
        pkt.payloadOffset = randomInt(rand, 0, 1000);
        pkt.payloadLength = rand() < 0.05 ? randomInt(rand, 20_000, 60_000) : randomInt(rand, 0, 1500);
        const chunkAt = rand() < 0.3 ? randomInt(rand, 0, 1000) : -1;
        const shared = rand() < 0.1;
        ordinal++;
        if (ordinal % 97 === 0) writer.mark(RECORD_SWEEP, ordinal, pkt.tsMicros);
        writer.packet(pkt, ordinal, shared, chunkAt);
        sent.push({ pkt, ordinal, shared, chunkAt });
        used += 96 + (chunkAt < 0 ? pkt.payloadLength : 0) + 8;
      }
      writer.mark(RECORD_TICK, ordinal, 0);
      writer.publish();
      for (const s of sent) {
        let r = reader.next(got);
        if (r.kind === RECORD_SWEEP) {
          expect(r.ordinal).toBe(s.ordinal);
          expect(r.value).toBe(s.pkt.tsMicros);
          r = reader.next(got);
        }
        expect(r.kind).toBe(RECORD_PACKET);
        expect(r.ordinal).toBe(s.ordinal);
        expect(r.shared).toBe(s.shared);
        const p = s.pkt;
        expect([got.ipVersion, got.protocol, got.tcpFlags, got.srcPort, got.dstPort, got.seq, got.ack, got.vlanId, got.tunnelDepth, got.dnsScreen]).toEqual([
          p.ipVersion, p.protocol, p.tcpFlags, p.srcPort, p.dstPort, p.seq, p.ack, p.vlanId, p.tunnelDepth, p.dnsScreen,
        ]);
        expect([...got.src, ...got.dst]).toEqual([...p.src, ...p.dst]);
        expect([got.payloadLength, got.payloadMissing, got.tsMicros]).toEqual([p.payloadLength, p.payloadMissing, p.tsMicros]);
        if (s.chunkAt >= 0) {
          expect(got.buf.buffer).toBe(chunks);
          expect(got.payloadOffset).toBe(s.chunkAt);
        } else {
          expect(got.buf.subarray(got.payloadOffset, got.payloadOffset + got.payloadLength).equals(p.buf.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength))).toBe(true);
        }
      }
      // The round's last record is done too: hand its space back before writing more.
      expect(reader.next(got).kind).toBe(RECORD_TICK);
      reader.release();
    }
    writer.mark(RECORD_END, ordinal + 1, 0);
    expect(reader.next(got).kind).toBe(RECORD_END);
  });

  it('a writer waiting for room stops, with an error, when the reader says it failed', () => {
    const memory = createRingMemory(1 << 20);
    const writer = new PacketRingWriter(memory);
    const reader = new PacketRingReader(memory, new SharedArrayBuffer(1 << 16));
    const pkt = new DecodedPacket();
    pkt.ipVersion = 4;
    pkt.protocol = 6;
    pkt.buf = Buffer.alloc(1500);
    pkt.payloadLength = 1400;
    let ordinal = 0;
    for (; ordinal < 600; ordinal++) writer.packet(pkt, ordinal, false, -1); // under 1 MiB
    reader.fail();
    expect(() => {
      for (; ordinal < 2000; ordinal++) writer.packet(pkt, ordinal, false, -1);
    }).toThrow('a replay worker failed');
  });

  it('refuses a ring that is not a power of two or too small', () => {
    expect(() => createRingMemory(3 << 20)).toThrow(RangeError);
    expect(() => createRingMemory(1 << 16)).toThrow(RangeError);
  });
});
