/**
 * Endpoint tokens of pool lists: host names (exact or `*.` wildcard, `!` exception), IPv4
 * and IPv6 addresses and CIDR blocks, each with an optional port or port range
 * (`host:3333`, `198.51.100.0/24:3333-3340`, `[2001:db8::/32]:443`).
 */
import { formatIp, parseIp } from '../decode/address.js';
import type { PoolEntryKind, PortRange } from './types.js';

export interface ParsedEndpoint {
  kind: PoolEntryKind;
  value: string;
  ports: PortRange | null;
  exclude: boolean;
  /** CIDR only: network words and prefix length. */
  version?: 4 | 6;
  words?: Uint32Array;
  prefix?: number;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
/** Shortest CIDR a list may hold: anything wider is almost surely a mistake. */
const MIN_PREFIX = { 4: 8, 6: 16 } as const;

/** A host name in canonical form (lower case, no trailing dot), or null when it is not one. */
export function normalizeHostName(text: string): string | null {
  let name = text.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0 || name.length > 253 || !name.includes('.')) return null;
  const labels = name.split('.');
  for (const label of labels) if (!LABEL.test(label)) return null;
  // All-numeric last label: an IPv4 typo, not a name.
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return null;
  return name;
}

export function parsePorts(text: string): PortRange | null {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return null;
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  if (low < 1 || high > 65535 || low > high) return null;
  return { low, high };
}

/** Parses one endpoint token; returns an error message instead when it is not one. */
export function parseEndpoint(token: string): ParsedEndpoint | string {
  let text = token;
  const exclude = text.startsWith('!');
  if (exclude) text = text.slice(1);

  // [v6]:port or [v6/len]:port
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return `'${token}': missing ']'`;
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return `'${token}': expected ':port' after ']'`;
    const ports = rest === '' ? null : parsePorts(rest.slice(1));
    if (rest !== '' && !ports) return `'${token}': bad port or port range`;
    return withPorts(parseAddressOrCidr(text.slice(1, close), token), ports, exclude, token);
  }
  if (text.includes('/')) {
    // CIDR, possibly with a port after the prefix length: 198.51.100.0/24:3333
    const slash = text.indexOf('/');
    const tail = text.slice(slash + 1);
    const colon = tail.indexOf(':');
    const isV6 = text.slice(0, slash).includes(':');
    if (!isV6 && colon >= 0) {
      const ports = parsePorts(tail.slice(colon + 1));
      if (!ports) return `'${token}': bad port or port range`;
      return withPorts(parseAddressOrCidr(text.slice(0, slash + 1 + colon), token), ports, exclude, token);
    }
    if (!isV6 && !/^\d+$/.test(tail)) return `'${token}': URL paths are not supported; list the host name alone`;
    return withPorts(parseAddressOrCidr(text, token), null, exclude, token);
  }
  const colons = (text.match(/:/g) ?? []).length;
  if (colons >= 2) return withPorts(parseAddressOrCidr(text, token), null, exclude, token); // bare IPv6
  let host = text;
  let ports: PortRange | null = null;
  if (colons === 1) {
    const colon = text.indexOf(':');
    ports = parsePorts(text.slice(colon + 1));
    if (!ports) return `'${token}': bad port or port range`;
    host = text.slice(0, colon);
  }
  if (/^[0-9.]+$/.test(host)) return withPorts(parseAddressOrCidr(host, token), ports, exclude, token);
  const wildcard = host.startsWith('*.');
  const name = normalizeHostName(wildcard ? host.slice(2) : host);
  if (name === null || host.slice(wildcard ? 2 : 0).includes('*')) {
    return `'${token}' is not a host name, IP address, CIDR block or IP:port`;
  }
  return { kind: wildcard ? 'wildcard' : 'domain', value: name, ports, exclude };
}

function withPorts(parsed: ParsedEndpoint | string, ports: PortRange | null, exclude: boolean, token: string): ParsedEndpoint | string {
  if (typeof parsed === 'string') return parsed;
  if (exclude) return `'${token}': exceptions ('!') are for host names only`;
  parsed.ports = ports;
  return parsed;
}

function parseAddressOrCidr(text: string, token: string): ParsedEndpoint | string {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseIp(addressText);
  if (!address) return `'${token}': not a valid IP address`;
  const canonical = formatIp(address.version, address.words);
  if (slash < 0) return { kind: 'ip', value: canonical, ports: null, exclude: false };
  const prefixText = text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  const bits = address.version === 4 ? 32 : 128;
  if (prefix < 0 || prefix > bits) return `'${token}': bad prefix length`;
  if (prefix < MIN_PREFIX[address.version]) return `'${token}': prefix /${prefix} is too wide for a pool list`;
  if (!hostBitsZero(address.words, address.version, prefix)) return `'${token}': address has bits set beyond /${prefix}`;
  if (prefix === bits) return { kind: 'ip', value: canonical, ports: null, exclude: false };
  return { kind: 'cidr', value: `${canonical}/${prefix}`, ports: null, exclude: false, version: address.version, words: address.words, prefix };
}

function hostBitsZero(words: Uint32Array, version: 4 | 6, prefix: number): boolean {
  const count = version === 4 ? 1 : 4;
  for (let i = 0; i < count; i++) {
    const maskBits = Math.max(0, Math.min(32, prefix - i * 32));
    const mask = maskBits === 0 ? 0 : maskBits === 32 ? 0xffffffff : (0xffffffff << (32 - maskBits)) >>> 0;
    if (((words[i]! & ~mask) >>> 0) !== 0) return false;
  }
  return true;
}

/** The network of `words` under a prefix length (IPv4: one word). */
export function maskWord(word: number, bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return word >>> 0;
  return (word & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0;
}
