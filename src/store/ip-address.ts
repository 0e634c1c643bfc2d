/**
 * Strict IP address parsing, canonical text and a numeric sort order. Addresses are keys
 * in the store, so user input must be brought to the same text the sensor writes:
 * dotted quad for IPv4, RFC 5952 (lower case, shortest, '::' for the longest zero run)
 * for IPv6 (src/flow/format-ip.ts writes the same).
 */

export interface ParsedIp {
  version: 4 | 6;
  /** Canonical text. */
  text: string;
  /** Fixed-width hex of the address bits, for sorting. */
  hex: string;
}

const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseIpv4(text: string): ParsedIp | null {
  if (!IPV4_PATTERN.test(text)) return null;
  const octets = text.split('.').map(Number);
  return {
    version: 4,
    text: octets.join('.'),
    hex: octets.map((o) => o.toString(16).padStart(2, '0')).join(''),
  };
}

/** Strict IPv6: hex groups, at most one '::', optional dotted IPv4 tail; no zone id. */
export function parseIpv6(text: string): ParsedIp | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;

  const toGroups = (part: string, allowV4Tail: boolean): number[] | null => {
    if (part === '') return [];
    const pieces = part.split(':');
    const groups: number[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (allowV4Tail && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (!v4) return null;
        groups.push(parseInt(v4.hex.slice(0, 4), 16), parseInt(v4.hex.slice(4), 16));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return groups;
  };

  const head = toGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? toGroups(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const present = head.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (present > 7) return null; // '::' stands for at least one zero group
    groups = [...head, ...new Array<number>(8 - present).fill(0), ...tail];
  } else {
    if (present !== 8) return null;
    groups = head;
  }
  return {
    version: 6,
    text: formatIpv6(groups),
    hex: groups.map((g) => g.toString(16).padStart(4, '0')).join(''),
  };
}

export function parseIp(text: string): ParsedIp | null {
  return parseIpv4(text) ?? parseIpv6(text);
}

/** RFC 5952 text of eight 16-bit groups; IPv4-mapped as ::ffff:a.b.c.d, as the flow
 *  stage writes it. */
function formatIpv6(groups: number[]): string {
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Orders IPv4 before IPv6, each numerically; anything unparseable last, as text. */
export function compareIp(a: string, b: string): number {
  const ka = sortKey(a);
  const kb = sortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function sortKey(ip: string): string {
  const parsed = parseIp(ip);
  return parsed ? `${parsed.version}${parsed.hex}` : `9${ip}`;
}

/** 'ip:port', or '[ip]:port' for IPv6, as used in the peers lists. */
export function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
