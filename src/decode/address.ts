/**
 * IP address text <-> words. Addresses travel through the pipeline as Uint32Array words
 * (see DecodedPacket); text is made only where a human or a map key needs it, once per flow.
 */

/** '192.0.2.1', or IPv6 in RFC 5952 canonical form ('2001:db8::1', '::ffff:192.0.2.1'). */
export function formatIp(version: 4 | 6, words: Uint32Array): string {
  if (version === 4) return formatIpv4(words[0]);
  const w0 = words[0];
  const w1 = words[1];
  const w2 = words[2];
  const w3 = words[3];
  // IPv4-mapped (::ffff:0:0/96) is written in mixed notation (RFC 5952 section 5).
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return `::ffff:${formatIpv4(w3)}`;
  // The longest run of two or more zero groups becomes '::'; the first one wins a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (group(words, i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && group(words, j) === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  // Built as one string, not as arrays sliced, mapped and joined: an empty slice has another
  // map than a full one, and the first address that led with '::' deoptimised this function.
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (i > 0 && i !== bestStart + bestLength) text += ':';
    text += group(words, i).toString(16);
  }
  return text;
}

/** 16-bit group i (0-7) of an IPv6 address held as four 32-bit words. */
function group(words: Uint32Array, i: number): number {
  const word = words[i >> 1]!;
  return i & 1 ? word & 0xffff : word >>> 16;
}

/** '192.0.2.1:3333' or '[2001:db8::1]:3333'. */
export function formatEndpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Strict parse of a bare address (no brackets, prefix length, zone id or whitespace).
 * IPv4 is dotted quad without leading zeros; IPv6 accepts '::' once and a dotted IPv4 tail.
 */
export function parseIp(text: string): { version: 4 | 6; words: Uint32Array } | null {
  if (text.includes(':')) {
    const groups = parseIpv6Groups(text);
    if (groups === null) return null;
    const words = new Uint32Array(4);
    for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
    return { version: 6, words };
  }
  const value = parseIpv4(text);
  if (value === null) return null;
  const words = new Uint32Array(4);
  words[0] = value;
  return { version: 4, words };
}

function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** Eight 16-bit groups, or null. */
function parseIpv6Groups(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroupList(halves[0], halves.length === 1);
  if (head === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const tail = parseGroupList(halves[1], true);
  if (tail === null) return null;
  // '::' stands for at least one zero group.
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** Colon-separated hex groups; a dotted IPv4 may end the list when it ends the address. */
function parseGroupList(text: string, mayEndWithIpv4: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (mayEndWithIpv4 && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else {
      if (!HEX_GROUP.test(part)) return null;
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}
