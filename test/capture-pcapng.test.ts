import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../src/capture/types.js';
import {
  AWKWARD_CHUNKINGS,
  block,
  enhancedPacket,
  interfaceDescription,
  ISB_TYPE,
  NRB_TYPE,
  obsoletePacket,
  readAll,
  sectionHeader,
  simplePacket,
  udpFrame,
} from './support/capture-bytes.js';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const TSRESOL_NANO = 9;
const TSRESOL_BINARY_10 = 0x80 | 10;

const frameA = udpFrame(1, 30);
const frameB = udpFrame(2, 80);
const frameC = udpFrame(3, 5);
const frameD = udpFrame(4, 200);
const frameE = udpFrame(5, 17);
const frameF = udpFrame(6, 150);

/**
 * Little-endian section with two interfaces (Ethernet at 10^-9 s; Linux SLL at 2^-10 s with a
 * 10 s offset) and a big-endian section whose interface 0 is raw IP with a 64-byte snap length.
 */
function twoSectionCapture(): Buffer {
  return Buffer.concat([
    sectionHeader(true),
    interfaceDescription(true, LINKTYPE_ETHERNET, { tsresol: TSRESOL_NANO }),
    interfaceDescription(true, LINKTYPE_LINUX_SLL, { snaplen: 128, tsresol: TSRESOL_BINARY_10, tsoffsetSeconds: 10n }),
    block(true, 0x00000bad, Buffer.from('a custom block nobody knows')),
    enhancedPacket(true, 0, 1_700_000_000_123_456_789n, frameA, 1500),
    enhancedPacket(true, 1, 1_700_000_000n * 1024n + 1023n, frameB),
    simplePacket(true, frameC),
    obsoletePacket(true, 1, 1_700_000_001n * 1024n + 512n, frameD),
    block(true, NRB_TYPE, Buffer.concat([Buffer.from([1, 0, 8, 0, 192, 0, 2, 1, 104, 0, 0, 0]), Buffer.alloc(4)])),
    block(true, ISB_TYPE, Buffer.alloc(12)),
    sectionHeader(false),
    interfaceDescription(false, LINKTYPE_RAW, { snaplen: 64 }),
    enhancedPacket(false, 0, 1_700_000_002_000_001n, frameE),
    simplePacket(false, frameF, 200),
    simplePacket(false, frameE.subarray(0, 10)),
  ]);
}

describe('pcapng', () => {
  it('reads two sections of different byte order with two interfaces and every packet block type', async () => {
    const file = twoSectionCapture();
    const { packets, stats } = await readAll(file);
    expect(stats).toMatchObject({
      format: 'pcapng',
      gzip: false,
      nanosecond: false,
      packets: 7,
      inputBytes: file.length,
      corruptRecords: 0,
      resyncs: 0,
      skippedBytes: 0,
      unknownBlocks: 3,
      truncated: false,
      warnings: [],
    });
    expect(packets).toEqual([
      { linkType: LINKTYPE_ETHERNET, interfaceId: 0, tsMicros: 1_700_000_000_123_456, wireLength: 1500, data: frameA },
      { linkType: LINKTYPE_LINUX_SLL, interfaceId: 1, tsMicros: 1_700_000_010_999_023, wireLength: frameB.length, data: frameB },
      // SPBs have no timestamp: they keep the previous packet's.
      { linkType: LINKTYPE_ETHERNET, interfaceId: 0, tsMicros: 1_700_000_010_999_023, wireLength: frameC.length, data: frameC },
      { linkType: LINKTYPE_LINUX_SLL, interfaceId: 1, tsMicros: 1_700_000_011_500_000, wireLength: frameD.length, data: frameD },
      // Interface ids restart in the second section.
      { linkType: LINKTYPE_RAW, interfaceId: 0, tsMicros: 1_700_000_002_000_001, wireLength: frameE.length, data: frameE },
      // SPB captured length = min(original length, snap length, block body).
      { linkType: LINKTYPE_RAW, interfaceId: 0, tsMicros: 1_700_000_002_000_001, wireLength: 200, data: frameF.subarray(0, 64) },
      { linkType: LINKTYPE_RAW, interfaceId: 0, tsMicros: 1_700_000_002_000_001, wireLength: 10, data: frameE.subarray(0, 10) },
    ]);
    expect(stats.packetBytes).toBe(packets.reduce((sum, p) => sum + p.data.length, 0));
  });

  it('gives the same result however the input is chunked', async () => {
    const file = Buffer.concat([
      twoSectionCapture(),
      sectionHeader(true),
      interfaceDescription(true, LINKTYPE_ETHERNET),
      enhancedPacket(true, 0, 1_700_000_003_000_000n, udpFrame(9, 70_000)),
      enhancedPacket(true, 0, 1_700_000_003_000_001n, frameA),
    ]);
    const whole = await readAll(file);
    expect(whole.stats.packets).toBe(9);
    for (const chunkSizes of AWKWARD_CHUNKINGS) {
      const chunked = await readAll(file, { chunkSizes });
      expect(chunked.packets).toEqual(whole.packets);
      expect(chunked.stats).toEqual(whole.stats);
    }
  });

  it('decompresses gzip transparently', async () => {
    const file = twoSectionCapture();
    const plain = await readAll(file);
    for (const chunkSizes of [[1 << 20], [1, 2, 3, 4, 5, 6, 7]]) {
      const zipped = await readAll(gzipSync(file), { chunkSizes });
      expect(zipped.packets).toEqual(plain.packets);
      expect(zipped.stats).toEqual({ ...plain.stats, gzip: true });
    }
  });

  it('skips a packet block for an interface the section does not define', async () => {
    const file = Buffer.concat([
      sectionHeader(true),
      interfaceDescription(true, LINKTYPE_ETHERNET),
      enhancedPacket(true, 1, 1n, frameA),
      enhancedPacket(true, 0, 2n, frameB),
    ]);
    const { packets, stats } = await readAll(file);
    expect(packets.map((p) => p.data)).toEqual([frameB]);
    expect(stats).toMatchObject({ corruptRecords: 1, resyncs: 0, skippedBytes: 0 });
    expect(stats.warnings[0]).toMatch(/undefined interface 1/);
  });

  describe('damaged blocks', () => {
    const packets = Array.from({ length: 12 }, (_, i) => enhancedPacket(true, 0, 1_700_000_000_000_000n + BigInt(i), udpFrame(i, 40 + i * 13)));
    const head = Buffer.concat([sectionHeader(true), interfaceDescription(true, LINKTYPE_ETHERNET)]);
    const good = Buffer.concat([head, ...packets]);
    const blockStart = (i: number) => head.length + packets.slice(0, i).reduce((sum, b) => sum + b.length, 0);
    const expectedData = (skip: number) => packets.map((_, i) => udpFrame(i, 40 + i * 13)).filter((_, i) => i !== skip);

    const corruptions: Array<[string, (file: Buffer, at: number) => void]> = [
      ['a total length that is not a multiple of 4', (f, at) => f.writeUInt32LE(f.readUInt32LE(at + 4) + 2, at + 4)],
      ['a total length below 12', (f, at) => f.writeUInt32LE(8, at + 4)],
      ['a 4 GB total length', (f, at) => f.writeUInt32LE(0xfffffffc, at + 4)],
      ['a trailing length that disagrees', (f, at) => f.writeUInt32LE(f.readUInt32LE(at + 4) + 4, at + 4)],
      ['a plausible length that runs past the end of the input', (f, at) => f.writeUInt32LE(100_000, at + 4)],
    ];
    for (const [what, corrupt] of corruptions) {
      it(`resynchronises after a block with ${what}`, async () => {
        const file = Buffer.from(good);
        corrupt(file, blockStart(5));
        for (const chunkSizes of [[1 << 20], [1, 2, 3, 4, 5, 6, 7], [64]]) {
          const { packets: read, stats } = await readAll(file, { chunkSizes });
          expect(read.map((p) => p.data)).toEqual(expectedData(5));
          expect(stats).toMatchObject({
            packets: 11,
            corruptRecords: 1,
            resyncs: 1,
            skippedBytes: blockStart(6) - blockStart(5),
            truncated: false,
          });
          expect(stats.warnings[0]).toContain(`offset ${blockStart(5)}`);
        }
      });
    }

    it('finds the next block after garbage of odd length', async () => {
      const file = Buffer.concat([good.subarray(0, blockStart(3)), Buffer.from('not a block!!'), good.subarray(blockStart(3))]);
      const { packets: read, stats } = await readAll(file, { chunkSizes: [5] });
      expect(read).toHaveLength(12);
      expect(stats).toMatchObject({ corruptRecords: 1, resyncs: 1, skippedBytes: 13 });
    });

    it('delivers the blocks before a cut and flags truncation', async () => {
      for (const cut of [blockStart(11) + 3, blockStart(11) + 20, good.length - 1]) {
        const { packets: read, stats } = await readAll(good.subarray(0, cut), { chunkSizes: [1, 2, 3, 4, 5, 6, 7] });
        expect(read).toHaveLength(11);
        expect(stats.truncated).toBe(true);
        expect(stats.corruptRecords).toBe(0);
        expect(stats.warnings).toEqual([expect.stringContaining(`input ends inside a block at offset ${blockStart(11)}`)]);
      }
    });
  });

  it('rejects a first section header with an invalid byte-order magic', async () => {
    const file = Buffer.concat([sectionHeader(true), interfaceDescription(true, 1)]);
    file.writeUInt32LE(0x12345678, 8);
    const error = await readAll(file).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CaptureError);
    expect((error as Error).message).toBe('input: pcapng section header has an invalid byte-order magic');
  });
});
