/** Numbers from the registries the decoder reads: LINKTYPE_*, EtherTypes, IP protocols, ports. */

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_PPP = 9;
export const LINKTYPE_RAW_OPENBSD = 12;
export const LINKTYPE_RAW_14 = 14;
export const LINKTYPE_PPP_HDLC = 50;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_C_HDLC = 104;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_PPI = 192;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_MPLS_MULTICAST = 0x8848;
export const ETHERTYPE_PPPOE_SESSION = 0x8864;
/** GRE protocol types that are not ordinary EtherTypes of a payload. */
export const GRE_TRANSPARENT_ETHERNET = 0x6558;
export const GRE_ERSPAN_1_2 = 0x88be;
export const GRE_ERSPAN_3 = 0x22eb;
export const GRE_PPP = 0x880b;
/** Largest value of an 802.3 length field; above it the field is an EtherType. */
export const ETHER_MAX_LENGTH_FIELD = 1500;

export const PPP_IPV4 = 0x0021;
export const PPP_IPV6 = 0x0057;
export const PPP_MPLS = 0x0281;
export const PPP_MPLS_MULTICAST = 0x0283;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_IPIP = 4;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_AH = 51;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

export const PORT_VXLAN = 4789;
export const PORT_GENEVE = 6081;
export const PORT_GTPU = 2152;

/** BSD address-family values for IPv6 differ per OS (NetBSD/OpenBSD, FreeBSD, Darwin). */
export const BSD_AF_INET = 2;
export const BSD_AF_INET6_BSD = 24;
export const BSD_AF_INET6_FREEBSD = 28;
export const BSD_AF_INET6_DARWIN = 30;
