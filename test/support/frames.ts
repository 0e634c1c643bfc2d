/**
 * Byte-by-byte frame builders for decoder tests. Each builder returns a new Buffer holding
 * its header followed by the payload it was given, so layers nest like the wire format:
 * ethernet(0x0800, ipv4({...}, tcp({...}, data))). Lengths and next-protocol fields are
 * filled in unless a test overrides them to build something broken on purpose.
 */
import { formatIp } from '../../src/decode/address.js';
import { Decoder } from '../../src/decode/decoder.js';
import { DecodedPacket } from '../../src/decode/types.js';

export type Bytes = Buffer | readonly number[] | string;

export function bytes(...parts: Bytes[]): Buffer {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));
}

function u16(value: number): number[] {
  return [(value >>> 8) & 0xff, value & 0xff];
}

function u32(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

/** Address text to its 4 or 16 bytes; written here independently of src/decode/address.ts. */
export function ipBytes(text: string): Buffer {
  if (!text.includes(':')) return Buffer.from(text.split('.').map(Number));
  const [head = '', tail] = text.split('::');
  const toGroups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const headGroups = toGroups(head);
  const tailGroups = tail === undefined ? [] : toGroups(tail);
  const zeros = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  return Buffer.from([...headGroups, ...zeros, ...tailGroups].flatMap(u16));
}

const MAC_A = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const MAC_B = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

export interface VlanTag {
  tpid?: number;
  id: number;
  priority?: number;
}

/** Ethernet II, optionally with stacked VLAN tags (outermost first) and padded to `padTo` bytes. */
export function ethernet(etherType: number, payload: Bytes, opts: { vlans?: VlanTag[]; padTo?: number } = {}): Buffer {
  const tags = (opts.vlans ?? []).map((tag, i, all) => {
    const next = i + 1 < all.length ? (all[i + 1]!.tpid ?? 0x8100) : etherType;
    return bytes(u16(((tag.priority ?? 0) << 13) | tag.id), u16(next));
  });
  const firstType = opts.vlans && opts.vlans.length > 0 ? (opts.vlans[0]!.tpid ?? 0x8100) : etherType;
  const frame = bytes(MAC_A, MAC_B, u16(firstType), ...tags, payload);
  if (opts.padTo !== undefined && frame.length < opts.padTo) return bytes(frame, Buffer.alloc(opts.padTo - frame.length));
  return frame;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  protocol: number;
  id?: number;
  ttl?: number;
  /** IP options, padded here to a multiple of 4 bytes. */
  options?: Bytes;
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number;
  moreFragments?: boolean;
  dontFragment?: boolean;
  /** Overrides for broken headers. */
  totalLength?: number;
  ihl?: number;
  version?: number;
}

export function ipv4(opts: Ipv4Options, payload: Bytes): Buffer {
  let options = bytes(opts.options ?? []);
  if (options.length % 4 !== 0) options = bytes(options, Buffer.alloc(4 - (options.length % 4)));
  const headerLength = 20 + options.length;
  const body = bytes(payload);
  const flags = (opts.dontFragment ? 0x4000 : 0) | (opts.moreFragments ? 0x2000 : 0) | ((opts.fragmentOffset ?? 0) / 8);
  return bytes(
    [((opts.version ?? 4) << 4) | (opts.ihl ?? headerLength / 4), 0],
    u16(opts.totalLength ?? headerLength + body.length),
    u16(opts.id ?? 0x1234),
    u16(flags),
    [opts.ttl ?? 64, opts.protocol],
    u16(0), // checksum: the decoder does not verify it
    ipBytes(opts.src),
    ipBytes(opts.dst),
    options,
    body,
  );
}

export interface Ipv6Options {
  src: string;
  dst: string;
  next: number;
  hopLimit?: number;
  flowLabel?: number;
  payloadLength?: number;
}

export function ipv6(opts: Ipv6Options, payload: Bytes): Buffer {
  const body = bytes(payload);
  return bytes(
    u32((6 << 28) | (opts.flowLabel ?? 0)),
    u16(opts.payloadLength ?? body.length),
    [opts.next, opts.hopLimit ?? 64],
    ipBytes(opts.src),
    ipBytes(opts.dst),
    body,
  );
}

/** Hop-by-hop (0), routing (43) or destination options (60) header; `optionBytes` padded to 8n - 2. */
export function ipv6Options(next: number, payload: Bytes, optionBytes = 6): Buffer {
  const bodyLength = Math.ceil((optionBytes + 2) / 8) * 8 - 2;
  const body = Buffer.alloc(bodyLength);
  // PadN option covering the whole body keeps the header well-formed.
  body[0] = 1;
  body[1] = bodyLength - 2;
  return bytes([next, (bodyLength + 2) / 8 - 1], body, payload);
}

/** Type 2 routing header (RFC 6275): one home address, 24 bytes in all. */
export function ipv6Routing(next: number, payload: Bytes, homeAddress = '2001:db8::99'): Buffer {
  return bytes([next, 2, 2, 1, 0, 0, 0, 0], ipBytes(homeAddress), payload);
}

export function ipv6Fragment(next: number, offset: number, more: boolean, id: number, payload: Bytes): Buffer {
  return bytes([next, 0], u16(offset | (more ? 1 : 0)), u32(id), payload);
}

/** IPsec AH with a 12-byte ICV (payload length field = 4-byte units - 2). */
export function ah(next: number, payload: Bytes): Buffer {
  return bytes([next, 4], u16(0), u32(0x1000), u32(1), Buffer.alloc(12, 0xaa), payload);
}

export interface TcpOptions {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  options?: Bytes;
  /** Overrides the data offset (in 4-byte words) for broken headers. */
  dataOffset?: number;
}

export function tcp(opts: TcpOptions, payload: Bytes = []): Buffer {
  let options = bytes(opts.options ?? []);
  if (options.length % 4 !== 0) options = bytes(options, Buffer.alloc(4 - (options.length % 4), 1));
  const words = opts.dataOffset ?? (20 + options.length) / 4;
  return bytes(
    u16(opts.srcPort),
    u16(opts.dstPort),
    u32(opts.seq ?? 0),
    u32(opts.ack ?? 0),
    [words << 4, opts.flags ?? 0x18],
    u16(opts.window ?? 65535),
    u16(0),
    u16(0),
    options,
    payload,
  );
}

export function udp(opts: { srcPort: number; dstPort: number; length?: number }, payload: Bytes = []): Buffer {
  const body = bytes(payload);
  return bytes(u16(opts.srcPort), u16(opts.dstPort), u16(opts.length ?? 8 + body.length), u16(0), body);
}

export interface GreOptions {
  protocol: number;
  checksum?: boolean;
  key?: number;
  sequence?: number;
  /** RFC 1701 source route entries (each: family, offset, routing bytes); a null entry is appended. */
  routes?: { family: number; data: Bytes }[];
  version?: number;
}

export function gre(opts: GreOptions, payload: Bytes): Buffer {
  const routing = opts.routes !== undefined;
  const flags =
    (opts.checksum ? 0x8000 : 0) |
    (routing ? 0x4000 : 0) |
    (opts.key !== undefined ? 0x2000 : 0) |
    (opts.sequence !== undefined ? 0x1000 : 0) |
    (opts.version ?? 0);
  const parts: Bytes[] = [u16(flags), u16(opts.protocol)];
  if (opts.checksum || routing) parts.push(u32(0));
  if (opts.key !== undefined) parts.push(u32(opts.key));
  if (opts.sequence !== undefined) parts.push(u32(opts.sequence));
  for (const route of opts.routes ?? []) {
    const data = bytes(route.data);
    parts.push(u16(route.family), [0, data.length], data);
  }
  if (routing) parts.push([0, 0, 0, 0]);
  return bytes(...parts, payload);
}

/** PPTP enhanced GRE (version 1) carrying PPP. */
export function greV1(callId: number, payload: Bytes, opts: { sequence?: number; ackNumber?: number } = {}): Buffer {
  const body = bytes(payload);
  const flags = 0x2000 | (opts.sequence !== undefined ? 0x1000 : 0) | (opts.ackNumber !== undefined ? 0x0080 : 0) | 1;
  const parts: Bytes[] = [u16(flags), u16(0x880b), u16(body.length), u16(callId)];
  if (opts.sequence !== undefined) parts.push(u32(opts.sequence));
  if (opts.ackNumber !== undefined) parts.push(u32(opts.ackNumber));
  return bytes(...parts, body);
}

/** ERSPAN type II header (version 1) before a mirrored Ethernet frame. */
export function erspan2(frame: Bytes, session = 7, vlan = 0): Buffer {
  return bytes(u16((1 << 12) | vlan), u16(session & 0x3ff), u32(42), frame);
}

/** ERSPAN type III header (version 2), with the 8-byte platform subheader when `platform`. */
export function erspan3(frame: Bytes, opts: { platform?: boolean; session?: number; version?: number } = {}): Buffer {
  const word0 = bytes(u16(((opts.version ?? 2) << 12) | 0), u16((opts.session ?? 9) & 0x3ff));
  const timestamp = u32(0x01020304);
  const word2 = bytes(u16(0), [0, opts.platform ? 0x01 : 0x00]);
  const platform = opts.platform ? Buffer.alloc(8, 0xee) : Buffer.alloc(0);
  return bytes(word0, timestamp, word2, platform, frame);
}

export function vxlan(vni: number, frame: Bytes, flags = 0x08): Buffer {
  return bytes([flags, 0, 0, 0], [(vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff, 0], frame);
}

/** Geneve with one experimental option filling `optionWords` 4-byte words (0 for none). */
export function geneve(protocol: number, payload: Bytes, optionWords = 0, version = 0): Buffer {
  const option = optionWords === 0 ? [] : bytes([0xff, 0xff, 0x01, optionWords - 1], Buffer.alloc((optionWords - 1) * 4, 0x55));
  return bytes([(version << 6) | optionWords, 0], u16(protocol), [0, 0, 1, 0], option, payload);
}

export interface GtpuOptions {
  teid?: number;
  sequence?: number;
  /** Extension header contents (each padded so its length is a multiple of 4 incl. length and next-type bytes). */
  extensions?: { type: number; content: Bytes }[];
  messageType?: number;
  version?: number;
  /** Overrides the length field. */
  length?: number;
}

export function gtpu(payload: Bytes, opts: GtpuOptions = {}): Buffer {
  const extensions = opts.extensions ?? [];
  const hasOptional = opts.sequence !== undefined || extensions.length > 0;
  const flags =
    ((opts.version ?? 1) << 5) | 0x10 | (extensions.length > 0 ? 0x04 : 0) | (opts.sequence !== undefined ? 0x02 : 0);
  const optional: Bytes[] = [];
  if (hasOptional) optional.push(u16(opts.sequence ?? 0), [0, extensions[0]?.type ?? 0]);
  extensions.forEach((ext, i) => {
    const content = bytes(ext.content);
    const units = Math.ceil((content.length + 2) / 4);
    const padded = bytes(content, Buffer.alloc(units * 4 - 2 - content.length));
    optional.push([units], padded, [extensions[i + 1]?.type ?? 0]);
  });
  const rest = bytes(...optional, payload);
  return bytes([flags, opts.messageType ?? 0xff], u16(opts.length ?? rest.length), u32(opts.teid ?? 0x11223344), rest);
}

/** Linux cooked capture v1: 16 bytes, protocol at offset 14. */
export function sll(protocol: number, payload: Bytes): Buffer {
  return bytes(u16(0), u16(1), u16(6), MAC_A, [0, 0], u16(protocol), payload);
}

/** Linux cooked capture v2: 20 bytes, protocol at offset 0. */
export function sll2(protocol: number, payload: Bytes): Buffer {
  return bytes(u16(protocol), u16(0), u32(3), u16(1), [0, 6], MAC_A, [0, 0], payload);
}

/** BSD NULL: address family in the capturing host's byte order. */
export function nullLink(family: number, payload: Bytes, littleEndian = true): Buffer {
  const header = Buffer.alloc(4);
  if (littleEndian) header.writeUInt32LE(family);
  else header.writeUInt32BE(family);
  return bytes(header, payload);
}

/** OpenBSD LOOP: address family in network order. */
export function loopLink(family: number, payload: Bytes): Buffer {
  return bytes(u32(family), payload);
}

export function ppp(protocol: number, payload: Bytes, opts: { addressControl?: boolean; compressed?: boolean } = {}): Buffer {
  const header = opts.compressed ? [protocol & 0xff] : u16(protocol);
  return bytes(opts.addressControl === false ? [] : [0xff, 0x03], header, payload);
}

export function ciscoHdlc(etherType: number, payload: Bytes): Buffer {
  return bytes([0x0f, 0x00], u16(etherType), payload);
}

export function pppoe(pppProtocol: number, payload: Bytes, sessionId = 0x0101): Buffer {
  const body = bytes(u16(pppProtocol), payload);
  return bytes([0x11, 0x00], u16(sessionId), u16(body.length), body);
}

/** Per-Packet Information header (little-endian) with `extra` field bytes after the 8 fixed ones. */
export function ppi(dlt: number, payload: Bytes, extra: Bytes = []): Buffer {
  const fields = bytes(extra);
  const header = Buffer.alloc(8);
  header.writeUInt16LE(8 + fields.length, 2);
  header.writeUInt32LE(dlt, 4);
  return bytes(header, fields, payload);
}

/** MPLS label stack (outermost first); the last entry gets the bottom-of-stack bit. */
export function mpls(labels: number[], payload: Bytes): Buffer {
  const entries = labels.map((label, i) => u32((label << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64));
  return bytes(...entries, payload);
}

/** Ethernet pseudowire control word (first nibble 0) before an Ethernet frame. */
export function pwControlWord(frame: Bytes, sequence = 1): Buffer {
  return bytes(u32(sequence & 0xffff), frame);
}

/** Split an IP payload into fragments of at most `size` bytes (size a multiple of 8). */
export function splitPayload(payload: Buffer, size: number): { offset: number; more: boolean; data: Buffer }[] {
  const pieces: { offset: number; more: boolean; data: Buffer }[] = [];
  for (let offset = 0; offset < payload.length; offset += size) {
    pieces.push({ offset, more: offset + size < payload.length, data: payload.subarray(offset, offset + size) });
  }
  return pieces;
}

// --- decoding helpers shared by the decode tests ---


export interface Decoded {
  ok: boolean;
  packet: DecodedPacket;
  decoder: Decoder;
  src: string;
  dst: string;
  payload: string;
}

/** Decode one frame with a fresh decoder (or the one given) and render the interesting fields. */
export function decodeFrame(linkType: number, frame: Buffer, decoder = new Decoder(), tsMicros = 1_000_000): Decoded {
  const packet = new DecodedPacket();
  const ok = decoder.decode(linkType, frame, 0, frame.length, tsMicros, packet);
  return { ok, packet, decoder, ...render(packet) };
}

export function render(packet: DecodedPacket): { src: string; dst: string; payload: string } {
  const version = packet.ipVersion === 6 ? 6 : 4;
  return {
    src: packet.ipVersion === 0 ? '' : formatIp(version, packet.src),
    dst: packet.ipVersion === 0 ? '' : formatIp(version, packet.dst),
    payload: packet.buf.toString('latin1', packet.payloadOffset, packet.payloadOffset + packet.payloadLength),
  };
}
