import { describe, expect, it } from 'vitest';
import { readCapture } from '../src/capture/reader.js';
import { CaptureError, MAX_WARNINGS, type ReaderStats } from '../src/capture/types.js';
import {
  chunkedReadable,
  classicPcap,
  enhancedPacket,
  interfaceDescription,
  pcapFileHeader,
  prng,
  sampleRecords,
  sectionHeader,
  simplePacket,
  udpFrame,
} from './support/capture-bytes.js';

const MAX_RECORD_BYTES = 4096;

interface Outcome {
  error: string | null;
  stats: ReaderStats | null;
  packets: Array<{ ts: number; wire: number; ifid: number; link: number; hex: string }>;
}

/** Reads with invariant checks on every delivered view; CaptureError is the only allowed failure. */
async function readChecked(bytes: Buffer, chunkSizes: number[]): Promise<Outcome> {
  const packets: Outcome['packets'] = [];
  let packetBytes = 0;
  try {
    const stats = await readCapture(
      chunkedReadable(bytes, chunkSizes),
      (pkt) => {
        expect(pkt.offset).toBeGreaterThanOrEqual(0);
        expect(pkt.offset + pkt.length).toBeLessThanOrEqual(pkt.buf.length);
        expect(pkt.length).toBeLessThanOrEqual(MAX_RECORD_BYTES + 64 * 1024);
        expect(Number.isFinite(pkt.tsMicros)).toBe(true);
        packetBytes += pkt.length;
        packets.push({
          ts: pkt.tsMicros,
          wire: pkt.wireLength,
          ifid: pkt.interfaceId,
          link: pkt.linkType,
          hex: pkt.buf.toString('hex', pkt.offset, pkt.offset + pkt.length),
        });
      },
      { maxRecordBytes: MAX_RECORD_BYTES },
    );
    expect(stats.packets).toBe(packets.length);
    expect(stats.packetBytes).toBe(packetBytes);
    expect(stats.inputBytes).toBe(bytes.length);
    expect(stats.warnings.length).toBeLessThanOrEqual(MAX_WARNINGS);
    expect(stats.skippedBytes).toBeLessThanOrEqual(bytes.length);
    expect(stats.resyncs).toBeLessThanOrEqual(stats.corruptRecords);
    return { error: null, stats, packets };
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    return { error: (err as Error).message, stats: null, packets };
  }
}

function mutate(base: Buffer, random: () => number): Buffer {
  let bytes = Buffer.from(base);
  const edits = 1 + Math.floor(random() * 6);
  for (let e = 0; e < edits; e++) {
    if (bytes.length === 0) break;
    const at = Math.floor(random() * bytes.length);
    const kind = random();
    if (kind < 0.5) {
      bytes[at] = Math.floor(random() * 256);
    } else if (kind < 0.65 && bytes.length >= 4) {
      bytes.writeUInt32LE(Math.floor(random() * 2 ** 32), Math.min(at, bytes.length - 4));
    } else if (kind < 0.8) {
      const garbage = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      bytes = Buffer.concat([bytes.subarray(0, at), garbage, bytes.subarray(at)]);
    } else if (kind < 0.9) {
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + Math.floor(random() * 200)))]);
    } else {
      bytes = bytes.subarray(0, at);
    }
  }
  return bytes;
}

const pcapng = Buffer.concat([
  sectionHeader(true),
  interfaceDescription(true, 1, { tsresol: 9 }),
  interfaceDescription(true, 113, { tsresol: 0x80 | 10 }),
  ...Array.from({ length: 30 }, (_, i) =>
    i % 5 === 4 ? simplePacket(true, udpFrame(i, 20)) : enhancedPacket(true, i % 2, 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, udpFrame(i, i * 17)),
  ),
  sectionHeader(false),
  interfaceDescription(false, 101),
  ...Array.from({ length: 10 }, (_, i) => enhancedPacket(false, 0, 1_700_000_100_000_000n + BigInt(i), udpFrame(i, 33))),
]);
const bases: Array<[string, Buffer]> = [
  ['little-endian pcap', classicPcap({ littleEndian: true, records: sampleRecords(40, { seed: 9, maxPayload: 300 }) })],
  ['big-endian nanosecond pcap', classicPcap({ littleEndian: false, nanosecond: true, records: sampleRecords(40, { seed: 10, nanosecond: true, maxPayload: 300 }) })],
  ['pcapng', pcapng],
];

describe('damaged input never crashes the reader', () => {
  for (const [name, base] of bases) {
    it(`survives random damage to a ${name} file, identically for every chunking`, async () => {
      const random = prng(base.length);
      let recovered = 0;
      for (let round = 0; round < 150; round++) {
        const damaged = mutate(base, random);
        const whole = await readChecked(damaged, [Math.max(1, damaged.length)]);
        const chunked = await readChecked(damaged, [1 + Math.floor(random() * 7), 1 + Math.floor(random() * 50)]);
        expect(chunked).toEqual(whole);
        if (whole.error === null && whole.stats!.corruptRecords > 0 && whole.packets.length > 0) recovered++;
      }
      expect(recovered).toBeGreaterThan(10);
    });
  }

  it('walks megabytes of random bytes after a valid header with bounded memory', async () => {
    const random = prng(77);
    const noise = Buffer.from(Array.from({ length: 2 * 1024 * 1024 }, () => Math.floor(random() * 256)));
    for (const head of [pcapFileHeader({ littleEndian: true }), sectionHeader(true)]) {
      const before = process.memoryUsage().arrayBuffers;
      const outcome = await readChecked(Buffer.concat([head, noise]), [65536, 777]);
      expect(outcome.error).toBeNull();
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
      expect(outcome.stats!.skippedBytes + outcome.stats!.packetBytes).toBeGreaterThan(noise.length * 0.9);
    }
  });
});
