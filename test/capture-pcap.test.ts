import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ClassicPcapParser, classicPcapVariant } from '../src/capture/classic-pcap.js';
import { RecordWalker } from '../src/capture/record-walker.js';
import { newReaderStats } from '../src/capture/stats.js';
import { createInflater, readCapture } from '../src/capture/reader.js';
import {
  AWKWARD_CHUNKINGS,
  classicPcap,
  pcapFileHeader,
  pcapRecord,
  pcapRecordHeader,
  readAll,
  sampleRecords,
  udpFrame,
  type PcapRecord,
} from './support/capture-bytes.js';

const LINKTYPE_ETHERNET = 1;
/** Ethernet with the FCS-present flag and a 4-byte FCS length in the upper bits. */
const ETHERNET_WITH_FCS_BITS = (1 << 28) | (2 << 26) | LINKTYPE_ETHERNET;

function expectedMicros(record: PcapRecord, nanosecond: boolean): number {
  return record.seconds * 1e6 + (nanosecond ? Math.floor(record.fraction / 1000) : record.fraction);
}

describe('classic pcap', () => {
  for (const littleEndian of [true, false]) {
    for (const nanosecond of [false, true]) {
      it(`reads ${littleEndian ? 'little' : 'big'}-endian ${nanosecond ? 'nanosecond' : 'microsecond'} files`, async () => {
        const records: PcapRecord[] = [
          { seconds: 1_700_000_000, fraction: nanosecond ? 123_456_789 : 123_456, data: udpFrame(0, 10) },
          { seconds: 1_700_000_001, fraction: nanosecond ? 999_999_999 : 999_999, data: udpFrame(1, 0) },
          // Cut by a 64-byte snap length: the wire length stays larger.
          { seconds: 1_700_000_002, fraction: 0, data: udpFrame(2, 900).subarray(0, 64), originalLength: 942 },
          { seconds: 4_294_967_295, fraction: nanosecond ? 1_000 : 1, data: udpFrame(3, 1) },
        ];
        const file = classicPcap({ littleEndian, nanosecond, snaplen: 64, linkType: ETHERNET_WITH_FCS_BITS, records });
        const { packets, stats } = await readAll(file);

        expect(stats).toMatchObject({
          format: 'pcap',
          gzip: false,
          nanosecond,
          packets: 4,
          packetBytes: records.reduce((sum, r) => sum + r.data.length, 0),
          inputBytes: file.length,
          corruptRecords: 0,
          resyncs: 0,
          skippedBytes: 0,
          truncated: false,
          warnings: [],
        });
        expect(packets.map((p) => p.tsMicros)).toEqual(records.map((r) => expectedMicros(r, nanosecond)));
        expect(packets[0]!.tsMicros).toBe(1_700_000_000_123_456);
        expect(packets.map((p) => p.data)).toEqual(records.map((r) => r.data));
        expect(packets.map((p) => p.wireLength)).toEqual([52, 42, 942, 43]);
        for (const p of packets) {
          expect(p.linkType).toBe(LINKTYPE_ETHERNET);
          expect(p.interfaceId).toBe(0);
        }
      });
    }
  }

  it('gives the same packets however the input is chunked, including records larger than a chunk', async () => {
    const records = sampleRecords(60, { seed: 7 });
    records.push({ seconds: records[59]!.seconds, fraction: 5, data: udpFrame(99, 70_000) });
    records.push(...sampleRecords(5, { seed: 8 }));
    const file = classicPcap({ littleEndian: true, records });
    const whole = await readAll(file);
    expect(whole.stats.packets).toBe(66);
    for (const chunkSizes of AWKWARD_CHUNKINGS) {
      const chunked = await readAll(file, { chunkSizes });
      expect(chunked.packets).toEqual(whole.packets);
      expect(chunked.stats).toEqual(whole.stats);
    }
  });

  it('accepts a zero-length record', async () => {
    const records: PcapRecord[] = [
      { seconds: 1, fraction: 2, data: Buffer.alloc(0), originalLength: 60 },
      { seconds: 1, fraction: 3, data: udpFrame(0, 4) },
    ];
    const { packets, stats } = await readAll(classicPcap({ littleEndian: false, records }));
    expect(stats.packets).toBe(2);
    expect(packets[0]!.data.length).toBe(0);
    expect(packets[0]!.wireLength).toBe(60);
  });

  describe('truncated input', () => {
    const records = sampleRecords(10, { seed: 3 });
    const file = classicPcap({ littleEndian: true, records });
    const lastStart = file.length - 16 - records[9]!.data.length;

    it('delivers the records before a cut inside the last record', async () => {
      for (const cut of [lastStart + 5, lastStart + 16 + 3, file.length - 1]) {
        for (const chunkSizes of [[1 << 20], [1, 2, 3, 4, 5, 6, 7]]) {
          const { packets, stats } = await readAll(file.subarray(0, cut), { chunkSizes });
          expect(stats.packets).toBe(9);
          expect(packets.map((p) => p.data)).toEqual(records.slice(0, 9).map((r) => r.data));
          expect(stats.truncated).toBe(true);
          expect(stats.corruptRecords).toBe(0);
          expect(stats.warnings).toHaveLength(1);
          expect(stats.warnings[0]).toMatch(new RegExp(`input ends inside a record at offset ${lastStart}`));
        }
      }
    });

    it('flags a file that ends inside its file header', async () => {
      const { stats } = await readAll(file.subarray(0, 10));
      expect(stats).toMatchObject({ format: 'pcap', packets: 0, truncated: true });
      expect(stats.warnings[0]).toMatch(/file header/);
    });

    it('is not truncated when the file ends right after the file header', async () => {
      const { stats } = await readAll(file.subarray(0, 24));
      expect(stats).toMatchObject({ format: 'pcap', packets: 0, truncated: false, warnings: [] });
    });
  });

  describe('corrupt record headers', () => {
    const records = sampleRecords(20, { seed: 11 });
    const good = classicPcap({ littleEndian: true, records });
    /** Offset of record i's header. */
    const recordStart = (i: number) => 24 + records.slice(0, i).reduce((sum, r) => sum + 16 + r.data.length, 0);

    const corruptions: Array<[string, (header: Buffer) => void]> = [
      ['a captured length over the limit', (h) => h.writeUInt32LE(300_000, 8)],
      ['a 4 GB captured length', (h) => h.writeUInt32LE(0xffffffff, 8)],
      ['an original length below the captured length', (h) => h.writeUInt32LE(1, 12)],
      ['a microsecond field of a whole second', (h) => h.writeUInt32LE(1_000_000, 4)],
      [
        'a plausible length that runs past the end of the input',
        (h) => {
          h.writeUInt32LE(200_000, 8);
          h.writeUInt32LE(200_000, 12);
        },
      ],
    ];
    for (const [what, corrupt] of corruptions) {
      it(`skips a record with ${what} and recovers the records after it`, async () => {
        const file = Buffer.from(good);
        corrupt(file.subarray(recordStart(7), recordStart(7) + 16));
        for (const chunkSizes of [[1 << 20], [1, 2, 3, 4, 5, 6, 7], [100]]) {
          const { packets, stats } = await readAll(file, { chunkSizes });
          const expected = records.filter((_, i) => i !== 7);
          expect(packets.map((p) => p.data)).toEqual(expected.map((r) => r.data));
          expect(packets.map((p) => p.tsMicros)).toEqual(expected.map((r) => expectedMicros(r, false)));
          expect(stats).toMatchObject({
            packets: 19,
            corruptRecords: 1,
            resyncs: 1,
            skippedBytes: recordStart(8) - recordStart(7),
            truncated: false,
            inputBytes: file.length,
          });
          expect(stats.warnings).toHaveLength(2);
          expect(stats.warnings[0]).toContain(`offset ${recordStart(7)}`);
          expect(stats.warnings[1]).toContain(`resynchronised at offset ${recordStart(8)}`);
        }
      });
    }

    it('recovers after garbage inserted between records', async () => {
      const garbage = Buffer.alloc(333, 0xee);
      const file = Buffer.concat([good.subarray(0, recordStart(5)), garbage, good.subarray(recordStart(5))]);
      const { packets, stats } = await readAll(file, { chunkSizes: [1, 2, 3, 4, 5, 6, 7] });
      expect(packets.map((p) => p.data)).toEqual(records.map((r) => r.data));
      expect(stats).toMatchObject({ corruptRecords: 1, resyncs: 1, skippedBytes: 333 });
    });

    it('skips everything after a corrupt header when nothing plausible follows', async () => {
      const file = Buffer.concat([good.subarray(0, recordStart(3)), pcapRecordHeader(true, 1, 1, 0xffffffff, 0xffffffff), Buffer.alloc(5000)]);
      const { stats } = await readAll(file, { chunkSizes: [512] });
      expect(stats).toMatchObject({ packets: 3, corruptRecords: 1, resyncs: 1, skippedBytes: 5016, truncated: false });
    });

    it('keeps warnings bounded when corruption repeats', async () => {
      // A bad header after every second record: each resync lands on a record whose successor is good.
      const parts: Buffer[] = [pcapFileHeader({ littleEndian: true })];
      sampleRecords(200, { seed: 5 }).forEach((record, i) => {
        parts.push(pcapRecord(true, record));
        if (i % 2 === 1) parts.push(pcapRecordHeader(true, 0, 2_000_000, 1, 1));
      });
      const { stats } = await readAll(Buffer.concat(parts));
      expect(stats.packets).toBe(200);
      expect(stats.corruptRecords).toBe(100);
      expect(stats.skippedBytes).toBe(100 * 16);
      expect(stats.warnings.length).toBe(20);
      expect(stats.warnings.at(-1)).toBe('further warnings suppressed');
    });
  });

  describe('a header claiming a 4 GB record', () => {
    it('streams through tens of megabytes after it without buffering them', async () => {
      const zeroChunk = Buffer.alloc(1 << 20);
      const tail = sampleRecords(3, { seed: 2 });
      const claim = pcapRecordHeader(true, tail[0]!.seconds, 0, 0xfffffff0, 0xfffffff0);
      async function* input(): AsyncGenerator<Buffer> {
        yield pcapFileHeader({ littleEndian: true });
        yield claim;
        for (let i = 0; i < 32; i++) yield zeroChunk;
        for (const record of tail) yield pcapRecord(true, record);
      }
      const seen: number[] = [];
      const started = Date.now();
      const stats = await readCapture(Readable.from(input()), (pkt) => seen.push(pkt.length));
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(seen).toEqual(tail.map((r) => r.data.length));
      expect(stats).toMatchObject({ corruptRecords: 1, resyncs: 1, skippedBytes: 16 + 32 * (1 << 20), truncated: false });
    });

    it('never grows the carry buffer beyond one record and its lookahead', () => {
      const stats = newReaderStats();
      const parser = new ClassicPcapParser(classicPcapVariant(0xd4c3b2a1)!, stats, () => {}, 256 * 1024);
      const walker = new RecordWalker(parser);
      walker.push(pcapFileHeader({ littleEndian: true, snaplen: 0xffffffff }));
      walker.push(pcapRecordHeader(true, 1, 0, 0xffffffff, 0xffffffff));
      // Garbage full of plausible-looking headers, split at odd offsets.
      const random = Buffer.alloc(3 * 1024 * 1024);
      for (let at = 0; at + 16 <= random.length; at += 16) random.set(pcapRecordHeader(true, 1, 0, 200_000, 200_000), at);
      for (let at = 0; at < random.length; at += 65_521) walker.push(random.subarray(at, at + 65_521));
      walker.end();
      expect(stats.corruptRecords).toBe(1);
      expect(walker.carryCapacity).toBeLessThanOrEqual(2 * (256 * 1024 + 32));
    });
  });

  describe('gzip', () => {
    const records = sampleRecords(40, { seed: 21, nanosecond: true });
    const file = classicPcap({ littleEndian: false, nanosecond: true, records });

    it('decompresses transparently and reports the decompressed size', async () => {
      const plain = await readAll(file);
      for (const chunkSizes of [[1 << 20], [1, 2, 3, 4, 5, 6, 7]]) {
        const zipped = await readAll(gzipSync(file), { chunkSizes });
        expect(zipped.packets).toEqual(plain.packets);
        expect(zipped.stats).toEqual({ ...plain.stats, gzip: true });
      }
      expect(plain.stats.inputBytes).toBe(file.length);
    });

    it('keeps the packets before a cut in the compressed stream', async () => {
      const zipped = gzipSync(file);
      const { packets, stats } = await readAll(zipped.subarray(0, Math.floor(zipped.length * 0.6)));
      expect(stats.truncated).toBe(true);
      expect(stats.gzip).toBe(true);
      expect(packets.length).toBeGreaterThan(5);
      expect(packets.length).toBeLessThan(40);
      expect(stats.warnings.join('\n')).toMatch(/gzip stream is damaged or cut short/);
      const plain = await readAll(file);
      expect(packets).toEqual(plain.packets.slice(0, packets.length));
    });

    it('inflates ahead of a reader that is busy elsewhere (more than one chunk waiting)', async () => {
      // 8 MiB of varied bytes: several of the inflater's 1 MiB output chunks.
      const data = Buffer.alloc(8 << 20);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((Math.imul(i, 2654435761) >>> 7) & 0x0f0f0f0f, i);
      const inflater = createInflater();
      inflater.write(gzipSync(data));
      inflater.end();
      // Nobody reads: with the stream defaults it would stop after its first chunk.
      const deadline = Date.now() + 5000;
      while (inflater.readableLength < 2 << 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(inflater.readableLength).toBeGreaterThanOrEqual(2 << 20);
      // And it still stops: what it holds stays bounded however far the input goes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(inflater.readableLength).toBeLessThanOrEqual(4 << 20);
      const chunks: Buffer[] = [];
      for await (const chunk of inflater) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
    });
  });
});
