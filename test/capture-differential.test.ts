import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedCapturesDir } from '../src/util/paths.js';
import { classicPcap, readAll, sampleRecords, udpFrame, type PcapRecord, type ReadPacket } from './support/capture-bytes.js';
import { listCaptureFiles, readWithPcapParser, sniffFormat, type ReferencePacket } from './support/capture-reference.js';

/** Compares packet by packet: count, timestamps, lengths and bytes. */
function expectSamePackets(ours: ReadPacket[], reference: ReferencePacket[]): void {
  expect(ours.length).toBe(reference.length);
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i]!;
    const b = reference[i]!;
    expect({ i, tsMicros: a.tsMicros, length: a.data.length, wireLength: a.wireLength }).toEqual({
      i,
      tsMicros: b.tsMicros,
      length: b.length,
      wireLength: b.wireLength,
    });
    expect(a.data.equals(b.data), `bytes of packet ${i}`).toBe(true);
  }
}

async function expectAgreement(file: Buffer): Promise<number> {
  const reference = await readWithPcapParser(file);
  for (const chunkSizes of [[1 << 20], [1, 2, 3, 4, 5, 6, 7], [8191]]) {
    const { packets, stats } = await readAll(file, { chunkSizes });
    expectSamePackets(packets, reference.packets);
    for (const p of packets) expect(p.linkType).toBe(reference.linkType);
    expect(stats).toMatchObject({ corruptRecords: 0, truncated: false, packets: reference.packets.length });
  }
  return reference.packets.length;
}

describe('classic pcap agrees with pcap-parser', () => {
  const snapped: PcapRecord[] = sampleRecords(200, { seed: 31 }).map((r) => ({
    ...r,
    data: r.data.subarray(0, Math.min(r.data.length, 96)),
    originalLength: r.data.length,
  }));
  const generated: Array<[string, Buffer]> = [
    ['little-endian microsecond', classicPcap({ littleEndian: true, records: sampleRecords(500, { seed: 1 }) })],
    ['big-endian microsecond, link type 101', classicPcap({ littleEndian: false, linkType: 101, records: sampleRecords(500, { seed: 2 }) })],
    ['little-endian nanosecond', classicPcap({ littleEndian: true, nanosecond: true, records: sampleRecords(300, { seed: 3, nanosecond: true }) })],
    ['big-endian nanosecond', classicPcap({ littleEndian: false, nanosecond: true, records: sampleRecords(300, { seed: 4, nanosecond: true }) })],
    ['snap length 96', classicPcap({ littleEndian: true, snaplen: 96, records: snapped })],
    [
      'records larger than a chunk',
      classicPcap({
        littleEndian: false,
        records: [0, 1, 2].map((i) => ({ seconds: 1_700_000_000 + i, fraction: i, data: udpFrame(i, 60_000 + i * 2000) })),
      }),
    ],
  ];
  for (const [what, file] of generated) {
    it(`on a generated ${what} file`, async () => {
      expect(await expectAgreement(file)).toBeGreaterThan(0);
    });
  }

  const dir = sharedCapturesDir();
  describe.runIf(dir !== null)('on every classic pcap among the shared third-party captures', () => {
    const classic = dir === null ? [] : listCaptureFiles(dir).filter((path) => sniffFormat(readFileSync(path)) === 'pcap');
    it('finds some', () => {
      expect(classic.length).toBeGreaterThan(5);
    });
    for (const path of classic) {
      it(relative(dir!, path), async () => {
        expect(await expectAgreement(readFileSync(path))).toBeGreaterThan(0);
      });
    }
  });
});
