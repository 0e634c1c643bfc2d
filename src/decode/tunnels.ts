/**
 * Tunnel header parsers. Each checks that its header is complete and plausible and says
 * where the inner packet starts (or how long the header is), -1 when it does not parse.
 * They only look: committing to decapsulation is the decoder's job. UDP-carried tunnels
 * are checked strictly because a port number alone proves nothing.
 */
import { readU16 } from './bytes.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, GRE_TRANSPARENT_ETHERNET } from './constants.js';

const ETHERNET_HEADER = 14;

export const GRE_CHECKSUM = 0x8000;
export const GRE_ROUTING = 0x4000;
export const GRE_KEY = 0x2000;
export const GRE_SEQUENCE = 0x1000;
/** Enhanced GRE (version 1, PPTP): acknowledgment number present. */
export const GRE_ACK = 0x0080;

/** Length of the GRE header at `off` including optional fields, or -1. */
export function greHeaderLength(buf: Buffer, off: number, end: number): number {
  if (end - off < 4) return -1;
  const flags = readU16(buf, off);
  let length = 4;
  switch (flags & 0x7) {
    case 0:
      // Checksum and offset travel together and are present when either C or R is set.
      if ((flags & (GRE_CHECKSUM | GRE_ROUTING)) !== 0) length += 4;
      if ((flags & GRE_KEY) !== 0) length += 4;
      if ((flags & GRE_SEQUENCE) !== 0) length += 4;
      if ((flags & GRE_ROUTING) !== 0) {
        // RFC 1701 source route entries, closed by one with family 0 and length 0.
        for (;;) {
          if (end - off - length < 4) return -1;
          const family = readU16(buf, off + length);
          const entryLength = buf[off + length + 3];
          length += 4 + entryLength;
          if (family === 0 && entryLength === 0) break;
        }
      }
      break;
    case 1:
      // Enhanced GRE (RFC 2637): no checksum or routing; the key (length + call id) is mandatory.
      if ((flags & (GRE_CHECKSUM | GRE_ROUTING)) !== 0 || (flags & GRE_KEY) === 0) return -1;
      length += 4;
      if ((flags & GRE_SEQUENCE) !== 0) length += 4;
      if ((flags & GRE_ACK) !== 0) length += 4;
      break;
    default:
      return -1;
  }
  return length <= end - off ? length : -1;
}

/** ERSPAN type II header (version field 1): always 8 bytes. */
export function erspan2HeaderLength(buf: Buffer, off: number, end: number): number {
  if (end - off < 8 || buf[off] >> 4 !== 1) return -1;
  return 8;
}

/** ERSPAN type III header (version field 2): 12 bytes, plus an 8-byte platform subheader when O is set. */
export function erspan3HeaderLength(buf: Buffer, off: number, end: number): number {
  if (end - off < 12 || buf[off] >> 4 !== 2) return -1;
  const length = (buf[off + 11] & 0x01) !== 0 ? 20 : 12;
  return length <= end - off ? length : -1;
}

/** VXLAN (RFC 7348): the I flag marks a valid VNI; an Ethernet frame follows the 8 bytes. */
export function vxlanInnerOffset(buf: Buffer, off: number, end: number): number {
  if (end - off < 8 + ETHERNET_HEADER || (buf[off] & 0x08) === 0) return -1;
  return off + 8;
}

/** Geneve (RFC 8926): version 0, options fit, and a payload we can decode. */
export function geneveInnerOffset(buf: Buffer, off: number, end: number): number {
  if (end - off < 8 || buf[off] >> 6 !== 0) return -1;
  const inner = off + 8 + (buf[off] & 0x3f) * 4;
  if (inner >= end) return -1;
  const protocol = readU16(buf, off + 2);
  if (protocol !== GRE_TRANSPARENT_ETHERNET && protocol !== ETHERTYPE_IPV4 && protocol !== ETHERTYPE_IPV6) return -1;
  return inner;
}

const GTP_VERSION_1 = 1;
const GTP_PT = 0x10;
const GTP_E = 0x04;
const GTP_S = 0x02;
const GTP_PN = 0x01;
const GTP_G_PDU = 0xff;

/**
 * GTP-U (3GPP TS 29.281) G-PDU carrying IP: version 1, PT set, message type 0xFF, a length
 * that fits, the optional 4-byte field when any of E/S/PN is set, the extension header
 * chain when E is set, and an IPv4/IPv6 header where the user packet starts.
 */
export function gtpuInnerOffset(buf: Buffer, off: number, end: number): number {
  if (end - off < 8) return -1;
  const flags = buf[off];
  if (flags >> 5 !== GTP_VERSION_1 || (flags & GTP_PT) === 0 || buf[off + 1] !== GTP_G_PDU) return -1;
  const messageEnd = off + 8 + readU16(buf, off + 2);
  if (messageEnd > end) return -1;
  let inner = off + 8;
  if ((flags & (GTP_E | GTP_S | GTP_PN)) !== 0) {
    inner += 4;
    if (inner > messageEnd) return -1;
    if ((flags & GTP_E) !== 0) {
      // Each extension header: length in 4-byte units, contents, next-type in its last byte.
      let nextType = buf[inner - 1];
      while (nextType !== 0) {
        if (inner >= messageEnd) return -1;
        const length = buf[inner] * 4;
        if (length === 0 || length > messageEnd - inner) return -1;
        nextType = buf[inner + length - 1];
        inner += length;
      }
    }
  }
  // The version nibble alone is a weak hint: also demand room for that version's header.
  const version = inner < messageEnd ? buf[inner] >> 4 : 0;
  if (version === 4) return messageEnd - inner >= 20 ? inner : -1;
  if (version === 6) return messageEnd - inner >= 40 ? inner : -1;
  return -1;
}
