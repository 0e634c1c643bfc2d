import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { links } from '../src/synth/link.js';
import { tcpSession } from '../src/synth/tcp-session.js';
import { frame, pcapBytes, pcapngBytes, PcapFileWriter, type FramedPacket } from '../src/synth/writer.js';
import { scratchDir } from './support/scratch.js';

const tmp = scratchDir('synth-writer-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const packets: FramedPacket[] = [
  { tsMicros: 1_700_000_000_123_456, frame: Buffer.from('0123456789abcdef', 'hex') },
  { tsMicros: 1_700_000_001_000_001, frame: Buffer.alloc(99, 0xee) },
  { tsMicros: 1_700_000_002_999_999, frame: Buffer.alloc(3, 1) },
];

interface PcapRecord {
  sec: number;
  frac: number;
  incl: number;
  orig: number;
  data: Buffer;
}

/** Independent classic pcap reader for the tests. */
function readPcap(buf: Buffer) {
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const header = { magic: u32(0), major: u16(4), minor: u16(6), snaplen: u32(16), linkType: u32(20) };
  const records: PcapRecord[] = [];
  let pos = 24;
  while (pos < buf.length) {
    const incl = u32(pos + 8);
    records.push({ sec: u32(pos), frac: u32(pos + 4), incl, orig: u32(pos + 12), data: buf.subarray(pos + 16, pos + 16 + incl) });
    pos += 16 + incl;
  }
  expect(pos).toBe(buf.length);
  return { le, header, records };
}

interface Block {
  type: number;
  body: Buffer;
}

/** Independent pcapng block walker: checks framing (lengths, alignment, trailer). */
function readPcapng(buf: Buffer) {
  const le = buf.readUInt32LE(8) === 0x1a2b3c4d;
  if (!le) expect(buf.readUInt32BE(8)).toBe(0x1a2b3c4d);
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const blocks: Block[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const total = u32(buf, pos + 4);
    expect(total % 4).toBe(0);
    expect(u32(buf, pos + total - 4)).toBe(total);
    blocks.push({ type: u32(buf, pos), body: buf.subarray(pos + 8, pos + total - 4) });
    pos += total;
  }
  expect(pos).toBe(buf.length);
  const options = (b: Buffer, from: number) => {
    const out = new Map<number, Buffer>();
    let p = from;
    while (p < b.length) {
      const code = u16(b, p);
      const len = u16(b, p + 2);
      if (code === 0) {
        expect(p + 4).toBe(b.length);
        break;
      }
      out.set(code, b.subarray(p + 4, p + 4 + len));
      const padded = (len + 3) & ~3;
      expect(b.subarray(p + 4 + len, p + 4 + padded).every((x) => x === 0)).toBe(true);
      p += 4 + padded;
    }
    return out;
  };
  return { le, blocks, u16, u32, options };
}

describe('pcapBytes', () => {
  it('writes a little-endian microsecond file by default', () => {
    const { le, header, records } = readPcap(pcapBytes(packets, { linkType: 1 }));
    expect(le).toBe(true);
    expect(header).toEqual({ magic: 0xa1b2c3d4, major: 2, minor: 4, snaplen: 262144, linkType: 1 });
    expect(records.map((r) => [r.sec, r.frac, r.incl, r.orig])).toEqual([
      [1_700_000_000, 123_456, 8, 8],
      [1_700_000_001, 1, 99, 99],
      [1_700_000_002, 999_999, 3, 3],
    ]);
    records.forEach((r, i) => expect(r.data.equals(packets[i]!.frame)).toBe(true));
  });

  it('writes big-endian nanosecond files, honouring tsNanos', () => {
    const withNanos = [...packets, { tsMicros: 0, tsNanos: 1_700_000_003_000_000_789n, frame: Buffer.alloc(4) }];
    const { le, header, records } = readPcap(pcapBytes(withNanos, { linkType: 101, nanosecond: true, bigEndian: true }));
    expect(le).toBe(false);
    expect(header.magic).toBe(0xa1b23c4d);
    expect(header.linkType).toBe(101);
    expect(records.map((r) => r.frac)).toEqual([123_456_000, 1_000, 999_999_000, 789]);
    expect(records[3]!.sec).toBe(1_700_000_003);
  });

  it('cuts frames at the snap length but keeps the original length', () => {
    const { header, records } = readPcap(pcapBytes(packets, { linkType: 1, snaplen: 10 }));
    expect(header.snaplen).toBe(10);
    expect(records.map((r) => [r.incl, r.orig])).toEqual([
      [8, 8],
      [10, 99],
      [3, 3],
    ]);
  });
});

describe('pcapngBytes', () => {
  it('writes SHB, IDBs with options and padded EPBs', () => {
    const mixed: FramedPacket[] = [
      { ...packets[0]!, interfaceId: 0 },
      { ...packets[1]!, interfaceId: 1, comment: 'second' },
      { tsMicros: 0, tsNanos: 1_700_000_002_000_000_007n, frame: Buffer.alloc(5, 7), interfaceId: 1 },
    ];
    const file = pcapngBytes(mixed, {
      interfaces: [
        { linkType: 1, name: 'eth0' },
        { linkType: 113, tsresolNanos: true, name: 'any' },
      ],
    });
    const { le, blocks, u16, u32, options } = readPcapng(file);
    expect(le).toBe(true);
    expect(blocks.map((b) => b.type)).toEqual([0x0a0d0d0a, 1, 1, 6, 6, 6]);

    const shb = blocks[0]!.body;
    expect([u16(shb, 4), u16(shb, 6)]).toEqual([1, 0]);
    expect(shb.readBigInt64LE(8)).toBe(-1n);
    expect(options(shb, 16).get(4)?.toString()).toBe('minewatch synth');

    const [idb0, idb1] = [blocks[1]!.body, blocks[2]!.body];
    expect(u16(idb0, 0)).toBe(1);
    expect(u16(idb1, 0)).toBe(113);
    expect(options(idb0, 8).get(2)?.toString()).toBe('eth0');
    expect(options(idb0, 8).has(9)).toBe(false);
    expect([...options(idb1, 8).get(9)!]).toEqual([9]);

    const epbs = blocks.slice(3).map((b) => b.body);
    const ts = (b: Buffer) => (BigInt(u32(b, 4)) << 32n) | BigInt(u32(b, 8));
    expect(epbs.map((b) => u32(b, 0))).toEqual([0, 1, 1]);
    expect(ts(epbs[0]!)).toBe(1_700_000_000_123_456n);
    expect(ts(epbs[1]!)).toBe(1_700_000_001_000_001_000n);
    expect(ts(epbs[2]!)).toBe(1_700_000_002_000_000_007n);
    epbs.forEach((b, i) => {
      const len = u32(b, 12);
      expect(len).toBe(mixed[i]!.frame.length);
      expect(u32(b, 16)).toBe(len);
      expect(b.subarray(20, 20 + len).equals(mixed[i]!.frame)).toBe(true);
      const padded = (len + 3) & ~3;
      expect(b.subarray(20 + len, 20 + padded).every((x) => x === 0)).toBe(true);
      const opts = options(b, 20 + padded);
      expect(opts.get(1)?.toString()).toBe(i === 1 ? 'second' : undefined);
    });
  });

  it('writes big-endian sections', () => {
    const file = pcapngBytes(packets, { interfaces: [{ linkType: 1 }], bigEndian: true });
    expect(file.readUInt32BE(8)).toBe(0x1a2b3c4d);
    const { blocks, u32 } = readPcapng(file);
    expect(blocks).toHaveLength(5);
    expect(u32(blocks[2]!.body, 12)).toBe(8);
  });

  it('refuses packets on undeclared interfaces', () => {
    expect(() => pcapngBytes([{ ...packets[0]!, interfaceId: 2 }], { interfaces: [{ linkType: 1 }] })).toThrow(/interface 2/);
  });
});

describe('PcapFileWriter', () => {
  it('streams byte-for-byte what pcapBytes builds, across chunk boundaries, with backpressure', async () => {
    const session = tcpSession({
      client: { ip: '192.0.2.50', port: 50505 },
      server: { ip: '203.0.113.50', port: 8080 },
      startMicros: 1_700_000_000_000_000,
      turns: Array.from({ length: 40 }, (_, i) => ({ from: i % 2 ? ('server' as const) : ('client' as const), data: Buffer.alloc(60_000, i) })),
      seed: 3,
    });
    const framed = frame(session, links.ethernet());
    const big = { tsMicros: framed.at(-1)!.tsMicros + 1, frame: Buffer.alloc(3 << 20, 0x42) };
    const all = [...framed, big];
    const path = join(tmp, 'stream.pcap');
    const writer = await PcapFileWriter.open(path, { linkType: 1, snaplen: 8 << 20 });
    let waits = 0;
    for (const p of all) {
      const pending = writer.write(p.tsMicros, p.frame);
      if (pending) {
        waits++;
        await pending;
      }
    }
    await writer.close();
    expect(waits).toBeGreaterThan(0);
    const written = readFileSync(path);
    expect(written.length).toBeGreaterThan(5 << 20);
    expect(written.equals(pcapBytes(all, { linkType: 1, snaplen: 8 << 20 }))).toBe(true);
  });

  it('is readable by an independent pcap parser', async () => {
    // pcap-parser only knows the microsecond magic.
    const path = join(tmp, 'parser.pcap');
    const writer = await PcapFileWriter.open(path, { linkType: 1 });
    for (const p of packets) await writer.write(p.tsMicros, p.frame);
    await writer.close();
    const require = createRequire(import.meta.url);
    const pcapParser = require('pcap-parser') as {
      parse(path: string): NodeJS.EventEmitter;
    };
    const seen = await new Promise<{ header: { linkLayerType: number }; packets: { data: Buffer; header: { timestampSeconds: number } }[] }>((resolve, reject) => {
      const parser = pcapParser.parse(path);
      let header: { linkLayerType: number } = { linkLayerType: -1 };
      const got: { data: Buffer; header: { timestampSeconds: number } }[] = [];
      parser.on('globalHeader', (h: { linkLayerType: number }) => (header = h));
      parser.on('packet', (p: { data: Buffer; header: { timestampSeconds: number } }) => got.push(p));
      parser.on('end', () => resolve({ header, packets: got }));
      parser.on('error', reject);
    });
    expect(seen.header.linkLayerType).toBe(1);
    expect(seen.packets.map((p) => p.header.timestampSeconds)).toEqual([1_700_000_000, 1_700_000_001, 1_700_000_002]);
    seen.packets.forEach((p, i) => expect(Buffer.from(p.data).equals(packets[i]!.frame)).toBe(true));
  });

  it('writes nanosecond files', async () => {
    const path = join(tmp, 'nanos.pcap');
    const writer = await PcapFileWriter.open(path, { linkType: 101, nanosecond: true });
    for (const p of packets) await writer.write(p.tsMicros, p.frame);
    await writer.close();
    const { header, records } = readPcap(readFileSync(path));
    expect(header.magic).toBe(0xa1b23c4d);
    expect(header.linkType).toBe(101);
    expect(records.map((r) => r.frac)).toEqual([123_456_000, 1_000, 999_999_000]);
  });

  it('rejects writes after close', async () => {
    const writer = await PcapFileWriter.open(join(tmp, 'closed.pcap'), { linkType: 1 });
    await writer.close();
    expect(() => writer.write(0, Buffer.alloc(1))).toThrow(/after close/);
  });
});
