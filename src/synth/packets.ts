/**
 * IP-layer packet builders for synthetic captures. Every length and checksum is computed
 * (IPv4 header checksum, TCP/UDP over the pseudo-header), so tools that validate checksums
 * see clean packets unless a test corrupts them on purpose.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface Endpoint {
  /** IPv4 or IPv6 address text. */
  ip: string;
  port: number;
}

export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_IPV6_FRAGMENT = 44;
export const IPPROTO_GRE = 47;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const TCP_HEADER = 20;
const UDP_HEADER = 8;

/** 4 or 6 for valid address text; throws otherwise so typos fail loudly. */
export function ipVersionOf(ip: string): 4 | 6 {
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
}

/** Network-order bytes of an address (4 or 16). */
export function ipBytes(ip: string): Buffer {
  return ipVersionOf(ip) === 4 ? ipv4Bytes(ip) : ipv6Bytes(ip);
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  const out = Buffer.alloc(16);
  let text = ip;
  // A dotted-quad tail fills the last 32 bits (e.g. ::ffff:192.0.2.1).
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let tailBytes: Buffer | null = null;
  if (tail.includes('.')) {
    tailBytes = ipv4Bytes(tail);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const groups = [...headGroups, ...new Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tailBytes) tailBytes.copy(out, 12);
  return out;
}

/** Ones' complement sum of 16-bit big-endian words, not yet folded or inverted. */
function onesComplementSum(buf: Buffer, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += buf.readUInt16BE(i);
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** RFC 1071 Internet checksum of buf[start, end). */
export function internetChecksum(buf: Buffer, start = 0, end = buf.length): number {
  return foldChecksum(onesComplementSum(buf, start, end));
}

export interface IpOptions {
  ttl?: number;
  /** IPv4 identification (ignored for IPv6). */
  ipId?: number;
  /** Sets the IPv4 DF bit. */
  dontFragment?: boolean;
  /** IPv4 DSCP/ECN byte or IPv6 traffic class. */
  tos?: number;
  /** IPv6 flow label. */
  flowLabel?: number;
}

/**
 * A complete IPv4 or IPv6 packet (family chosen from the address text) around an
 * already-built transport payload. Transport checksums are the caller's job; see
 * tcpPacket/udpPacket for ones that fill them in.
 */
export function ipPacket(src: string, dst: string, protocol: number, payload: Buffer, o: IpOptions = {}): Buffer {
  const version = ipVersionOf(src);
  if (ipVersionOf(dst) !== version) throw new Error(`address families differ: ${src} -> ${dst}`);
  const ttl = o.ttl ?? 64;
  if (version === 4) {
    const total = IPV4_HEADER + payload.length;
    if (total > 0xffff) throw new Error(`IPv4 packet too large: ${total} bytes`);
    const pkt = Buffer.alloc(total);
    pkt[0] = 0x45;
    pkt[1] = (o.tos ?? 0) & 0xff;
    pkt.writeUInt16BE(total, 2);
    pkt.writeUInt16BE((o.ipId ?? 0) & 0xffff, 4);
    pkt.writeUInt16BE(o.dontFragment ? 0x4000 : 0, 6);
    pkt[8] = ttl;
    pkt[9] = protocol;
    ipv4Bytes(src).copy(pkt, 12);
    ipv4Bytes(dst).copy(pkt, 16);
    pkt.writeUInt16BE(internetChecksum(pkt, 0, IPV4_HEADER), 10);
    payload.copy(pkt, IPV4_HEADER);
    return pkt;
  }
  if (payload.length > 0xffff) throw new Error(`IPv6 payload too large: ${payload.length} bytes (no jumbograms)`);
  const pkt = Buffer.alloc(IPV6_HEADER + payload.length);
  const tc = (o.tos ?? 0) & 0xff;
  const flow = (o.flowLabel ?? 0) & 0xfffff;
  pkt.writeUInt32BE(((6 << 28) | (tc << 20) | flow) >>> 0, 0);
  pkt.writeUInt16BE(payload.length, 4);
  pkt[6] = protocol;
  pkt[7] = ttl;
  ipv6Bytes(src).copy(pkt, 8);
  ipv6Bytes(dst).copy(pkt, 24);
  payload.copy(pkt, IPV6_HEADER);
  return pkt;
}

/** Offset of the transport header inside a packet built by ipPacket. */
function transportOffset(pkt: Buffer): number {
  return pkt[0]! >> 4 === 4 ? (pkt[0]! & 0x0f) * 4 : IPV6_HEADER;
}

/**
 * TCP/UDP checksum of a packet built by ipPacket: pseudo-header plus the transport bytes
 * from `offset` to the end, skipping the checksum field itself (so it may hold anything).
 */
export function transportChecksum(pkt: Buffer, offset: number, protocol: number): number {
  const length = pkt.length - offset;
  let sum: number;
  if (pkt[0]! >> 4 === 4) {
    sum = onesComplementSum(pkt, 12, 20) + protocol + length;
  } else {
    sum = onesComplementSum(pkt, 8, 40) + protocol + (length >>> 16) + (length & 0xffff);
  }
  const field = offset + (protocol === IPPROTO_UDP ? 6 : 16);
  sum = onesComplementSum(pkt, offset, field, sum);
  sum = onesComplementSum(pkt, field + 2, pkt.length, sum);
  return foldChecksum(sum);
}

export interface TcpOptions extends IpOptions {
  seq: number;
  ack: number;
  /** TCP_* bits (FIN 0x01 ... CWR 0x80; 0x100 is the NS/AE bit). */
  flags: number;
  payload?: Buffer;
  window?: number;
  /** Raw TCP options; padded with end-of-option-list bytes to a 4-byte multiple. */
  options?: Buffer;
}

/** A full IPv4 or IPv6 packet carrying one TCP segment, checksums filled in. */
export function tcpPacket(src: Endpoint, dst: Endpoint, o: TcpOptions): Buffer {
  const payload = o.payload ?? Buffer.alloc(0);
  const options = o.options ?? Buffer.alloc(0);
  const optionBytes = Math.ceil(options.length / 4) * 4;
  if (optionBytes > 40) throw new Error(`TCP options too long: ${options.length} bytes`);
  const headerLength = TCP_HEADER + optionBytes;
  const segment = Buffer.alloc(headerLength + payload.length);
  segment.writeUInt16BE(src.port, 0);
  segment.writeUInt16BE(dst.port, 2);
  segment.writeUInt32BE(o.seq >>> 0, 4);
  segment.writeUInt32BE(o.ack >>> 0, 8);
  segment[12] = ((headerLength / 4) << 4) | ((o.flags >> 8) & 0x01);
  segment[13] = o.flags & 0xff;
  segment.writeUInt16BE((o.window ?? 65535) & 0xffff, 14);
  options.copy(segment, TCP_HEADER);
  payload.copy(segment, headerLength);
  const pkt = ipPacket(src.ip, dst.ip, IPPROTO_TCP, segment, o);
  const offset = transportOffset(pkt);
  pkt.writeUInt16BE(transportChecksum(pkt, offset, IPPROTO_TCP), offset + 16);
  return pkt;
}

/** TCP MSS option (kind 2), as sent on SYN and SYN-ACK. */
export function mssOption(mss: number): Buffer {
  const opt = Buffer.alloc(4);
  opt[0] = 2;
  opt[1] = 4;
  opt.writeUInt16BE(mss, 2);
  return opt;
}

/** A full IPv4 or IPv6 packet carrying one UDP datagram, checksums filled in. */
export function udpPacket(src: Endpoint, dst: Endpoint, payload: Buffer, o: IpOptions = {}): Buffer {
  const datagram = Buffer.alloc(UDP_HEADER + payload.length);
  datagram.writeUInt16BE(src.port, 0);
  datagram.writeUInt16BE(dst.port, 2);
  datagram.writeUInt16BE(datagram.length & 0xffff, 4);
  payload.copy(datagram, UDP_HEADER);
  const pkt = ipPacket(src.ip, dst.ip, IPPROTO_UDP, datagram, o);
  const offset = transportOffset(pkt);
  // A computed zero is sent as all ones: zero on the wire means "no checksum".
  pkt.writeUInt16BE(transportChecksum(pkt, offset, IPPROTO_UDP) || 0xffff, offset + 6);
  return pkt;
}

/**
 * Splits an IPv4 packet into fragments carrying at most fragmentPayloadSize bytes of the
 * original payload each (a multiple of 8, as the offset field counts 8-byte units).
 * Works on packets that are already fragments too (offsets stay relative to the
 * datagram). Options without the copy bit stay in the first fragment only (RFC 791).
 */
export function fragmentIpv4(packet: Buffer, fragmentPayloadSize: number): Buffer[] {
  if (packet[0]! >> 4 !== 4) throw new Error('fragmentIpv4 needs an IPv4 packet');
  if (fragmentPayloadSize <= 0 || fragmentPayloadSize % 8 !== 0) {
    throw new Error(`fragment payload size must be a positive multiple of 8, got ${fragmentPayloadSize}`);
  }
  const headerLength = (packet[0]! & 0x0f) * 4;
  const total = packet.readUInt16BE(2);
  const flagsAndOffset = packet.readUInt16BE(6);
  const baseOffsetBytes = (flagsAndOffset & 0x1fff) * 8;
  const originalMore = (flagsAndOffset & 0x2000) !== 0;
  const keepFlags = flagsAndOffset & 0x4000;
  const payload = packet.subarray(headerLength, total);
  const firstHeader = packet.subarray(0, headerLength);
  const laterHeader = copiedOptionsHeader(firstHeader);

  if (payload.length === 0) return [Buffer.from(packet)];
  const out: Buffer[] = [];
  for (let pos = 0; pos < payload.length; pos += fragmentPayloadSize) {
    const chunk = payload.subarray(pos, pos + fragmentPayloadSize);
    const header = pos === 0 ? firstHeader : laterHeader;
    const frag = Buffer.alloc(header.length + chunk.length);
    header.copy(frag);
    chunk.copy(frag, header.length);
    frag[0] = 0x40 | (header.length / 4);
    frag.writeUInt16BE(frag.length, 2);
    const last = pos + fragmentPayloadSize >= payload.length;
    const more = !last || originalMore ? 0x2000 : 0;
    frag.writeUInt16BE(keepFlags | more | ((baseOffsetBytes + pos) / 8), 6);
    frag.writeUInt16BE(0, 10);
    frag.writeUInt16BE(internetChecksum(frag, 0, header.length), 10);
    out.push(frag);
  }
  return out;
}

/** IPv4 header with only the options whose copy bit is set, padded to 4 bytes. */
function copiedOptionsHeader(header: Buffer): Buffer {
  if (header.length === IPV4_HEADER) return header;
  const kept: Buffer[] = [];
  let i = IPV4_HEADER;
  while (i < header.length) {
    const type = header[i]!;
    if (type === 0) break;
    if (type === 1) {
      i += 1;
      continue;
    }
    const len = Math.max(2, header[i + 1] ?? 2);
    if (type & 0x80) kept.push(header.subarray(i, i + len));
    i += len;
  }
  const options = Buffer.concat(kept);
  const padded = Math.ceil(options.length / 4) * 4;
  const out = Buffer.alloc(IPV4_HEADER + padded);
  header.copy(out, 0, 0, IPV4_HEADER);
  options.copy(out, IPV4_HEADER);
  return out;
}

/**
 * Splits an IPv6 packet (fixed header directly followed by the upper layer) into
 * fragments with a Fragment extension header. fragmentPayloadSize counts upper-layer bytes
 * per fragment and must be a multiple of 8.
 */
export function fragmentIpv6(packet: Buffer, fragmentPayloadSize: number, identification: number): Buffer[] {
  if (packet[0]! >> 4 !== 6) throw new Error('fragmentIpv6 needs an IPv6 packet');
  if (fragmentPayloadSize <= 0 || fragmentPayloadSize % 8 !== 0) {
    throw new Error(`fragment payload size must be a positive multiple of 8, got ${fragmentPayloadSize}`);
  }
  const nextHeader = packet[6]!;
  const payload = packet.subarray(IPV6_HEADER, IPV6_HEADER + packet.readUInt16BE(4));
  const out: Buffer[] = [];
  for (let pos = 0; pos < payload.length; pos += fragmentPayloadSize) {
    const chunk = payload.subarray(pos, pos + fragmentPayloadSize);
    const frag = Buffer.alloc(IPV6_HEADER + 8 + chunk.length);
    packet.copy(frag, 0, 0, IPV6_HEADER);
    frag.writeUInt16BE(8 + chunk.length, 4);
    frag[6] = IPPROTO_IPV6_FRAGMENT;
    frag[IPV6_HEADER] = nextHeader;
    const more = pos + fragmentPayloadSize < payload.length ? 1 : 0;
    frag.writeUInt16BE(pos | more, IPV6_HEADER + 2);
    frag.writeUInt32BE(identification >>> 0, IPV6_HEADER + 4);
    chunk.copy(frag, IPV6_HEADER + 8);
    out.push(frag);
  }
  return out;
}
