/**
 * Link layers and tunnels around IP packets, so one synthetic conversation can be written
 * in every framing the decoder must peel: plain link types, VLAN stacks, MPLS, and the
 * usual mirroring/overlay tunnels (outer Ethernet + IPv4 + GRE/UDP + inner packet).
 */
import { ipPacket, ipVersionOf, udpPacket, IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6 } from './packets.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_ERSPAN2 = 0x88be;
export const ETHERTYPE_ERSPAN3 = 0x22eb;
/** GRE protocol type for bridged Ethernet (Transparent Ethernet Bridging). */
export const ETHERTYPE_TEB = 0x6558;

export const VXLAN_PORT = 4789;
export const GTPU_PORT = 2152;

export type Link = { linkType: number; frame: (ip: Buffer) => Buffer };

export interface TunnelOptions {
  /** VXLAN network identifier (default 1). */
  vni?: number;
  /** GTP-U tunnel endpoint identifier (default 1). */
  teid?: number;
  /** ERSPAN session id, 10 bits (default 1). */
  sessionId?: number;
  /** Link used for the inner frame of Ethernet-carrying tunnels (default plain Ethernet). */
  inner?: Link;
}

function ipVersionOfPacket(ip: Buffer): 4 | 6 {
  const version = ip[0]! >> 4;
  if (version !== 4 && version !== 6) throw new Error(`not an IP packet (version nibble ${version})`);
  return version;
}

function etherTypeOf(ip: Buffer): number {
  return ipVersionOfPacket(ip) === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
}

/** FNV-1a over a byte range: cheap, stable per-flow values for MACs and VXLAN ports. */
function fnv1a(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < Math.min(end, buf.length); i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

/** Address bytes (and, for option-less headers, the ports after them) of an IP packet. */
function flowKeyRange(ip: Buffer): [number, number] {
  return ipVersionOfPacket(ip) === 4 ? [12, 24] : [8, 44];
}

/**
 * MAC inside the RFC 7042 documentation block 00-00-5E-00-53-xx, the last byte derived from
 * an IP address so each host keeps one MAC and directions mirror each other.
 */
function macFor(ip: Buffer, addressOffset: number, addressLength: number): Buffer {
  const mac = Buffer.from([0x00, 0x00, 0x5e, 0x00, 0x53, 0x00]);
  mac[5] = fnv1a(ip, addressOffset, addressOffset + addressLength) & 0xff;
  return mac;
}

function sourceMac(ip: Buffer): Buffer {
  return ipVersionOfPacket(ip) === 4 ? macFor(ip, 12, 4) : macFor(ip, 8, 16);
}

function destinationMac(ip: Buffer): Buffer {
  return ipVersionOfPacket(ip) === 4 ? macFor(ip, 16, 4) : macFor(ip, 24, 16);
}

export interface EthernetOptions {
  /** 802.1Q VLAN ids, outermost first. */
  vlans?: number[];
  /** Use the 802.1ad TPID (0x88A8) for the outermost tag. */
  qinq?: boolean;
  /** Zero-pad short frames to the 60-byte Ethernet minimum, as a receiving NIC shows them
   *  (the padding lies beyond the IP total length, which decoders must respect). */
  padToMinimum?: boolean;
}

/** Minimum Ethernet frame without FCS. */
const ETHERNET_MIN_FRAME = 60;

/**
 * Ethernet II frame: MACs, optional VLAN tags (outermost first), then EtherType + payload.
 * With qinq the outermost tag uses the 802.1ad TPID.
 */
export function ethernetFrame(
  dstMac: Buffer,
  srcMac: Buffer,
  etherType: number,
  payload: Buffer,
  o: EthernetOptions = {},
): Buffer {
  const vlans = o.vlans ?? [];
  const unpadded = 14 + vlans.length * 4 + payload.length;
  const frame = Buffer.alloc(o.padToMinimum ? Math.max(unpadded, ETHERNET_MIN_FRAME) : unpadded);
  dstMac.copy(frame, 0);
  srcMac.copy(frame, 6);
  let pos = 12;
  vlans.forEach((vid, i) => {
    frame.writeUInt16BE(i === 0 && o.qinq ? ETHERTYPE_QINQ : ETHERTYPE_VLAN, pos);
    frame.writeUInt16BE(vid & 0x0fff, pos + 2);
    pos += 4;
  });
  frame.writeUInt16BE(etherType, pos);
  payload.copy(frame, pos + 2);
  return frame;
}

function greHeader(protocol: number, sequence?: number): Buffer {
  const header = Buffer.alloc(sequence === undefined ? 4 : 8);
  header.writeUInt16BE(sequence === undefined ? 0 : 0x1000, 0); // S bit: sequence present
  header.writeUInt16BE(protocol, 2);
  if (sequence !== undefined) header.writeUInt32BE(sequence >>> 0, 4);
  return header;
}

/**
 * Builds the outer Ethernet + IP layers of a tunnel. Outer IPv4 IDs count up per tunnel
 * instance, as they would from one sending host.
 */
function outerPath(outerSrc: string, outerDst: string) {
  if (ipVersionOf(outerSrc) !== ipVersionOf(outerDst)) throw new Error(`outer address families differ: ${outerSrc} -> ${outerDst}`);
  let ipId = 0x100;
  const nextId = () => (ipId = (ipId + 1) & 0xffff);
  const wrap = (outerIp: Buffer) => ethernetFrame(destinationMac(outerIp), sourceMac(outerIp), etherTypeOf(outerIp), outerIp);
  return {
    ip: (protocol: number, payload: Buffer) => wrap(ipPacket(outerSrc, outerDst, protocol, payload, { ipId: nextId() })),
    udp: (srcPort: number, dstPort: number, payload: Buffer) =>
      wrap(udpPacket({ ip: outerSrc, port: srcPort }, { ip: outerDst, port: dstPort }, payload, { ipId: nextId() })),
  };
}

function ethernet(o: EthernetOptions = {}): Link {
  return {
    linkType: LINKTYPE_ETHERNET,
    frame: (ip) => ethernetFrame(destinationMac(ip), sourceMac(ip), etherTypeOf(ip), ip, o),
  };
}

function rawIp(): Link {
  return { linkType: LINKTYPE_RAW, frame: (ip) => Buffer.from(ip) };
}

/** Linux cooked capture v1: 16-byte header (packet type, ARPHRD, address, protocol). */
function sll(): Link {
  return {
    linkType: LINKTYPE_LINUX_SLL,
    frame: (ip) => {
      const out = Buffer.alloc(16 + ip.length);
      out.writeUInt16BE(0, 0); // packet addressed to this host
      out.writeUInt16BE(1, 2); // ARPHRD_ETHER
      out.writeUInt16BE(6, 4);
      sourceMac(ip).copy(out, 6);
      out.writeUInt16BE(etherTypeOf(ip), 14);
      ip.copy(out, 16);
      return out;
    },
  };
}

/** Linux cooked capture v2: 20-byte header with interface index. */
function sll2(o: { interfaceIndex?: number } = {}): Link {
  return {
    linkType: LINKTYPE_LINUX_SLL2,
    frame: (ip) => {
      const out = Buffer.alloc(20 + ip.length);
      out.writeUInt16BE(etherTypeOf(ip), 0);
      out.writeUInt32BE(o.interfaceIndex ?? 1, 4);
      out.writeUInt16BE(1, 8); // ARPHRD_ETHER
      out[10] = 0; // packet addressed to this host
      out[11] = 6;
      sourceMac(ip).copy(out, 12);
      ip.copy(out, 20);
      return out;
    },
  };
}

const AF_INET = 2;
/** BSD value; FreeBSD (28) and macOS (30) differ, pass inet6Family to vary it. */
const AF_INET6_BSD = 24;

/**
 * BSD loopback (LINKTYPE_NULL): a 4-byte address family in the byte order of the host that
 * wrote the file, so it must match the pcap writer's endianness (little-endian default).
 */
function nullLoop(o: { bigEndian?: boolean; inet6Family?: number } = {}): Link {
  return {
    linkType: LINKTYPE_NULL,
    frame: (ip) => {
      const out = Buffer.alloc(4 + ip.length);
      const family = ipVersionOfPacket(ip) === 4 ? AF_INET : (o.inet6Family ?? AF_INET6_BSD);
      if (o.bigEndian) out.writeUInt32BE(family, 0);
      else out.writeUInt32LE(family, 0);
      ip.copy(out, 4);
      return out;
    },
  };
}

/** OpenBSD loopback (LINKTYPE_LOOP): like NULL but the family is always big-endian. */
function loop(): Link {
  return { linkType: LINKTYPE_LOOP, frame: nullLoop({ bigEndian: true }).frame };
}

/** GRE (with sequence numbers) + ERSPAN type II header + inner Ethernet frame. */
function greEthernetErspan2(outerSrc: string, outerDst: string, o: TunnelOptions = {}): Link {
  const outer = outerPath(outerSrc, outerDst);
  const inner = o.inner ?? ethernet();
  let sequence = 0;
  let index = 0;
  return {
    linkType: LINKTYPE_ETHERNET,
    frame: (ip) => {
      const erspan = Buffer.alloc(8);
      erspan.writeUInt16BE(0x1000, 0); // version 1 (type II), VLAN 0
      erspan.writeUInt16BE((o.sessionId ?? 1) & 0x3ff, 2); // COS 0, En 0, T 0
      erspan.writeUInt32BE(index++ & 0xfffff, 4); // reserved 0, index
      const payload = Buffer.concat([greHeader(ETHERTYPE_ERSPAN2, sequence++), erspan, inner.frame(ip)]);
      return outer.ip(IPPROTO_GRE, payload);
    },
  };
}

/** GRE (with sequence numbers) + ERSPAN type III header (12 bytes) + inner Ethernet frame. */
function erspan3(outerSrc: string, outerDst: string, o: TunnelOptions = {}): Link {
  const outer = outerPath(outerSrc, outerDst);
  const inner = o.inner ?? ethernet();
  let sequence = 0;
  return {
    linkType: LINKTYPE_ETHERNET,
    frame: (ip) => {
      const erspan = Buffer.alloc(12);
      erspan.writeUInt16BE(0x2000, 0); // version 2 (type III), VLAN 0
      erspan.writeUInt16BE((o.sessionId ?? 1) & 0x3ff, 2); // COS 0, BSO 0, T 0
      // Timestamp in 100 µs units (granularity 0); a counter keeps output a pure function of input.
      erspan.writeUInt32BE(sequence >>> 0, 4);
      erspan.writeUInt32BE(0, 8); // SGT 0, P 0, FT 0 (Ethernet), HW id 0, D 0, Gra 0, O 0
      const payload = Buffer.concat([greHeader(ETHERTYPE_ERSPAN3, sequence++), erspan, inner.frame(ip)]);
      return outer.ip(IPPROTO_GRE, payload);
    },
  };
}

/** VXLAN: outer UDP to 4789, 8-byte header with the I flag, inner Ethernet frame. */
function vxlan(outerSrc: string, outerDst: string, o: TunnelOptions = {}): Link {
  const outer = outerPath(outerSrc, outerDst);
  const inner = o.inner ?? ethernet();
  return {
    linkType: LINKTYPE_ETHERNET,
    frame: (ip) => {
      const header = Buffer.alloc(8);
      header[0] = 0x08; // I flag: VNI valid
      header.writeUInt32BE((((o.vni ?? 1) & 0xffffff) << 8) >>> 0, 4); // VNI, reserved byte 0
      // Source port from the inner flow (RFC 7348 recommends this for ECMP entropy).
      const [start, end] = flowKeyRange(ip);
      const srcPort = 49152 + (fnv1a(ip, start, end) % 16384);
      return outer.udp(srcPort, VXLAN_PORT, Buffer.concat([header, inner.frame(ip)]));
    },
  };
}

/** GTP-U v1 G-PDU: flags 0x30 (version 1, PT 1, no optional fields), type 0xFF, inner IP. */
function gtpu(outerSrc: string, outerDst: string, o: TunnelOptions = {}): Link {
  const outer = outerPath(outerSrc, outerDst);
  return {
    linkType: LINKTYPE_ETHERNET,
    frame: (ip) => {
      const header = Buffer.alloc(8);
      header[0] = 0x30;
      header[1] = 0xff;
      header.writeUInt16BE(ip.length, 2); // bytes after the mandatory 8-byte header
      header.writeUInt32BE((o.teid ?? 1) >>> 0, 4);
      return outer.udp(GTPU_PORT, GTPU_PORT, Buffer.concat([header, ip]));
    },
  };
}

/** IP-in-IP (protocol 4) or IPv6-in-IP (protocol 41). */
function ipInIp(outerSrc: string, outerDst: string): Link {
  const outer = outerPath(outerSrc, outerDst);
  return {
    linkType: LINKTYPE_ETHERNET,
    frame: (ip) => outer.ip(ipVersionOfPacket(ip) === 4 ? IPPROTO_IPIP : IPPROTO_IPV6, ip),
  };
}

/** Plain 4-byte GRE header carrying the IP packet. */
function greIp(outerSrc: string, outerDst: string): Link {
  const outer = outerPath(outerSrc, outerDst);
  return {
    linkType: LINKTYPE_ETHERNET,
    frame: (ip) => outer.ip(IPPROTO_GRE, Buffer.concat([greHeader(etherTypeOf(ip)), ip])),
  };
}

/** Ethernet + MPLS label stack (first label outermost) + IP, no control word. */
function mpls(labels: number[]): Link {
  if (labels.length === 0) throw new Error('mpls needs at least one label');
  return {
    linkType: LINKTYPE_ETHERNET,
    frame: (ip) => {
      const stack = Buffer.alloc(labels.length * 4);
      labels.forEach((label, i) => {
        const bottom = i === labels.length - 1 ? 1 : 0;
        stack.writeUInt32BE(((label & 0xfffff) * 4096 + (bottom << 8) + 64) >>> 0, i * 4); // TC 0, TTL 64
      });
      return ethernetFrame(destinationMac(ip), sourceMac(ip), ETHERTYPE_MPLS, Buffer.concat([stack, ip]));
    },
  };
}

export const links = {
  ethernet,
  rawIp,
  sll,
  sll2,
  nullLoop,
  loop,
  greEthernetErspan2,
  erspan3,
  vxlan,
  gtpu,
  ipInIp,
  greIp,
  mpls,
};
