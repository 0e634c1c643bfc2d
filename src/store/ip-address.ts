/**
 * IP text as the store keys it. User input is brought to the same canonical text the
 * sensor writes (decode/address.ts: dotted quad, RFC 5952 IPv6), and addresses sort
 * numerically, IPv4 before IPv6.
 */
import { formatEndpoint, formatIp, parseIp as parseIpWords } from '../decode/address.js';

export interface ParsedIp {
  version: 4 | 6;
  /** Canonical text. */
  text: string;
  /** Fixed-width hex of the address bits, for sorting. */
  hex: string;
}

export function parseIp(text: string): ParsedIp | null {
  const p = parseIpWords(text);
  if (!p) return null;
  const words = p.version === 4 ? [p.words[0]!] : [...p.words];
  return { version: p.version, text: formatIp(p.version, p.words), hex: words.map((w) => w.toString(16).padStart(8, '0')).join('') };
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
export const endpoint = formatEndpoint;
