import { readU16, readU16LE, readU32, readU32LE } from './bytes.js';
import * as C from './constants.js';
import { FragmentReassembler } from './reassembly.js';
import {
  GRE_SEQUENCE,
  erspan2HeaderLength,
  erspan3HeaderLength,
  geneveInnerOffset,
  greHeaderLength,
  gtpuInnerOffset,
  vxlanInnerOffset,
} from './tunnels.js';
import type { CapturedPacket } from '../capture/types.js';
import { type DecodeStats, type DecodedPacket, IPPROTO_TCP, IPPROTO_UDP, newDecodeStats } from './types.js';

export interface DecoderOptions {
  /** IP datagrams being reassembled at once (default 1024). */
  maxFragmentDatagrams?: number;
  /** Fragment bytes buffered in total (default 16 MiB). */
  maxFragmentBytes?: number;
  /** Capture-time limit for completing a fragmented datagram (default 30 s). */
  fragmentTimeoutMicros?: number;
  /** Tunnel layers stripped from one packet before it counts as malformed (default 4, at most 64). */
  maxTunnelDepth?: number;
}

const ETHERNET_HEADER = 14;
const SLL_HEADER = 16;
const SLL2_HEADER = 20;
const PPI_MIN_HEADER = 8;
const IPV4_MIN_HEADER = 20;
const IPV6_HEADER = 40;
const TCP_MIN_HEADER = 20;
const UDP_HEADER = 8;
const IPV4_MORE_FRAGMENTS = 0x2000;
const IPV4_FRAGMENT_OFFSET = 0x1fff;
const MAX_TUNNEL_DEPTH_LIMIT = 64;

/**
 * Turns captured frames into DecodedPackets: link layer, VLAN/MPLS/PPPoE, IPv4/IPv6 with
 * fragment reassembly, tunnels, then TCP or UDP. Every method returns true only when `out`
 * holds a TCP or UDP packet; each way of failing bumps exactly one counter in `stats`.
 * Headers are read in place; nothing is allocated unless fragments are reassembled.
 */
export class Decoder {
  /** Wire bytes missing from the packet being decoded (snap length), 0 when complete. */
  private snapMissing = 0;
  readonly stats: DecodeStats = newDecodeStats();
  private readonly maxTunnelDepth: number;
  private readonly fragments: FragmentReassembler;
  /** Capture time of the packet being decoded (fragment timeouts run on it). */
  private tsMicros = 0;

  constructor(opts: DecoderOptions = {}) {
    this.maxTunnelDepth = nonNegativeInteger(opts.maxTunnelDepth, 4, 'maxTunnelDepth');
    // Each layer costs a few stack frames; real networks never nest anywhere near this.
    if (this.maxTunnelDepth > MAX_TUNNEL_DEPTH_LIMIT) {
      throw new RangeError(`Decoder: maxTunnelDepth must be at most ${MAX_TUNNEL_DEPTH_LIMIT}`);
    }
    this.fragments = new FragmentReassembler(
      {
        maxDatagrams: nonNegativeInteger(opts.maxFragmentDatagrams, 1024, 'maxFragmentDatagrams'),
        maxBytes: nonNegativeInteger(opts.maxFragmentBytes, 16 * 1024 * 1024, 'maxFragmentBytes'),
        timeoutMicros: nonNegativeInteger(opts.fragmentTimeoutMicros, 30_000_000, 'fragmentTimeoutMicros'),
      },
      this.stats,
    );
  }

  /** Datagrams and bytes currently held for reassembly. */
  get pendingFragments(): { datagrams: number; bytes: number } {
    return { datagrams: this.fragments.pendingDatagrams, bytes: this.fragments.pendingBytes };
  }

  /** Decode one captured frame. Returns true when `out` now holds an IPv4/IPv6 TCP or UDP
   *  packet (innermost, after tunnels). */
  decode(linkType: number, buf: Buffer, offset: number, length: number, tsMicros: number, out: DecodedPacket): boolean {
    out.tsMicros = tsMicros;
    return this.decodeFrame(linkType, buf, offset, length, out);
  }

  /** decode() for a reader's packet: the capture time comes from the packet, so the
   *  per-packet call passes no number that would need boxing. */
  decodePacket(pkt: CapturedPacket, out: DecodedPacket): boolean {
    out.tsMicros = pkt.tsMicros;
    return this.decodeFrame(pkt.linkType, pkt.buf, pkt.offset, pkt.length, out);
  }

  private decodeFrame(linkType: number, buf: Buffer, offset: number, length: number, out: DecodedPacket): boolean {
    const tsMicros = out.tsMicros;
    out.ipVersion = 0;
    out.protocol = 0;
    out.srcPort = 0;
    out.dstPort = 0;
    out.tcpFlags = 0;
    out.seq = 0;
    out.ack = 0;
    out.buf = buf;
    out.payloadOffset = 0;
    out.payloadLength = 0;
    out.payloadMissing = 0;
    this.snapMissing = 0;
    out.tunnelDepth = 0;
    out.vlanId = -1;
    if (tsMicros >= this.fragments.nextExpiryMicros) this.fragments.expire(tsMicros);
    this.tsMicros = tsMicros;

    const end = offset + length;
    const ok =
      Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && end <= buf.length
        ? this.decodeLink(linkType, buf, offset, end, out, true)
        : this.malformed();
    if (out.tunnelDepth !== 0) this.stats.tunnelled++;
    if (ok) this.stats.decoded++;
    return ok;
  }

  private decodeLink(linkType: number, buf: Buffer, off: number, end: number, out: DecodedPacket, allowPpi: boolean): boolean {
    switch (linkType) {
      case C.LINKTYPE_ETHERNET:
        return this.decodeEthernet(buf, off, end, out);
      case C.LINKTYPE_RAW:
      case C.LINKTYPE_RAW_OPENBSD:
      case C.LINKTYPE_RAW_14:
        return this.decodeIp(buf, off, end, out);
      case C.LINKTYPE_IPV4:
        return this.decodeIpv4(buf, off, end, out);
      case C.LINKTYPE_IPV6:
        return this.decodeIpv6(buf, off, end, out);
      case C.LINKTYPE_NULL:
      case C.LINKTYPE_LOOP: {
        if (end - off < 4) return this.malformed();
        // NULL stores the family in the capturing host's byte order, LOOP in network order.
        const networkOrder = readU32(buf, off);
        const hostOrder = readU32LE(buf, off);
        const family = linkType === C.LINKTYPE_LOOP || (hostOrder & 0xffff0000) !== 0 ? networkOrder : hostOrder;
        return this.decodeAddressFamily(family, buf, off + 4, end, out);
      }
      case C.LINKTYPE_LINUX_SLL:
        if (end - off < SLL_HEADER) return this.malformed();
        return this.decodeEtherPayload(readU16(buf, off + 14), buf, off + SLL_HEADER, end, out, true);
      case C.LINKTYPE_LINUX_SLL2:
        if (end - off < SLL2_HEADER) return this.malformed();
        return this.decodeEtherPayload(readU16(buf, off), buf, off + SLL2_HEADER, end, out, true);
      case C.LINKTYPE_PPP_HDLC:
        // Captures of this type may hold Cisco HDLC (address 0x0F or 0x8F) instead of PPP.
        if (end - off >= 2 && (buf[off] === 0x0f || buf[off] === 0x8f) && buf[off + 1] === 0) {
          return this.decodeCiscoHdlc(buf, off, end, out);
        }
        return this.decodePpp(buf, off, end, out);
      case C.LINKTYPE_PPP:
        return this.decodePpp(buf, off, end, out);
      case C.LINKTYPE_C_HDLC:
        return this.decodeCiscoHdlc(buf, off, end, out);
      case C.LINKTYPE_PPI:
        if (allowPpi) return this.decodePpi(buf, off, end, out);
        break;
    }
    this.stats.unknownLinkType++;
    return false;
  }

  private decodeAddressFamily(family: number, buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    switch (family) {
      case C.BSD_AF_INET:
        return this.decodeIpv4(buf, off, end, out);
      case C.BSD_AF_INET6_BSD:
      case C.BSD_AF_INET6_FREEBSD:
      case C.BSD_AF_INET6_DARWIN:
        return this.decodeIpv6(buf, off, end, out);
    }
    this.stats.nonIp++;
    return false;
  }

  /** PPI: a little-endian header naming the link type of what follows (never PPI again). */
  private decodePpi(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off < PPI_MIN_HEADER) return this.malformed();
    const headerLength = readU16LE(buf, off + 2);
    if (headerLength < PPI_MIN_HEADER || headerLength > end - off) return this.malformed();
    return this.decodeLink(readU32LE(buf, off + 4), buf, off + headerLength, end, out, false);
  }

  private decodeEthernet(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off < ETHERNET_HEADER) return this.malformed();
    return this.decodeEtherPayload(readU16(buf, off + 12), buf, off + ETHERNET_HEADER, end, out, true);
  }

  /** What follows an EtherType field: VLAN tags (any depth), then IP, MPLS, PPPoE or LLC/SNAP. */
  private decodeEtherPayload(
    etherType: number,
    buf: Buffer,
    off: number,
    end: number,
    out: DecodedPacket,
    allowLlc: boolean,
  ): boolean {
    let type = etherType;
    while (type === C.ETHERTYPE_VLAN || type === C.ETHERTYPE_QINQ || type === C.ETHERTYPE_QINQ_OLD) {
      if (end - off < 4) return this.malformed();
      if (out.vlanId < 0) out.vlanId = readU16(buf, off) & 0x0fff;
      type = readU16(buf, off + 2);
      off += 4;
    }
    switch (type) {
      case C.ETHERTYPE_IPV4:
        return this.decodeIpv4(buf, off, end, out);
      case C.ETHERTYPE_IPV6:
        return this.decodeIpv6(buf, off, end, out);
      case C.ETHERTYPE_MPLS:
      case C.ETHERTYPE_MPLS_MULTICAST:
        return this.decodeMpls(buf, off, end, out);
      case C.ETHERTYPE_PPPOE_SESSION:
        return this.decodePppoe(buf, off, end, out);
    }
    if (type <= C.ETHER_MAX_LENGTH_FIELD && allowLlc) return this.decodeLlcSnap(buf, off, end, out);
    this.stats.nonIp++;
    return false;
  }

  /** 802.3 length field: only LLC/SNAP with an EtherType inside can carry IP. */
  private decodeLlcSnap(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off >= 8 && buf[off] === 0xaa && buf[off + 1] === 0xaa && buf[off + 2] === 0x03) {
      return this.decodeEtherPayload(readU16(buf, off + 6), buf, off + 8, end, out, false);
    }
    this.stats.nonIp++;
    return false;
  }

  /** MPLS label stack down to the bottom-of-stack bit; the payload is not labelled, so guess by nibble. */
  private decodeMpls(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    for (;;) {
      if (end - off < 4) return this.malformed();
      const bottom = (buf[off + 2] & 0x01) !== 0;
      off += 4;
      if (bottom) break;
    }
    if (off >= end) return this.malformed();
    switch (buf[off] >> 4) {
      case 4:
        return this.decodeIpv4(buf, off, end, out);
      case 6:
        return this.decodeIpv6(buf, off, end, out);
      case 0:
        // Ethernet pseudowire: 4-byte control word (first nibble 0), then a whole frame.
        if (end - off < 4 + ETHERNET_HEADER) return this.malformed();
        if (!this.enterTunnel(out)) return false;
        return this.decodeEthernet(buf, off + 4, end, out);
    }
    this.stats.nonIp++;
    return false;
  }

  private decodePppoe(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off < 8) return this.malformed();
    // Version 1, type 1, code 0 (session data); the length field bounds the PPP frame.
    if (buf[off] !== 0x11 || buf[off + 1] !== 0x00) return this.malformed();
    const pppLength = readU16(buf, off + 4);
    if (pppLength > end - off - 6) return this.malformed();
    return this.decodePpp(buf, off + 6, off + 6 + pppLength, out);
  }

  /** PPP: optional ff 03 address/control, then a 2-byte or compressed (odd) 1-byte protocol. */
  private decodePpp(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off >= 2 && buf[off] === 0xff && buf[off + 1] === 0x03) off += 2;
    if (off >= end) return this.malformed();
    let protocol = buf[off];
    if ((protocol & 0x01) !== 0) {
      off += 1;
    } else {
      if (end - off < 2) return this.malformed();
      protocol = readU16(buf, off);
      off += 2;
    }
    switch (protocol) {
      case C.PPP_IPV4:
        return this.decodeIpv4(buf, off, end, out);
      case C.PPP_IPV6:
        return this.decodeIpv6(buf, off, end, out);
      case C.PPP_MPLS:
      case C.PPP_MPLS_MULTICAST:
        return this.decodeMpls(buf, off, end, out);
    }
    this.stats.nonIp++;
    return false;
  }

  /** Cisco HDLC: address, control, then an EtherType. */
  private decodeCiscoHdlc(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off < 4) return this.malformed();
    return this.decodeEtherPayload(readU16(buf, off + 2), buf, off + 4, end, out, false);
  }

  /** Raw IP: the version nibble decides. */
  private decodeIp(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (off >= end) return this.malformed();
    const version = buf[off] >> 4;
    if (version === 4) return this.decodeIpv4(buf, off, end, out);
    if (version === 6) return this.decodeIpv6(buf, off, end, out);
    return this.malformed();
  }

  private decodeIpv4(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off < IPV4_MIN_HEADER) return this.malformed();
    const versionIhl = buf[off];
    const headerLength = (versionIhl & 0x0f) * 4;
    if (versionIhl >> 4 !== 4 || headerLength < IPV4_MIN_HEADER) return this.malformed();
    let totalLength = readU16(buf, off + 2);
    // Zero comes from TSO on the capturing host: the packet then runs to the end of the frame.
    if (totalLength === 0) totalLength = end - off;
    if (totalLength < headerLength) return this.malformed();
    const fragmentField = readU16(buf, off + 6);
    // A snap length shorter than the packet cuts the payload; an unfragmented packet is still
    // decoded with what was captured (payloadMissing says how much is gone).
    let missing = 0;
    if (totalLength > end - off) {
      if ((fragmentField & (IPV4_MORE_FRAGMENTS | IPV4_FRAGMENT_OFFSET)) !== 0 || end - off < headerLength) return this.malformed();
      missing = totalLength - (end - off);
      totalLength = end - off;
    }

    out.ipVersion = 4;
    const src = out.src;
    const dst = out.dst;
    src[0] = readU32(buf, off + 12);
    src[1] = 0;
    src[2] = 0;
    src[3] = 0;
    dst[0] = readU32(buf, off + 16);
    dst[1] = 0;
    dst[2] = 0;
    dst[3] = 0;
    const protocol = buf[off + 9];
    const payloadEnd = off + totalLength;

    if ((fragmentField & (IPV4_MORE_FRAGMENTS | IPV4_FRAGMENT_OFFSET)) === 0) {
      if (missing === 0) return this.decodeIpPayload(protocol, buf, off + headerLength, payloadEnd, out, true);
      return this.decodeCutPayload(protocol, buf, off + headerLength, payloadEnd, missing, out);
    }
    // RFC 791 identifies a datagram by source, destination, protocol and identification.
    const key = `4 ${src[0]} ${dst[0]} ${protocol} ${readU16(buf, off + 4)}`;
    const whole = this.fragments.add(
      key,
      this.tsMicros,
      (fragmentField & IPV4_FRAGMENT_OFFSET) * 8,
      (fragmentField & IPV4_MORE_FRAGMENTS) !== 0,
      protocol,
      false,
      buf,
      off + headerLength,
      payloadEnd,
    );
    if (whole === null) return false;
    return this.decodeIpPayload(protocol, whole, 0, whole.length, out, false);
  }

  private decodeIpv6(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off < IPV6_HEADER || buf[off] >> 4 !== 6) return this.malformed();
    const payloadLength = readU16(buf, off + 4);
    const nextHeader = buf[off + 6];
    let payloadEnd = off + IPV6_HEADER + payloadLength;
    let snapMissing = 0;
    if (payloadLength === 0 && nextHeader === C.IPPROTO_HOPOPTS) {
      // Jumbogram: the real length sits in a hop-by-hop option; the frame end will do.
      payloadEnd = end;
    } else if (payloadEnd > end) {
      snapMissing = payloadEnd - end;
      payloadEnd = end;
    }
    out.ipVersion = 6;
    const src = out.src;
    const dst = out.dst;
    for (let i = 0; i < 4; i++) {
      src[i] = readU32(buf, off + 8 + i * 4);
      dst[i] = readU32(buf, off + 24 + i * 4);
    }
    if (snapMissing === 0) return this.decodeIpPayload(nextHeader, buf, off + IPV6_HEADER, payloadEnd, out, true);
    return this.decodeCutPayload(nextHeader, buf, off + IPV6_HEADER, payloadEnd, snapMissing, out);
  }

  /**
   * A payload the snap length cut short: decoded from what was captured, without fragment
   * reassembly (a cut fragment cannot be completed) and without UDP tunnels (their length
   * fields point past the capture). Tunnels that carry their own inner lengths (GRE,
   * IP-in-IP) recurse here again and are counted once.
   */
  private decodeCutPayload(protocol: number, buf: Buffer, off: number, end: number, missing: number, out: DecodedPacket): boolean {
    const outer = this.snapMissing === 0;
    this.snapMissing = missing;
    const ok = this.decodeIpPayload(protocol, buf, off, end, out, false);
    if (outer) this.snapMissing = 0;
    if (!ok) return false;
    out.payloadMissing = missing;
    if (outer) this.stats.snapTruncated++;
    return true;
  }

  /**
   * Everything after an IP header: IPv6 extension headers and AH are walked, fragments go
   * to reassembly, tunnels recurse, TCP/UDP finish. `allowFragment` is false inside an
   * already reassembled datagram, where a second fragment header cannot be legitimate.
   */
  private decodeIpPayload(
    protocol: number,
    buf: Buffer,
    off: number,
    end: number,
    out: DecodedPacket,
    allowFragment: boolean,
  ): boolean {
    for (;;) {
      switch (protocol) {
        case IPPROTO_TCP:
          return this.decodeTcp(buf, off, end, out);
        case IPPROTO_UDP:
          return this.decodeUdp(buf, off, end, out);
        case C.IPPROTO_GRE:
          return this.decodeGre(buf, off, end, out);
        case C.IPPROTO_IPIP:
          return this.enterTunnel(out) && this.decodeIpv4(buf, off, end, out);
        case C.IPPROTO_IPV6:
          return this.enterTunnel(out) && this.decodeIpv6(buf, off, end, out);
        case C.IPPROTO_AH: {
          if (end - off < 8) return this.malformed();
          const length = (buf[off + 1] + 2) * 4;
          if (length > end - off) return this.malformed();
          protocol = buf[off];
          off += length;
          continue;
        }
        case C.IPPROTO_HOPOPTS:
        case C.IPPROTO_ROUTING:
        case C.IPPROTO_DSTOPTS: {
          if (out.ipVersion !== 6) break;
          if (end - off < 8) return this.malformed();
          const length = (buf[off + 1] + 1) * 8;
          if (length > end - off) return this.malformed();
          protocol = buf[off];
          off += length;
          continue;
        }
        case C.IPPROTO_FRAGMENT: {
          if (out.ipVersion !== 6) break;
          if (end - off < 8) return this.malformed();
          const fragmentField = readU16(buf, off + 2);
          const fragOffset = fragmentField & 0xfff8;
          const moreFragments = (fragmentField & 0x0001) !== 0;
          protocol = buf[off];
          if (fragOffset === 0 && !moreFragments) {
            // Atomic fragment (RFC 6946): a whole datagram that merely carries the header.
            off += 8;
            continue;
          }
          if (!allowFragment) return this.malformed();
          const src = out.src;
          const dst = out.dst;
          const key = `6 ${src[0]} ${src[1]} ${src[2]} ${src[3]} ${dst[0]} ${dst[1]} ${dst[2]} ${dst[3]} ${readU32(buf, off + 4)}`;
          const whole = this.fragments.add(key, this.tsMicros, fragOffset, moreFragments, protocol, true, buf, off + 8, end);
          if (whole === null) return false;
          buf = whole;
          off = 0;
          end = whole.length;
          protocol = this.fragments.completedProtocol;
          allowFragment = false;
          continue;
        }
      }
      // ICMP, ESP, no-next-header (59), ...: IP, but nothing for the flow stage.
      out.protocol = protocol;
      this.stats.otherTransport++;
      return false;
    }
  }

  private decodeTcp(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off < TCP_MIN_HEADER) return this.malformed();
    const headerLength = (buf[off + 12] >> 4) * 4;
    if (headerLength < TCP_MIN_HEADER || headerLength > end - off) return this.malformed();
    out.protocol = IPPROTO_TCP;
    out.srcPort = readU16(buf, off);
    out.dstPort = readU16(buf, off + 2);
    out.seq = readU32(buf, off + 4);
    out.ack = readU32(buf, off + 8);
    out.tcpFlags = buf[off + 13];
    out.buf = buf;
    out.payloadOffset = off + headerLength;
    out.payloadLength = end - off - headerLength;
    return true;
  }

  private decodeUdp(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    if (end - off < UDP_HEADER) return this.malformed();
    let udpLength = readU16(buf, off + 4);
    // IPv6 jumbograms carry UDP length 0 (RFC 2675).
    if (udpLength === 0 && out.ipVersion === 6) udpLength = end - off;
    if (udpLength < UDP_HEADER) return this.malformed();
    const cut = udpLength > end - off;
    if (cut && this.snapMissing === 0) return this.malformed();
    const udpEnd = cut ? end : off + udpLength;
    const srcPort = readU16(buf, off);
    const dstPort = readU16(buf, off + 2);
    const payload = off + UDP_HEADER;

    if (cut) return this.plainUdp(srcPort, dstPort, buf, payload, udpEnd, out);

    // Tunnels are taken only when their header parses; otherwise this is plain UDP.
    if (dstPort === C.PORT_VXLAN) {
      const inner = vxlanInnerOffset(buf, payload, udpEnd);
      if (inner >= 0) return this.enterTunnel(out) && this.decodeEthernet(buf, inner, udpEnd, out);
    } else if (dstPort === C.PORT_GENEVE) {
      const inner = geneveInnerOffset(buf, payload, udpEnd);
      if (inner >= 0) {
        if (!this.enterTunnel(out)) return false;
        const protocol = readU16(buf, payload + 2);
        return protocol === C.GRE_TRANSPARENT_ETHERNET
          ? this.decodeEthernet(buf, inner, udpEnd, out)
          : this.decodeEtherPayload(protocol, buf, inner, udpEnd, out, false);
      }
    } else if (dstPort === C.PORT_GTPU || srcPort === C.PORT_GTPU) {
      const inner = gtpuInnerOffset(buf, payload, udpEnd);
      if (inner >= 0) {
        const messageEnd = payload + 8 + readU16(buf, payload + 2);
        return this.enterTunnel(out) && this.decodeIp(buf, inner, messageEnd, out);
      }
    }

    return this.plainUdp(srcPort, dstPort, buf, payload, udpEnd, out);
  }

  private plainUdp(srcPort: number, dstPort: number, buf: Buffer, payload: number, udpEnd: number, out: DecodedPacket): boolean {
    out.protocol = IPPROTO_UDP;
    out.srcPort = srcPort;
    out.dstPort = dstPort;
    out.buf = buf;
    out.payloadOffset = payload;
    out.payloadLength = udpEnd - payload;
    return true;
  }

  private decodeGre(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
    const headerLength = greHeaderLength(buf, off, end);
    if (headerLength < 0) return this.malformed();
    if (!this.enterTunnel(out)) return false;
    const flags = readU16(buf, off);
    const protocol = readU16(buf, off + 2);
    const inner = off + headerLength;
    switch (protocol) {
      case C.GRE_TRANSPARENT_ETHERNET:
        return this.decodeEthernet(buf, inner, end, out);
      case C.GRE_ERSPAN_1_2: {
        // Type II sets the GRE sequence bit and adds an 8-byte header; type I is bare Ethernet.
        if ((flags & GRE_SEQUENCE) === 0) return this.decodeEthernet(buf, inner, end, out);
        const erspanLength = erspan2HeaderLength(buf, inner, end);
        if (erspanLength < 0) return this.malformed();
        return this.decodeEthernet(buf, inner + erspanLength, end, out);
      }
      case C.GRE_ERSPAN_3: {
        const erspanLength = erspan3HeaderLength(buf, inner, end);
        if (erspanLength < 0) return this.malformed();
        return this.decodeEthernet(buf, inner + erspanLength, end, out);
      }
      case C.GRE_PPP:
        return this.decodePpp(buf, inner, end, out);
    }
    // Otherwise the GRE protocol type is the EtherType of the payload.
    return this.decodeEtherPayload(protocol, buf, inner, end, out, false);
  }

  /** One more tunnel layer, unless that exceeds the cap (nested tunnels are a known decoder bomb). */
  private enterTunnel(out: DecodedPacket): boolean {
    if (out.tunnelDepth >= this.maxTunnelDepth) return this.malformed();
    out.tunnelDepth++;
    return true;
  }

  /** A broken header counts as malformed, unless the snap length cut it: that is no fault
   *  of the packet, and counts apart. */
  private malformed(): false {
    if (this.snapMissing > 0) this.stats.snapCutHeaders++;
    else this.stats.malformed++;
    return false;
  }
}

function nonNegativeInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`Decoder: ${name} must be a non-negative integer`);
  return value;
}
