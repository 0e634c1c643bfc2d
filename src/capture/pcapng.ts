import { addWarning } from './stats.js';
import { u16, u32 } from './bytes.js';
import type { RecordParser } from './record-walker.js';
import { ACCEPT, REJECT, ResyncingParser } from './resync.js';
import { TimestampScale } from './timestamps.js';
import { CaptureError, newCapturedPacket, type CapturedPacket, type PacketHandler, type ReaderStats } from './types.js';

export const SECTION_HEADER_BLOCK = 0x0a0d0d0a;
const INTERFACE_DESCRIPTION_BLOCK = 1;
const OBSOLETE_PACKET_BLOCK = 2;
const SIMPLE_PACKET_BLOCK = 3;
const NAME_RESOLUTION_BLOCK = 4;
const INTERFACE_STATISTICS_BLOCK = 5;
const ENHANCED_PACKET_BLOCK = 6;
const DECRYPTION_SECRETS_BLOCK = 10;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Type and total length before the body, total length again after it. */
const FRAMING_BYTES = 12;
const MIN_SECTION_HEADER_BYTES = 28;
const MIN_INTERFACE_BYTES = 20;
/** EPB and obsolete PB: framing plus interface, two timestamp words and two lengths. */
const PACKET_BLOCK_HEADER_BYTES = 28;
const MIN_PACKET_BLOCK_BYTES = PACKET_BLOCK_HEADER_BYTES + 4;
const MIN_SIMPLE_PACKET_BYTES = 16;
/** Room for block fields and options (comments, hashes) beside the packet bytes. */
const PACKET_BLOCK_SLACK = 64 * 1024;
/** Non-packet blocks (name tables, decryption secrets) may be large; memory stays bounded by this. */
const OTHER_BLOCK_LIMIT = 16 * 1024 * 1024;

const OPTION_END = 0;
const OPTION_TSRESOL = 9;
const OPTION_TSOFFSET = 14;
const DEFAULT_TSRESOL = 6;
const MAX_INTERFACES_PER_SECTION = 65536;

interface CaptureInterface {
  linkType: number;
  /** 0 = no limit. */
  snaplen: number;
  scale: TimestampScale;
}

function isPacketBlock(type: number): boolean {
  return type === ENHANCED_PACKET_BLOCK || type === SIMPLE_PACKET_BLOCK || type === OBSOLETE_PACKET_BLOCK;
}

/** Block types a resync scan may land on. */
function isKnownBlock(type: number): boolean {
  switch (type) {
    case SECTION_HEADER_BLOCK:
    case INTERFACE_DESCRIPTION_BLOCK:
    case OBSOLETE_PACKET_BLOCK:
    case SIMPLE_PACKET_BLOCK:
    case NAME_RESOLUTION_BLOCK:
    case INTERFACE_STATISTICS_BLOCK:
    case ENHANCED_PACKET_BLOCK:
    case DECRYPTION_SECRETS_BLOCK:
      return true;
    default:
      return false;
  }
}

/**
 * pcapng: a sequence of sections, each a Section Header Block (which fixes the byte order)
 * followed by interface descriptions and packet blocks. Every block is framed by its total
 * length at both ends, which is what corruption checks and resync rely on.
 */
export class PcapngParser extends ResyncingParser implements RecordParser {
  readonly resyncWindow: number;

  private littleEndian = true;
  private sectionSeen = false;
  /** Interfaces of the current section; ids restart with each section. */
  private interfaces: CaptureInterface[] = [];
  private readonly packetBlockLimit: number;
  private consumed = 0;
  private readonly pkt: CapturedPacket = newCapturedPacket();

  constructor(
    private readonly name: string,
    stats: ReaderStats,
    private readonly onPacket: PacketHandler,
    maxRecordBytes: number,
  ) {
    super(stats, FRAMING_BYTES, FRAMING_BYTES);
    this.packetBlockLimit = maxRecordBytes + PACKET_BLOCK_SLACK;
    this.resyncWindow = this.packetBlockLimit;
    stats.format = 'pcapng';
  }

  parse(buf: Buffer, start: number, end: number, eof: boolean): number {
    this.base = this.consumed - start;
    let p = start;
    for (;;) {
      if (this.resyncing) {
        p = this.scan(buf, p, end, eof);
        if (this.resyncing) break;
      }
      const available = end - p;
      if (available < FRAMING_BYTES) {
        this.need = FRAMING_BYTES;
        break;
      }
      let le = this.littleEndian;
      const type = u32(buf, p, le); // the section header type reads the same in both orders
      if (type === SECTION_HEADER_BLOCK) {
        const order = this.sectionByteOrder(buf, p);
        if (order === null) {
          if (!this.sectionSeen) {
            throw new CaptureError(`${this.name}: pcapng section header has an invalid byte-order magic`);
          }
          p = this.startResync(p, 'corrupt block: section header with an invalid byte-order magic');
          continue;
        }
        le = order;
      }
      const length = u32(buf, p + 4, le);
      if (length < FRAMING_BYTES || (length & 3) !== 0 || length > this.blockLimit(type)) {
        p = this.startResync(p, `corrupt block: block of type ${type} claims an impossible length ${length}`);
        continue;
      }
      if (available < length) {
        // At the very end, a good block inside the remainder means this length was a lie.
        if (eof && this.acceptableFollows(buf, p + 1, end)) {
          p = this.startResync(p, `corrupt block: block of type ${type} with length ${length} runs past the end of the input`);
          continue;
        }
        this.need = length;
        break;
      }
      if (u32(buf, p + length - 4, le) !== length) {
        p = this.startResync(p, `corrupt block: block of type ${type} has a trailing length that disagrees with ${length}`);
        continue;
      }
      this.handleBlock(buf, p, type, length, le);
      p += length;
    }
    if (eof && p < end) {
      this.stats.truncated = true;
      addWarning(this.stats, `input ends inside a block at offset ${this.base + p} (${end - p} of ${this.need} bytes)`);
      p = end;
    }
    this.consumed += p - start;
    return p;
  }

  private blockLimit(type: number): number {
    return isPacketBlock(type) ? this.packetBlockLimit : Math.max(OTHER_BLOCK_LIMIT, this.packetBlockLimit);
  }

  /** true/false for a little/big-endian section header at p, null for a bad byte-order magic. */
  private sectionByteOrder(buf: Buffer, p: number): boolean | null {
    const magic = u32(buf, p + 8, true);
    if (magic === BYTE_ORDER_MAGIC) return true;
    if (magic === 0x4d3c2b1a) return false;
    return null;
  }

  private handleBlock(buf: Buffer, p: number, type: number, length: number, le: boolean): void {
    switch (type) {
      case ENHANCED_PACKET_BLOCK:
        this.packetBlock(buf, p, length, u32(buf, p + 8, le), le);
        break;
      case OBSOLETE_PACKET_BLOCK:
        this.packetBlock(buf, p, length, u16(buf, p + 8, le), le);
        break;
      case SIMPLE_PACKET_BLOCK:
        this.simplePacketBlock(buf, p, length, le);
        break;
      case INTERFACE_DESCRIPTION_BLOCK:
        this.interfaceBlock(buf, p, length, le);
        break;
      case SECTION_HEADER_BLOCK:
        if (length < MIN_SECTION_HEADER_BYTES) {
          this.badBlock(p, `section header of ${length} bytes is too short`);
          break;
        }
        this.littleEndian = le;
        this.sectionSeen = true;
        this.interfaces = [];
        break;
      default:
        this.stats.unknownBlocks++;
    }
  }

  /** EPB and obsolete PB share the layout after the interface field. */
  private packetBlock(buf: Buffer, p: number, length: number, interfaceId: number, le: boolean): void {
    if (length < MIN_PACKET_BLOCK_BYTES) return this.badBlock(p, `packet block of ${length} bytes is too short`);
    const captured = u32(buf, p + 20, le);
    if (captured > length - MIN_PACKET_BLOCK_BYTES) {
      return this.badBlock(p, `packet block claims ${captured} captured bytes in a ${length}-byte block`);
    }
    const iface = this.interfaces[interfaceId];
    if (iface === undefined) return this.badBlock(p, `packet block refers to undefined interface ${interfaceId}`);
    const pkt = this.pkt;
    pkt.buf = buf;
    pkt.linkType = iface.linkType;
    pkt.interfaceId = interfaceId;
    pkt.tsMicros = iface.scale.toMicros(u32(buf, p + 12, le), u32(buf, p + 16, le));
    pkt.offset = p + PACKET_BLOCK_HEADER_BYTES;
    pkt.length = captured;
    pkt.wireLength = u32(buf, p + 24, le);
    this.deliver(pkt);
  }

  /** SPBs carry no timestamp; the packet keeps the time of the packet before it. */
  private simplePacketBlock(buf: Buffer, p: number, length: number, le: boolean): void {
    if (length < MIN_SIMPLE_PACKET_BYTES) return this.badBlock(p, `simple packet block of ${length} bytes is too short`);
    const iface = this.interfaces[0];
    if (iface === undefined) return this.badBlock(p, 'simple packet block without an interface');
    const original = u32(buf, p + 8, le);
    let captured = Math.min(original, length - MIN_SIMPLE_PACKET_BYTES);
    if (iface.snaplen !== 0 && iface.snaplen < captured) captured = iface.snaplen;
    const pkt = this.pkt;
    pkt.buf = buf;
    pkt.linkType = iface.linkType;
    pkt.interfaceId = 0;
    pkt.offset = p + 12;
    pkt.length = captured;
    pkt.wireLength = original;
    this.deliver(pkt);
  }

  private deliver(pkt: CapturedPacket): void {
    this.stats.packets++;
    this.stats.packetBytes += pkt.length;
    this.onPacket(pkt);
  }

  private interfaceBlock(buf: Buffer, p: number, length: number, le: boolean): void {
    if (length < MIN_INTERFACE_BYTES) return this.badBlock(p, `interface block of ${length} bytes is too short`);
    let tsresol = DEFAULT_TSRESOL;
    let offsetSeconds = 0;
    const optionsEnd = p + length - 4;
    for (let o = p + 16; o + 4 <= optionsEnd; ) {
      const code = u16(buf, o, le);
      const size = u16(buf, o + 2, le);
      if (code === OPTION_END || o + 4 + size > optionsEnd) break;
      if (code === OPTION_TSRESOL && size >= 1) tsresol = buf[o + 4]!;
      else if (code === OPTION_TSOFFSET && size >= 8) {
        offsetSeconds = Number(le ? buf.readBigInt64LE(o + 4) : buf.readBigInt64BE(o + 4));
      }
      o += 4 + ((size + 3) & ~3);
    }
    // A crafted file could declare interfaces without end; real ones have a handful.
    if (this.interfaces.length >= MAX_INTERFACES_PER_SECTION) return this.badBlock(p, `more than ${MAX_INTERFACES_PER_SECTION} interfaces in one section`);
    this.interfaces.push({
      linkType: u16(buf, p + 8, le),
      snaplen: u32(buf, p + 12, le),
      scale: new TimestampScale(tsresol, offsetSeconds * 1e6),
    });
  }

  /** A well-framed block whose contents make no sense: skipped on its own, no resync needed. */
  private badBlock(p: number, reason: string): void {
    this.stats.corruptRecords++;
    addWarning(this.stats, `corrupt block at offset ${this.base + p}: ${reason}`);
  }

  /*
   * Resync rule: the next offset holding a known block type whose leading and trailing
   * lengths agree (and fit the packet-block limit). Blocks are 4-byte aligned only relative
   * to an intact section, so the scan moves one byte at a time.
   */

  /**
   * Applies the resync rule to a candidate block at q: ACCEPT, REJECT, or (before the end of
   * input) the number of bytes from q needed to decide.
   */
  protected judge(buf: Buffer, q: number, end: number, eof: boolean): number {
    let le = this.littleEndian;
    const type = u32(buf, q, le);
    if (!isKnownBlock(type)) return REJECT;
    if (type === SECTION_HEADER_BLOCK) {
      const order = this.sectionByteOrder(buf, q);
      if (order === null) return REJECT;
      le = order;
    }
    const length = u32(buf, q + 4, le);
    if (length < FRAMING_BYTES || (length & 3) !== 0 || length > this.packetBlockLimit) return REJECT;
    if (end - q < length) return eof ? REJECT : length;
    return u32(buf, q + length - 4, le) === length ? ACCEPT : REJECT;
  }
}
