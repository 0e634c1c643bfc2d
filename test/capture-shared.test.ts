import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCaptureInput, readCapture } from '../src/capture/reader.js';
import { sharedCapturesDir } from '../src/util/paths.js';
import { copyPacket, type ReadPacket } from './support/capture-bytes.js';
import { listCaptureFiles, readWithTshark, sniffFormat, tsharkAvailable } from './support/capture-reference.js';

const dir = sharedCapturesDir();
const files = dir === null ? [] : listCaptureFiles(dir);

async function readFile(path: string): Promise<{ packets: ReadPacket[]; stats: Awaited<ReturnType<typeof readCapture>> }> {
  const packets: ReadPacket[] = [];
  const stats = await readCapture(openCaptureInput(path), (pkt) => packets.push(copyPacket(pkt)));
  return { packets, stats };
}

describe.runIf(dir !== null)('shared third-party captures', () => {
  it('include both formats', () => {
    const formats = new Set(files.map((path) => sniffFormat(readFileSync(path))));
    expect(formats).toEqual(new Set(['pcap', 'pcapng']));
  });

  for (const path of files) {
    it(`${relative(dir!, path)} reads cleanly`, async () => {
      const { packets, stats } = await readFile(path);
      expect(stats.format).toBe(sniffFormat(readFileSync(path)));
      expect(stats).toMatchObject({ corruptRecords: 0, resyncs: 0, skippedBytes: 0, truncated: false, warnings: [] });
      expect(stats.packets).toBeGreaterThan(0);
      expect(stats.packets).toBe(packets.length);
      expect(stats.inputBytes).toBe(statSync(path).size);
      for (const p of packets) expect(Number.isSafeInteger(p.tsMicros) && p.tsMicros >= 0).toBe(true);
    });
  }

  describe.runIf(tsharkAvailable())('agree with tshark', () => {
    for (const path of files) {
      it(relative(dir!, path), async () => {
        const { packets } = await readFile(path);
        const reference = readWithTshark(path);
        expect(packets.length).toBe(reference.length);
        for (let i = 0; i < packets.length; i++) {
          const a = packets[i]!;
          const b = reference[i]!;
          expect({ i, tsMicros: a.tsMicros, length: a.data.length, wireLength: a.wireLength, interfaceId: a.interfaceId }).toEqual({
            i,
            tsMicros: b.tsMicros,
            length: b.length,
            wireLength: b.wireLength,
            interfaceId: b.interfaceId,
          });
          expect(a.data.equals(b.data), `bytes of packet ${i}`).toBe(true);
        }
      });
    }
  });
});
