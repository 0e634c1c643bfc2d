/**
 * Decoded packets from the reading thread to one shard worker: a single-producer,
 * single-consumer ring in a SharedArrayBuffer. The reader decodes every packet once and
 * writes the fields a flow table needs (addresses, ports, TCP state, payload) as one record;
 * the worker fills its DecodedPacket from the record in place and never decodes again. Both
 * sides block with Atomics.wait when the ring is full or empty; nothing is allocated per
 * packet on either side.
 *
 * Record layout (8-byte aligned, 32-bit words): length in bytes of the whole record, kind,
 * ordinal (float64), capture time (float64), then for packets: version | protocol << 8 |
 * flags << 16 | shared << 24 | (DNS screen verdict + 1) << 25, ports, seq, ack, payload
 * length, payload missing, VLAN id, tunnel depth, the two addresses (4 words each), where
 * the payload is, and the payload bytes when they are in the record. Payload that lies in
 * the shared read chunks (shared-chunks.ts) is referred to by offset rather than copied: V8
 * copies into shared memory several times slower than into ordinary memory.
 */
import { DecodedPacket } from '../decode/types.js';

export const RECORD_PACKET = 1;
/** The flow tables' idle sweep, at the packet where one table over all flows would run it. */
export const RECORD_SWEEP = 2;
/** Progress only: every packet before this ordinal has been sent. */
export const RECORD_TICK = 3;
/** The following packets come from input number `a` (RecordView.value). */
export const RECORD_SOURCE = 4;
export const RECORD_END = 5;
/** Filler to the end of the ring (the next record starts at its beginning). */
const RECORD_WRAP = 6;

/** Control words: bytes written and bytes read (both wrap at 2^32), and whether the writer
 *  or the reader is (about to be) waiting: a side wakes the other only then, since a wake
 *  is a system call. */
const WRITTEN = 0;
const READ = 1;
const WRITER_WAITING = 2;
const READER_WAITING = 3;
/** Set by a worker that failed: the writer stops waiting for it. */
const READER_FAILED = 4;
/** A writer waiting this long without the reader moving gives up (a worker that died
 *  without saying so, e.g. out of memory). */
const STALL_LIMIT_MS = 60_000;
/** Records between progress reports (the reader hands back space at least this often). */
const BATCH_RECORDS = 1024;
const CONTROL_BYTES = 64;
/** Payload-location word of a record whose payload follows its header. */
const INLINE = 0xffffffff;
const HEADER_BYTES = 96;

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** The shared memory of one ring; it crosses to the worker in workerData. */
export function createRingMemory(dataBytes: number): SharedArrayBuffer {
  if ((dataBytes & (dataBytes - 1)) !== 0 || dataBytes < 1 << 20) throw new RangeError('ring size must be a power of two of at least 1 MiB');
  return new SharedArrayBuffer(CONTROL_BYTES + dataBytes);
}

class RingViews {
  readonly control: Int32Array;
  readonly bytes: Buffer;
  readonly words: Uint32Array;
  readonly doubles: Float64Array;
  readonly size: number;
  readonly mask: number;

  constructor(memory: SharedArrayBuffer) {
    this.control = new Int32Array(memory, 0, CONTROL_BYTES / 4);
    this.size = memory.byteLength - CONTROL_BYTES;
    this.mask = this.size - 1;
    this.bytes = Buffer.from(memory, CONTROL_BYTES, this.size);
    this.words = new Uint32Array(memory, CONTROL_BYTES, this.size / 4);
    this.doubles = new Float64Array(memory, CONTROL_BYTES, this.size / 8);
  }
}

export class PacketRingWriter {
  private readonly v: RingViews;
  /** Bytes written, as published and as pending (not yet published). */
  private written = 0;
  private sinceNotify = 0;
  /** Times the writer found the ring full and waited for the worker. */
  waits = 0;

  constructor(memory: SharedArrayBuffer) {
    this.v = new RingViews(memory);
  }

  /** A packet record; `chunkOffset` is where its payload lies in the shared chunks, or -1
   *  to copy the payload into the record. */
  packet(pkt: DecodedPacket, ordinal: number, shared: boolean, chunkOffset: number): void {
    const length = pkt.payloadLength;
    const inline = chunkOffset < 0;
    const at = this.reserve(align8(HEADER_BYTES + (inline ? length : 0)));
    const w = this.v.words;
    const i = at >> 2;
    this.head(at, RECORD_PACKET, ordinal, pkt.tsMicros);
    w[i + 6] = pkt.ipVersion | (pkt.protocol << 8) | (pkt.tcpFlags << 16) | (shared ? 1 << 24 : 0) | (((pkt.dnsScreen + 1) & 3) << 25);
    w[i + 7] = pkt.srcPort | (pkt.dstPort << 16);
    w[i + 8] = pkt.seq;
    w[i + 9] = pkt.ack;
    w[i + 10] = length;
    w[i + 11] = pkt.payloadMissing;
    w[i + 12] = pkt.vlanId;
    w[i + 13] = pkt.tunnelDepth;
    const src = pkt.src;
    const dst = pkt.dst;
    w[i + 14] = src[0]!;
    w[i + 15] = src[1]!;
    w[i + 16] = src[2]!;
    w[i + 17] = src[3]!;
    w[i + 18] = dst[0]!;
    w[i + 19] = dst[1]!;
    w[i + 20] = dst[2]!;
    w[i + 21] = dst[3]!;
    w[i + 22] = inline ? INLINE : chunkOffset;
    if (inline && length > 0) pkt.buf.copy(this.v.bytes, at + HEADER_BYTES, pkt.payloadOffset, pkt.payloadOffset + length);
    this.publishSoon();
  }

  /** Bytes written so far (wraps at 2^32): a position to wait for with waitUntilRead. */
  get position(): number {
    return this.written;
  }

  /** Waits until the worker has processed every record before `position`. */
  waitUntilRead(position: number): void {
    const control = this.v.control;
    for (;;) {
      const read = Atomics.load(control, READ);
      if (((position - read) | 0) <= 0) return;
      this.waitForReader(read);
    }
  }

  /** Sleeps until the reader hands back space (read moves on from `read`); throws when the
   *  reader failed or has not moved for STALL_LIMIT_MS. */
  private waitForReader(read: number): void {
    const control = this.v.control;
    this.publish();
    this.waits++;
    Atomics.store(control, WRITER_WAITING, 1);
    const since = performance.now();
    // Checked again after raising the flag: a release in between would not have woken us.
    while (Atomics.load(control, READ) === read) {
      if (Atomics.load(control, READER_FAILED) !== 0) throw new Error('a replay worker failed');
      if (performance.now() - since > STALL_LIMIT_MS) throw new Error(`a replay worker made no progress for ${STALL_LIMIT_MS / 1000} s`);
      Atomics.wait(control, READ, read, 1000);
    }
    Atomics.store(control, WRITER_WAITING, 0);
  }

  /** A record without payload (sweep, tick, source, end); `value` is its capture time or input index. */
  mark(kind: number, ordinal: number, value: number): void {
    const at = this.reserve(HEADER_BYTES);
    this.head(at, kind, ordinal, value);
    if (kind === RECORD_END || kind === RECORD_SOURCE) this.publish();
    else this.publishSoon();
  }

  /** Makes everything written visible to the worker and wakes it. */
  publish(): void {
    const control = this.v.control;
    Atomics.store(control, WRITTEN, this.written | 0);
    if (Atomics.load(control, READER_WAITING) !== 0) Atomics.notify(control, WRITTEN);
    this.sinceNotify = 0;
  }

  private publishSoon(): void {
    // Publishing per record would cost an atomic store each; in batches the worker still
    // never waits long.
    if (++this.sinceNotify >= BATCH_RECORDS) this.publish();
  }

  private head(at: number, kind: number, ordinal: number, value: number): void {
    const i = at >> 2;
    this.v.words[i + 1] = kind;
    this.v.doubles[(at >> 3) + 1] = ordinal;
    this.v.doubles[(at >> 3) + 2] = value;
  }

  /** Room for `bytes` contiguous bytes: waits while the worker has not read enough. */
  private reserve(bytes: number): number {
    const { size, mask, words } = this.v;
    if (bytes > size / 2) throw new RangeError(`record of ${bytes} bytes does not fit the ring`);
    let at = this.written & mask;
    const tail = size - at;
    // A record never wraps: fill the rest of the ring and start again at its beginning.
    const need = tail < bytes ? tail + bytes : bytes;
    this.waitForRoom(need);
    if (tail < bytes) {
      words[at >> 2] = tail;
      words[(at >> 2) + 1] = RECORD_WRAP;
      this.written = (this.written + tail) | 0;
      at = 0;
    }
    words[at >> 2] = bytes;
    this.written = (this.written + bytes) | 0;
    return at;
  }

  private waitForRoom(bytes: number): void {
    const control = this.v.control;
    for (;;) {
      const read = Atomics.load(control, READ);
      if (((this.written - read) | 0) + bytes <= this.v.size) return;
      this.waitForReader(read);
    }
  }
}

/** What RingReader.next found: the record's kind, ordinal and value (time or input index). */
export interface RecordView {
  kind: number;
  ordinal: number;
  value: number;
  /** Packet records: a copy of another shard's packet (DNS every shard reads, see dispatcher.ts). */
  shared: boolean;
}

export class PacketRingReader {
  private readonly v: RingViews;
  private readonly chunks: Buffer;
  private read = 0;
  /** Start of the record handed out last: everything before it has been processed. */
  private processed = 0;
  private published = 0;
  private sinceRelease = 0;
  /** Times the worker found the ring empty and waited for the reader. */
  waits = 0;
  readonly view: RecordView = { kind: 0, ordinal: 0, value: 0, shared: false };

  constructor(memory: SharedArrayBuffer, chunks: SharedArrayBuffer) {
    this.v = new RingViews(memory);
    this.chunks = Buffer.from(chunks);
  }

  /** A record is there to read now (next() would not wait). */
  hasRecord(): boolean {
    return this.read !== this.published || this.read !== Atomics.load(this.v.control, WRITTEN);
  }

  /**
   * The next record, waiting for one; packet fields go into `pkt`, whose payload then lies
   * in the ring until the following call.
   */
  next(pkt: DecodedPacket): RecordView {
    const { control, words, doubles, mask } = this.v;
    this.processed = this.read;
    for (;;) {
      if (this.read === this.published) {
        this.release();
        for (;;) {
          this.published = Atomics.load(control, WRITTEN);
          if (this.published !== this.read) break;
          Atomics.store(control, READER_WAITING, 1);
          this.waits++;
          if (Atomics.load(control, WRITTEN) === this.published) Atomics.wait(control, WRITTEN, this.published, 1000);
          Atomics.store(control, READER_WAITING, 0);
        }
      }
      const at = this.read & mask;
      const i = at >> 2;
      const bytes = words[i]!;
      const kind = words[i + 1]!;
      if (++this.sinceRelease >= BATCH_RECORDS) this.release();
      this.read = (this.read + bytes) | 0;
      if (kind === RECORD_WRAP) {
        this.processed = this.read;
        continue;
      }
      const view = this.view;
      view.kind = kind;
      view.ordinal = doubles[(at >> 3) + 1]!;
      view.value = doubles[(at >> 3) + 2]!;
      if (kind === RECORD_PACKET) {
        const packed = words[i + 6]!;
        pkt.ipVersion = packed & 0xff;
        pkt.protocol = (packed >>> 8) & 0xff;
        pkt.tcpFlags = (packed >>> 16) & 0xff;
        view.shared = ((packed >>> 24) & 1) === 1;
        pkt.dnsScreen = ((packed >>> 25) & 3) - 1;
        const ports = words[i + 7]!;
        pkt.srcPort = ports & 0xffff;
        pkt.dstPort = ports >>> 16;
        pkt.seq = words[i + 8]!;
        pkt.ack = words[i + 9]!;
        pkt.payloadLength = words[i + 10]!;
        pkt.payloadMissing = words[i + 11]!;
        pkt.vlanId = words[i + 12]! | 0;
        pkt.tunnelDepth = words[i + 13]!;
        const src = pkt.src;
        const dst = pkt.dst;
        src[0] = words[i + 14]!;
        src[1] = words[i + 15]!;
        src[2] = words[i + 16]!;
        src[3] = words[i + 17]!;
        dst[0] = words[i + 18]!;
        dst[1] = words[i + 19]!;
        dst[2] = words[i + 20]!;
        dst[3] = words[i + 21]!;
        const where = words[i + 22]!;
        if (where === INLINE) {
          pkt.buf = this.v.bytes;
          pkt.payloadOffset = at + HEADER_BYTES;
        } else {
          pkt.buf = this.chunks;
          pkt.payloadOffset = where;
        }
        pkt.tsMicros = view.value;
      }
      return view;
    }
  }

  /** Tells the writer this reader has failed and will read no more (it stops waiting). */
  fail(): void {
    Atomics.store(this.v.control, READER_FAILED, 1);
    Atomics.notify(this.v.control, READ);
  }

  /** Hands the bytes of processed records back to the writer. */
  release(): void {
    const control = this.v.control;
    Atomics.store(control, READ, this.processed);
    if (Atomics.load(control, WRITER_WAITING) !== 0) Atomics.notify(control, READ);
    this.sinceRelease = 0;
  }
}
