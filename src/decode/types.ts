/**
 * Contract between decode and flow. One mutable DecodedPacket is reused for every packet:
 * addresses are numbers in typed arrays, the payload is a window into `buf`, nothing is
 * allocated per packet (IP fragment reassembly is the exception: a reassembled datagram
 * gets its own Buffer).
 */
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export class DecodedPacket {
  /** 4 or 6 for the innermost IP header; 0 when no IP header was found. */
  ipVersion = 0;
  /** IPv4: src[0] holds the address as an unsigned 32-bit number (network order value,
   *  e.g. 192.0.2.1 = 0xC0000201); IPv6: four big-endian 32-bit words. */
  src = new Uint32Array(4);
  dst = new Uint32Array(4);
  /** IP protocol of the transport header (6 TCP, 17 UDP, others left undecoded). */
  protocol = 0;
  srcPort = 0;
  dstPort = 0;
  /** TCP only. */
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  /** Buffer holding the transport payload (the capture chunk, or a reassembled datagram). */
  buf: Buffer = Buffer.alloc(0);
  payloadOffset = 0;
  payloadLength = 0;
  /** Transport payload bytes on the wire that the capture's snap length cut off (they
   *  follow the captured payload; TCP sequence numbers still count them). */
  payloadMissing = 0;
  /** Number of tunnel layers removed (GRE, ERSPAN, VXLAN, GTP-U, IP-in-IP). */
  tunnelDepth = 0;
  /** Outermost 802.1Q VLAN id, or -1. */
  vlanId = -1;
  /** Capture time, integer µs since the epoch. Stages read it from here rather than take it
   *  as an argument: a double passed to a call that is not inlined costs a heap number. */
  tsMicros = 0;
  /** The DNS screen's verdict on this datagram (dns-screen.ts) when a parallel replay's
   *  reader already took it, so that the shard does not read the payload again; else -1.
   *  The decoder leaves it alone: only the reader sets it. */
  dnsScreen = -1;
}

export interface DecodeStats {
  decoded: number;
  /** Packets whose link type this decoder does not know. */
  unknownLinkType: number;
  /** Packets with an EtherType / next protocol that is not IP (ARP, LLDP, ...). */
  nonIp: number;
  /** Headers that claim more bytes than the packet has, bad IHL, bad version ... */
  malformed: number;
  /** IPv4/IPv6 fragments seen, datagrams reassembled, fragments dropped by limits/timeouts. */
  fragments: number;
  reassembled: number;
  fragmentsDropped: number;
  /** Packets that carried a tunnel that was stripped. */
  tunnelled: number;
  /** IP packets whose transport is neither TCP nor UDP (ICMP, ESP, ...). */
  otherTransport: number;
  /** Packets decoded although the snap length cut their payload short (payloadMissing > 0);
   *  they also count in `decoded`. */
  snapTruncated: number;
  /** Packets not decoded because the snap length cut one of their headers. */
  snapCutHeaders: number;
}

export function newDecodeStats(): DecodeStats {
  return {
    decoded: 0,
    unknownLinkType: 0,
    nonIp: 0,
    malformed: 0,
    fragments: 0,
    reassembled: 0,
    fragmentsDropped: 0,
    tunnelled: 0,
    otherTransport: 0,
    snapTruncated: 0,
    snapCutHeaders: 0,
  };
}
