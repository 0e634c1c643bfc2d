/**
 * readCaptureFile (synchronous reads into one reused buffer) must give exactly what the
 * stream reader gives: the same packets, statistics, warnings and errors, for clean,
 * damaged, cut and compressed files, and for records cut by its 1 MiB chunk boundaries.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openCaptureInput, readCapture, readCaptureFile, type ReadProgress } from '../src/capture/reader.js';
import { Decoder } from '../src/decode/decoder.js';
import { DecodedPacket } from '../src/decode/types.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { classicPcap, sampleRecords } from './support/capture-bytes.js';
import type { CapturedPacket } from '../src/capture/types.js';
import { scratchDir } from './support/scratch.js';

const dir = scratchDir('minewatch-reader-');

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** One line per packet (fields and a digest of its bytes): cheap to compare in bulk. */
function line(p: CapturedPacket): string {
  const digest = createHash('sha1').update(p.buf.subarray(p.offset, p.offset + p.length)).digest('hex');
  return `${p.linkType} ${p.interfaceId} ${p.tsMicros} ${p.length} ${p.wireLength} ${digest}`;
}

async function viaStream(path: string): Promise<{ packets: string[]; stats: unknown } | { error: string }> {
  const packets: string[] = [];
  try {
    const stats = await readCapture(openCaptureInput(path), (p) => packets.push(line(p)));
    return { packets, stats };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function viaFile(path: string, progress?: ReadProgress): Promise<{ packets: string[]; stats: unknown } | { error: string }> {
  const packets: string[] = [];
  try {
    const stats = await readCaptureFile(path, (p) => packets.push(line(p)), progress ? { progress } : {});
    return { packets, stats };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** About 3.3 MB of records of every size up to 9 kB: many records straddle 1 MiB chunks. */
const big = classicPcap({ littleEndian: true, records: sampleRecords(700, { seed: 5, maxPayload: 9000 }) });

describe('readCaptureFile reads like the stream reader', () => {
  const cases: [string, () => Buffer][] = [
    ['bundled pcapng (several interfaces)', () => readFileSync(join(PROJECT_ROOT, 'captures', 'encapsulations.pcapng'))],
    ['bundled big-endian nanosecond pcap', () => readFileSync(join(PROJECT_ROOT, 'captures', 'awkward-tcp.pcap'))],
    ['records across 1 MiB chunk boundaries', () => big],
    ['a damaged record header in the middle (resync)', () => {
      const damaged = Buffer.from(big);
      damaged.writeUInt32LE(0xfffffff0, 2_000_000); // wherever it lands, something breaks
      return damaged;
    }],
    ['a file cut inside a record', () => big.subarray(0, big.length - 700)],
    ['less than a magic number', () => Buffer.from([0xd4, 0xc3])],
    ['not a capture', () => Buffer.from('these are not packets\n')],
    ['an empty file', () => Buffer.alloc(0)],
  ];
  for (const [name, bytes] of cases) {
    it(name, async () => {
      const path = file(`${name.replace(/\W+/g, '-')}.cap`, bytes());
      const expected = await viaStream(path);
      const got = await viaFile(path);
      expect(got).toEqual(expected);
    });
  }

  it('every record of the chunk-crossing file', async () => {
    const got = await viaFile(file('count.pcap', big));
    expect('packets' in got && got.packets.length).toBe(700);
  });

  it('a gzip file (which it hands to the stream reader)', async () => {
    const plain = file('plain.pcap', big);
    const gz = file('big.pcap.gz', gzipSync(big));
    const fromGzip = await viaFile(gz);
    const fromPlain = await viaFile(plain);
    expect('packets' in fromGzip && fromGzip.packets).toEqual('packets' in fromPlain && fromPlain.packets);
  });

  it('missing files and folders give the same one-line errors', async () => {
    const missing = join(dir, 'missing.pcap');
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    for (const path of [missing, folder]) expect(await viaFile(path)).toEqual(await viaStream(path));
    expect(await viaFile(missing)).toEqual({ error: `${missing}: no such file` });
  });

  it('counts the bytes it has read for progress displays', async () => {
    for (const path of [file('progress.pcap', big), file('progress.pcap.gz', gzipSync(big))]) {
      const progress: ReadProgress = { bytesRead: 0 };
      await viaFile(path, progress);
      expect(progress.bytesRead).toBe(statSync(path).size);
    }
  });
});

describe('Decoder.decodePacket', () => {
  it('decodes a reader packet like decode() with its fields', async () => {
    const byFields: string[] = [];
    const byPacket: string[] = [];
    const a = new Decoder();
    const b = new Decoder();
    const outA = new DecodedPacket();
    const outB = new DecodedPacket();
    const show = (ok: boolean, p: DecodedPacket) => `${ok} ${p.protocol} ${p.srcPort} ${p.dstPort} ${p.payloadLength} ${p.tsMicros} ${p.src.join('.')}`;
    await readCaptureFile(join(PROJECT_ROOT, 'captures', 'encapsulations.pcapng'), (pkt) => {
      byFields.push(show(a.decode(pkt.linkType, pkt.buf, pkt.offset, pkt.length, pkt.tsMicros, outA), outA));
      byPacket.push(show(b.decodePacket(pkt, outB), outB));
    });
    expect(byPacket.length).toBeGreaterThan(100);
    expect(byPacket).toEqual(byFields);
    expect(b.stats).toEqual(a.stats);
  });
});
