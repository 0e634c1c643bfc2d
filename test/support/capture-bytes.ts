/**
 * Tiny byte builders for capture-reader tests: classic pcap and pcapng files assembled field
 * by field from the format specifications, plus helpers to stream and collect them.
 */
import { Readable } from 'node:stream';
import { readCapture } from '../../src/capture/reader.js';
import type { CapturedPacket, ReaderStats } from '../../src/capture/types.js';

// ---------------------------------------------------------------- integers

function u16(value: number, littleEndian: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (littleEndian) b.writeUInt16LE(value);
  else b.writeUInt16BE(value);
  return b;
}

function u32(value: number, littleEndian: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (littleEndian) b.writeUInt32LE(value >>> 0);
  else b.writeUInt32BE(value >>> 0);
  return b;
}

function u64(value: bigint, littleEndian: boolean): Buffer {
  const b = Buffer.alloc(8);
  if (littleEndian) b.writeBigUInt64LE(BigInt.asUintN(64, value));
  else b.writeBigUInt64BE(BigInt.asUintN(64, value));
  return b;
}

function pad4(data: Buffer): Buffer {
  const padding = (4 - (data.length % 4)) % 4;
  return padding === 0 ? data : Buffer.concat([data, Buffer.alloc(padding)]);
}

// ---------------------------------------------------------------- packets

/** Deterministic PRNG (mulberry32) so generated data and fuzz cases are reproducible. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An Ethernet/IPv4/UDP frame between documentation addresses (192.0.2.x -> 198.51.100.x)
 * whose payload is `payloadBytes` bytes derived from `index`.
 */
export function udpFrame(index: number, payloadBytes: number): Buffer {
  const frame = Buffer.alloc(14 + 20 + 8 + payloadBytes);
  Buffer.from([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02]).copy(frame, 0);
  frame.writeUInt16BE(0x0800, 12);
  frame[14] = 0x45;
  frame.writeUInt16BE(Math.min(0xffff, 20 + 8 + payloadBytes), 16);
  frame[22] = 64;
  frame[23] = 17;
  Buffer.from([192, 0, 2, 1 + (index % 250)]).copy(frame, 26);
  Buffer.from([198, 51, 100, 1 + ((index * 7) % 250)]).copy(frame, 30);
  frame.writeUInt16BE(40000 + (index % 1000), 34);
  frame.writeUInt16BE(3333, 36);
  frame.writeUInt16BE(Math.min(0xffff, 8 + payloadBytes), 38);
  for (let i = 0; i < payloadBytes; i++) frame[42 + i] = (index * 31 + i * 7) & 0xff;
  return frame;
}

// ---------------------------------------------------------------- classic pcap

export interface PcapRecord {
  seconds: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  fraction: number;
  data: Buffer;
  /** Defaults to data.length. */
  originalLength?: number;
}

export interface ClassicPcapOptions {
  littleEndian: boolean;
  nanosecond?: boolean;
  snaplen?: number;
  /** The whole 32-bit link-type field (FCS bits included). */
  linkType?: number;
  records: PcapRecord[];
}

export function pcapFileHeader(opts: Omit<ClassicPcapOptions, 'records'>): Buffer {
  const le = opts.littleEndian;
  return Buffer.concat([
    u32(opts.nanosecond === true ? 0xa1b23c4d : 0xa1b2c3d4, le),
    u16(2, le),
    u16(4, le),
    u32(0, le),
    u32(0, le),
    u32(opts.snaplen ?? 262144, le),
    u32(opts.linkType ?? 1, le),
  ]);
}

export function pcapRecordHeader(
  littleEndian: boolean,
  seconds: number,
  fraction: number,
  capturedLength: number,
  originalLength: number,
): Buffer {
  return Buffer.concat([
    u32(seconds, littleEndian),
    u32(fraction, littleEndian),
    u32(capturedLength, littleEndian),
    u32(originalLength, littleEndian),
  ]);
}

export function pcapRecord(littleEndian: boolean, record: PcapRecord): Buffer {
  return Buffer.concat([
    pcapRecordHeader(littleEndian, record.seconds, record.fraction, record.data.length, record.originalLength ?? record.data.length),
    record.data,
  ]);
}

export function classicPcap(opts: ClassicPcapOptions): Buffer {
  return Buffer.concat([pcapFileHeader(opts), ...opts.records.map((r) => pcapRecord(opts.littleEndian, r))]);
}

/** `count` records of UDP frames one millisecond apart (plus `jitter` in the fraction). */
export function sampleRecords(count: number, opts: { nanosecond?: boolean; seed?: number; maxPayload?: number } = {}): PcapRecord[] {
  const random = prng(opts.seed ?? 1);
  const maxPayload = opts.maxPayload ?? 1400;
  const records: PcapRecord[] = [];
  for (let i = 0; i < count; i++) {
    const micros = 1_700_000_000_000_000 + i * 1000 + Math.floor(random() * 1000);
    const seconds = Math.floor(micros / 1e6);
    const fraction = opts.nanosecond === true ? (micros % 1e6) * 1000 + Math.floor(random() * 1000) : micros % 1e6;
    records.push({ seconds, fraction, data: udpFrame(i, Math.floor(random() * maxPayload)) });
  }
  return records;
}

// ---------------------------------------------------------------- pcapng

export const SHB_TYPE = 0x0a0d0d0a;
export const IDB_TYPE = 1;
export const PB_TYPE = 2;
export const SPB_TYPE = 3;
export const NRB_TYPE = 4;
export const ISB_TYPE = 5;
export const EPB_TYPE = 6;

/** Any block: type, total length, body padded to 4 bytes, total length. */
export function block(littleEndian: boolean, type: number, body: Buffer): Buffer {
  const padded = pad4(body);
  const total = 12 + padded.length;
  return Buffer.concat([u32(type, littleEndian), u32(total, littleEndian), padded, u32(total, littleEndian)]);
}

/** Options list: code, length, value padded to 4, closed by opt_endofopt. */
export function options(littleEndian: boolean, entries: Array<[code: number, value: Buffer]>): Buffer {
  if (entries.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const [code, value] of entries) parts.push(u16(code, littleEndian), u16(value.length, littleEndian), pad4(value));
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

export function sectionHeader(littleEndian: boolean): Buffer {
  const body = Buffer.concat([u32(0x1a2b3c4d, littleEndian), u16(1, littleEndian), u16(0, littleEndian), u64(-1n, littleEndian)]);
  return block(littleEndian, SHB_TYPE, body);
}

export function interfaceDescription(
  littleEndian: boolean,
  linkType: number,
  opts: { snaplen?: number; tsresol?: number; tsoffsetSeconds?: bigint } = {},
): Buffer {
  const entries: Array<[number, Buffer]> = [[2, Buffer.from('eth0')]];
  if (opts.tsresol !== undefined) entries.push([9, Buffer.from([opts.tsresol])]);
  if (opts.tsoffsetSeconds !== undefined) entries.push([14, u64(opts.tsoffsetSeconds, littleEndian)]);
  const body = Buffer.concat([u16(linkType, littleEndian), u16(0, littleEndian), u32(opts.snaplen ?? 0, littleEndian), options(littleEndian, entries)]);
  return block(littleEndian, IDB_TYPE, body);
}

export function enhancedPacket(littleEndian: boolean, interfaceId: number, ticks: bigint, data: Buffer, originalLength = data.length): Buffer {
  const body = Buffer.concat([
    u32(interfaceId, littleEndian),
    u32(Number(ticks >> 32n), littleEndian),
    u32(Number(ticks & 0xffffffffn), littleEndian),
    u32(data.length, littleEndian),
    u32(originalLength, littleEndian),
    pad4(data),
    options(littleEndian, [[1, Buffer.from('a comment')]]),
  ]);
  return block(littleEndian, EPB_TYPE, body);
}

export function obsoletePacket(littleEndian: boolean, interfaceId: number, ticks: bigint, data: Buffer, originalLength = data.length): Buffer {
  const body = Buffer.concat([
    u16(interfaceId, littleEndian),
    u16(0, littleEndian),
    u32(Number(ticks >> 32n), littleEndian),
    u32(Number(ticks & 0xffffffffn), littleEndian),
    u32(data.length, littleEndian),
    u32(originalLength, littleEndian),
    pad4(data),
  ]);
  return block(littleEndian, PB_TYPE, body);
}

/** SPB whose body holds `data` (maybe fewer bytes than originalLength, as a snap length would cut). */
export function simplePacket(littleEndian: boolean, data: Buffer, originalLength = data.length): Buffer {
  return block(littleEndian, SPB_TYPE, Buffer.concat([u32(originalLength, littleEndian), pad4(data)]));
}

// ---------------------------------------------------------------- streaming and collecting

/** Streams `bytes` in chunks whose sizes cycle through `sizes`. */
export function chunkedReadable(bytes: Buffer, sizes: number[]): Readable {
  function* chunks(): Generator<Buffer> {
    let i = 0;
    for (let at = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length]!;
      yield bytes.subarray(at, at + size);
      at += size;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

export interface ReadPacket {
  linkType: number;
  tsMicros: number;
  interfaceId: number;
  wireLength: number;
  /** A copy: the reader's view is only valid during the callback. */
  data: Buffer;
}

export function copyPacket(pkt: CapturedPacket): ReadPacket {
  return {
    linkType: pkt.linkType,
    tsMicros: pkt.tsMicros,
    interfaceId: pkt.interfaceId,
    wireLength: pkt.wireLength,
    data: Buffer.from(pkt.buf.subarray(pkt.offset, pkt.offset + pkt.length)),
  };
}

/** Reads a capture given as bytes (one chunk, or chunks cycling through `chunkSizes`). */
export async function readAll(
  bytes: Buffer | Readable,
  opts: { chunkSizes?: number[]; maxRecordBytes?: number } = {},
): Promise<{ packets: ReadPacket[]; stats: ReaderStats }> {
  const input = Buffer.isBuffer(bytes) ? chunkedReadable(bytes, opts.chunkSizes ?? [Math.max(1, bytes.length)]) : bytes;
  const packets: ReadPacket[] = [];
  const readerOpts = opts.maxRecordBytes === undefined ? {} : { maxRecordBytes: opts.maxRecordBytes };
  const stats = await readCapture(input, (pkt) => packets.push(copyPacket(pkt)), readerOpts);
  return { packets, stats };
}

/** Chunkings that cut records everywhere: single bytes, a 1..7 cycle, odd and page-ish sizes. */
export const AWKWARD_CHUNKINGS: number[][] = [[1], [1, 2, 3, 4, 5, 6, 7], [7, 3, 5], [13], [4093], [65536]];
