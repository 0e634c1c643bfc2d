/**
 * Capture file writers for synthetic traffic: classic pcap (µs or ns, either byte order)
 * and pcapng (SHB + IDBs + EPBs), in memory for tests and streaming for large benchmark
 * files.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Link } from './link.js';
import type { TimedPacket } from './tcp-session.js';

export interface FramedPacket {
  tsMicros: number;
  frame: Buffer;
  /** pcapng interface index (default 0); ignored by classic pcap. */
  interfaceId?: number;
  /** Exact capture time in ns since the epoch; when set it replaces tsMicros, so
   *  nanosecond outputs can carry sub-microsecond digits. */
  tsNanos?: bigint;
  /** pcapng only: written as the packet's opt_comment. */
  comment?: string;
}

export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
export const DEFAULT_SNAPLEN = 262144;

const PCAP_GLOBAL_HEADER = 24;
const PCAP_RECORD_HEADER = 16;

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;

/** Fixed-size output with a chosen byte order; sized up front so nothing reallocates. */
class ByteWriter {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    private readonly bigEndian: boolean,
  ) {}
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    if (this.bigEndian) this.buf.writeUInt16BE(v, this.pos);
    else this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    if (this.bigEndian) this.buf.writeUInt32BE(v >>> 0, this.pos);
    else this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }
  bytes(b: Buffer): void {
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  /** Zero bytes up to the next multiple of 4. */
  pad4(): void {
    while (this.pos % 4 !== 0) this.buf[this.pos++] = 0;
  }
}

const pad4 = (n: number) => (n + 3) & ~3;

/** Capture time in the file's unit: whole seconds plus µs or ns. */
function splitTimestamp(p: FramedPacket, nanosecond: boolean): { seconds: number; fraction: number } {
  if (p.tsNanos !== undefined) {
    const seconds = p.tsNanos / 1_000_000_000n;
    const ns = p.tsNanos % 1_000_000_000n;
    return { seconds: Number(seconds), fraction: nanosecond ? Number(ns) : Number(ns / 1000n) };
  }
  const seconds = Math.floor(p.tsMicros / 1e6);
  const micros = p.tsMicros - seconds * 1e6;
  return { seconds, fraction: nanosecond ? micros * 1000 : micros };
}

function pcapGlobalHeader(w: ByteWriter, linkType: number, nanosecond: boolean, snaplen: number): void {
  w.u32(nanosecond ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS);
  w.u16(2);
  w.u16(4);
  w.u32(0); // thiszone: GMT
  w.u32(0); // sigfigs
  w.u32(snaplen);
  w.u32(linkType);
}

function pcapRecord(w: ByteWriter, p: FramedPacket, nanosecond: boolean, snaplen: number): void {
  const { seconds, fraction } = splitTimestamp(p, nanosecond);
  const captured = Math.min(p.frame.length, snaplen);
  w.u32(seconds);
  w.u32(fraction);
  w.u32(captured);
  w.u32(p.frame.length);
  w.bytes(p.frame.subarray(0, captured));
}

/** Classic libpcap file. Frames longer than snaplen are cut, keeping the original length. */
export function pcapBytes(
  packets: FramedPacket[],
  o: { linkType: number; nanosecond?: boolean; bigEndian?: boolean; snaplen?: number },
): Buffer {
  const snaplen = o.snaplen ?? DEFAULT_SNAPLEN;
  const nanosecond = o.nanosecond ?? false;
  let size = PCAP_GLOBAL_HEADER;
  for (const p of packets) size += PCAP_RECORD_HEADER + Math.min(p.frame.length, snaplen);
  const w = new ByteWriter(Buffer.alloc(size), o.bigEndian ?? false);
  pcapGlobalHeader(w, o.linkType, nanosecond, snaplen);
  for (const p of packets) pcapRecord(w, p, nanosecond, snaplen);
  return w.buf;
}

export interface PcapngInterface {
  linkType: number;
  /** Timestamps in ns (if_tsresol = 9) instead of the default µs. */
  tsresolNanos?: boolean;
  name?: string;
  /** 0 (the default) means no limit. */
  snaplen?: number;
}

type PcapngOption = { code: number; value: Buffer };

const optionsSize = (opts: PcapngOption[]) =>
  opts.length === 0 ? 0 : opts.reduce((n, opt) => n + 4 + pad4(opt.value.length), 4 /* opt_endofopt */);

function writeOptions(w: ByteWriter, opts: PcapngOption[]): void {
  if (opts.length === 0) return;
  for (const opt of opts) {
    w.u16(opt.code);
    w.u16(opt.value.length);
    w.bytes(opt.value);
    w.pad4();
  }
  w.u16(OPT_ENDOFOPT);
  w.u16(0);
}

/**
 * pcapng with one section: SHB, one IDB per interface (in order, so the index is the
 * interface id), then one EPB per packet in the given order.
 */
export function pcapngBytes(
  packets: FramedPacket[],
  o: { interfaces: PcapngInterface[]; bigEndian?: boolean; userAppl?: string },
): Buffer {
  if (o.interfaces.length === 0) throw new Error('pcapng needs at least one interface');
  const shbOptions: PcapngOption[] = [{ code: OPT_SHB_USERAPPL, value: Buffer.from(o.userAppl ?? 'minewatch synth') }];
  const idbOptions = o.interfaces.map((itf) => {
    const opts: PcapngOption[] = [];
    if (itf.name !== undefined) opts.push({ code: OPT_IF_NAME, value: Buffer.from(itf.name) });
    if (itf.tsresolNanos) opts.push({ code: OPT_IF_TSRESOL, value: Buffer.from([9]) });
    return opts;
  });
  const epbOptions = packets.map((p): PcapngOption[] =>
    p.comment === undefined ? [] : [{ code: OPT_COMMENT, value: Buffer.from(p.comment) }],
  );
  const shbLength = 28 + optionsSize(shbOptions);
  const idbLengths = idbOptions.map((opts) => 20 + optionsSize(opts));
  const epbLengths = packets.map((p, i) => 32 + pad4(p.frame.length) + optionsSize(epbOptions[i]!));
  const total = shbLength + idbLengths.reduce((a, b) => a + b, 0) + epbLengths.reduce((a, b) => a + b, 0);

  const w = new ByteWriter(Buffer.alloc(total), o.bigEndian ?? false);
  w.u32(BLOCK_SHB);
  w.u32(shbLength);
  w.u32(BYTE_ORDER_MAGIC);
  w.u16(1);
  w.u16(0);
  w.u32(0xffffffff); // section length unknown (-1)
  w.u32(0xffffffff);
  writeOptions(w, shbOptions);
  w.u32(shbLength);

  o.interfaces.forEach((itf, i) => {
    w.u32(BLOCK_IDB);
    w.u32(idbLengths[i]!);
    w.u16(itf.linkType);
    w.u16(0);
    w.u32(itf.snaplen ?? 0);
    writeOptions(w, idbOptions[i]!);
    w.u32(idbLengths[i]!);
  });

  packets.forEach((p, i) => {
    const interfaceId = p.interfaceId ?? 0;
    const itf = o.interfaces[interfaceId];
    if (!itf) throw new Error(`packet ${i} names interface ${interfaceId}, only ${o.interfaces.length} defined`);
    const units =
      p.tsNanos !== undefined
        ? itf.tsresolNanos
          ? p.tsNanos
          : p.tsNanos / 1000n
        : BigInt(p.tsMicros) * (itf.tsresolNanos ? 1000n : 1n);
    w.u32(BLOCK_EPB);
    w.u32(epbLengths[i]!);
    w.u32(interfaceId);
    w.u32(Number(units >> 32n));
    w.u32(Number(units & 0xffffffffn));
    w.u32(p.frame.length);
    w.u32(p.frame.length);
    w.bytes(p.frame);
    w.pad4();
    writeOptions(w, epbOptions[i]!);
    w.u32(epbLengths[i]!);
  });
  return w.buf;
}

/** Output is gathered into chunks of this size so huge files cost few stream writes. */
const STREAM_CHUNK = 1 << 20;

/**
 * Streaming classic pcap writer (little-endian) for captures too large to build in memory.
 * Await write() when it returns a promise: that is the stream asking the producer to wait.
 */
export class PcapFileWriter {
  private chunk = Buffer.allocUnsafe(STREAM_CHUNK);
  private used = 0;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    private readonly stream: WriteStream,
    private readonly nanosecond: boolean,
    private readonly snaplen: number,
  ) {
    stream.on('error', (err) => {
      this.failure = err;
    });
  }

  static async open(path: string, o: { linkType: number; nanosecond?: boolean; snaplen?: number }): Promise<PcapFileWriter> {
    const stream = createWriteStream(path);
    await once(stream, 'open');
    const writer = new PcapFileWriter(stream, o.nanosecond ?? false, o.snaplen ?? DEFAULT_SNAPLEN);
    const header = new ByteWriter(Buffer.alloc(PCAP_GLOBAL_HEADER), false);
    pcapGlobalHeader(header, o.linkType, writer.nanosecond, writer.snaplen);
    writer.append(header.buf);
    return writer;
  }

  write(tsMicros: number, frame: Buffer): Promise<void> | void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('PcapFileWriter: write after close');
    const recordLength = PCAP_RECORD_HEADER + Math.min(frame.length, this.snaplen);
    let mustWait = false;
    if (this.used > 0 && this.used + recordLength > this.chunk.length) mustWait = this.flush();
    if (recordLength > this.chunk.length) {
      const record = new ByteWriter(Buffer.alloc(recordLength), false);
      pcapRecord(record, { tsMicros, frame }, this.nanosecond, this.snaplen);
      mustWait = !this.stream.write(record.buf) || mustWait;
    } else {
      // Serialise straight into the chunk: no per-packet allocation.
      const record = new ByteWriter(this.chunk, false);
      record.pos = this.used;
      pcapRecord(record, { tsMicros, frame }, this.nanosecond, this.snaplen);
      this.used = record.pos;
    }
    return mustWait ? this.drained() : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.used > 0) this.flush();
    this.stream.end();
    await finished(this.stream);
    if (this.failure) throw this.failure;
  }

  private append(bytes: Buffer): void {
    bytes.copy(this.chunk, this.used);
    this.used += bytes.length;
  }

  /** Hands the filled chunk to the stream (which keeps it) and starts a fresh one.
   *  Returns true when the stream asked for a pause. */
  private flush(): boolean {
    const full = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(STREAM_CHUNK);
    this.used = 0;
    return !this.stream.write(full);
  }

  private async drained(): Promise<void> {
    await once(this.stream, 'drain');
  }
}

/** Wraps each IP packet in the link's framing, keeping timestamps. */
export function frame(packets: TimedPacket[], link: Link): FramedPacket[] {
  return packets.map((p) => ({ tsMicros: p.tsMicros, frame: link.frame(p.ip) }));
}
