import { addWarning } from './stats.js';
import { u32 } from './bytes.js';
import type { RecordParser } from './record-walker.js';
import { ACCEPT, REJECT, ResyncingParser } from './resync.js';
import { newCapturedPacket, type CapturedPacket, type PacketHandler, type ReaderStats } from './types.js';

const FILE_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
/** Smallest per-record limit regardless of the header's snap length (some writers put 0 there). */
const MIN_RECORD_LIMIT = 65535;
/**
 * Resync rule: a candidate record header counts as plausible when it has 1..limit captured
 * bytes, an original length between that and MAX_PLAUSIBLE_WIRE, a sub-second field below
 * one second, and (once any record was read) a timestamp within RESYNC_TIME_WINDOW seconds
 * of the last good record. It is accepted only if the header right after it is plausible by
 * the same rule, or the input ends before another full header. At the end of the input, a
 * record running past the end counts as damaged rather than truncated when an acceptable
 * header starts inside the bytes it claimed.
 */
const MAX_PLAUSIBLE_WIRE = 16 * 1024 * 1024;
const RESYNC_TIME_WINDOW = 86_400;

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;

/** Byte order and resolution for a big-endian read of the first four bytes, or null. */
export function classicPcapVariant(magicBE: number): { littleEndian: boolean; nanosecond: boolean } | null {
  switch (magicBE) {
    case PCAP_MAGIC_MICRO:
      return { littleEndian: false, nanosecond: false };
    case 0xd4c3b2a1:
      return { littleEndian: true, nanosecond: false };
    case PCAP_MAGIC_NANO:
      return { littleEndian: false, nanosecond: true };
    case 0x4d3cb2a1:
      return { littleEndian: true, nanosecond: true };
    default:
      return null;
  }
}

/** Classic libpcap files: a 24-byte file header, then 16-byte record headers each followed by data. */
export class ClassicPcapParser extends ResyncingParser implements RecordParser {
  resyncWindow: number;

  private readonly littleEndian: boolean;
  private readonly nanosecond: boolean;
  private readonly fractionLimit: number;
  private headerRead = false;
  private recordLimit: number;
  /** Input offset of the first unconsumed byte. */
  private consumed = 0;
  /** Seconds of the last good record, or -1 before the first. */
  private lastSeconds = -1;
  private readonly pkt: CapturedPacket = newCapturedPacket();

  constructor(
    variant: { littleEndian: boolean; nanosecond: boolean },
    stats: ReaderStats,
    private readonly onPacket: PacketHandler,
    private readonly maxRecordBytes: number,
  ) {
    super(stats, RECORD_HEADER_BYTES, FILE_HEADER_BYTES);
    this.littleEndian = variant.littleEndian;
    this.nanosecond = variant.nanosecond;
    this.fractionLimit = variant.nanosecond ? 1e9 : 1e6;
    this.recordLimit = maxRecordBytes;
    this.resyncWindow = 2 * RECORD_HEADER_BYTES + maxRecordBytes;
    stats.format = 'pcap';
    stats.nanosecond = variant.nanosecond;
  }

  parse(buf: Buffer, start: number, end: number, eof: boolean): number {
    this.base = this.consumed - start;
    let p = start;
    if (!this.headerRead) {
      if (end - p < FILE_HEADER_BYTES) {
        this.need = FILE_HEADER_BYTES;
        return this.finish(start, p, end, eof, 'the file header');
      }
      this.readFileHeader(buf, p);
      p += FILE_HEADER_BYTES;
    }
    const le = this.littleEndian;
    const limit = this.recordLimit;
    const fractionLimit = this.fractionLimit;
    const pkt = this.pkt;
    const stats = this.stats;
    pkt.buf = buf;
    for (;;) {
      if (this.resyncing) {
        p = this.scan(buf, p, end, eof);
        if (this.resyncing) break;
      }
      const available = end - p;
      if (available < RECORD_HEADER_BYTES) {
        this.need = RECORD_HEADER_BYTES;
        break;
      }
      const seconds = u32(buf, p, le);
      const fraction = u32(buf, p + 4, le);
      const captured = u32(buf, p + 8, le);
      const original = u32(buf, p + 12, le);
      if (captured > limit || original < captured || fraction >= fractionLimit) {
        p = this.startResync(p, corruptHeader(seconds, describeDamage(captured, original, fraction, limit)));
        continue;
      }
      const total = RECORD_HEADER_BYTES + captured;
      if (available < total) {
        // At the very end, a good record inside the remainder means this header lied about its length.
        if (eof && this.acceptableFollows(buf, p + 1, end)) {
          p = this.startResync(p, corruptHeader(seconds, `captured length ${captured} runs past the end of the input`));
          continue;
        }
        this.need = total;
        break;
      }
      pkt.tsMicros = seconds * 1e6 + (this.nanosecond ? Math.floor(fraction / 1000) : fraction);
      pkt.offset = p + RECORD_HEADER_BYTES;
      pkt.length = captured;
      pkt.wireLength = original;
      this.lastSeconds = seconds;
      stats.packets++;
      stats.packetBytes += captured;
      this.onPacket(pkt);
      p += total;
    }
    return this.finish(start, p, end, eof, 'a record');
  }

  private readFileHeader(buf: Buffer, at: number): void {
    const snaplen = u32(buf, at + 16, this.littleEndian);
    // The link-type field's upper bits carry FCS information, not the link type.
    this.pkt.linkType = u32(buf, at + 20, this.littleEndian) & 0xffff;
    this.recordLimit = Math.min(Math.max(snaplen, MIN_RECORD_LIMIT), this.maxRecordBytes);
    this.resyncWindow = 2 * RECORD_HEADER_BYTES + this.recordLimit;
    this.headerRead = true;
  }

  /** Records the consumption of buf[start, p); at eof, whatever is left is a cut-off record. */
  private finish(start: number, p: number, end: number, eof: boolean, what: string): number {
    if (eof && p < end) {
      this.stats.truncated = true;
      addWarning(this.stats, `input ends inside ${what} at offset ${this.base + p} (${end - p} of ${this.need} bytes)`);
      p = end;
    }
    this.consumed += p - start;
    return p;
  }

  /**
   * Applies the resync rule to a candidate header at q: ACCEPT, REJECT, or (before the end of
   * input) the number of bytes from q needed to decide.
   */
  protected judge(buf: Buffer, q: number, end: number, eof: boolean): number {
    // Cheap length test first: most garbage positions fail it.
    const captured = u32(buf, q + 8, this.littleEndian);
    if (captured === 0 || captured > this.recordLimit || !this.plausible(buf, q)) return REJECT;
    const next = q + RECORD_HEADER_BYTES + captured;
    if (end - next >= RECORD_HEADER_BYTES) return this.plausible(buf, next) ? ACCEPT : REJECT;
    if (!eof) return next + RECORD_HEADER_BYTES - q;
    return next <= end ? ACCEPT : REJECT;
  }

  private plausible(buf: Buffer, p: number): boolean {
    const le = this.littleEndian;
    const captured = u32(buf, p + 8, le);
    const original = u32(buf, p + 12, le);
    if (captured === 0 || captured > this.recordLimit || original < captured || original > MAX_PLAUSIBLE_WIRE) return false;
    if (u32(buf, p + 4, le) >= this.fractionLimit) return false;
    return this.lastSeconds < 0 || Math.abs(u32(buf, p, le) - this.lastSeconds) <= RESYNC_TIME_WINDOW;
  }
}

function corruptHeader(seconds: number, reason: string): string {
  return `corrupt record header (time ${seconds}): ${reason}`;
}

function describeDamage(captured: number, original: number, fraction: number, limit: number): string {
  if (captured > limit) return `captured length ${captured} exceeds the limit of ${limit}`;
  if (original < captured) return `original length ${original} is below captured length ${captured}`;
  return `sub-second field ${fraction} is out of range`;
}
