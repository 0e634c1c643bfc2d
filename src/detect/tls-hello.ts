/**
 * TLS ClientHello and ServerHello parsing (RFC 8446 section 4.1.2/4.1.3, RFC 5246 7.4.1)
 * and the fingerprints computed from them: JA3 (MD5 of "version,ciphers,extensions,groups,
 * point formats", GREASE removed) and JA4 (FoxIO, technical_details/JA4.md), JA3S for the
 * server. Input is the handshake message (type byte onwards); nothing is read past `end`.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';

export interface ClientHello {
  /** legacy_version of the hello (0x0303 for TLS 1.2 and 1.3). */
  version: number;
  ciphers: number[];
  /** Extension types in wire order. */
  extensions: number[];
  sni: string | undefined;
  alpn: string[];
  /** First ALPN protocol's raw bytes (JA4 needs them when they are not alphanumeric). */
  alpnFirstRaw: Buffer | undefined;
  groups: number[];
  pointFormats: number[];
  signatureAlgorithms: number[];
  supportedVersions: number[];
}

export interface ServerHello {
  version: number;
  cipher: number;
  extensions: number[];
  /** From supported_versions (TLS 1.3), else the legacy version. */
  selectedVersion: number;
}

export const HANDSHAKE_CLIENT_HELLO = 1;
export const HANDSHAKE_SERVER_HELLO = 2;
const EXT_SNI = 0x0000;
const EXT_GROUPS = 0x000a;
const EXT_POINT_FORMATS = 0x000b;
const EXT_SIGNATURE_ALGORITHMS = 0x000d;
const EXT_ALPN = 0x0010;
const EXT_SUPPORTED_VERSIONS = 0x002b;

/** GREASE values (RFC 8701): 0x?a?a with both bytes equal. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}
  has(n: number): boolean {
    return this.pos + n <= this.end;
  }
  u8(): number {
    return this.buf[this.pos++]!;
  }
  u16(): number {
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u24(): number {
    const v = (this.buf[this.pos]! << 16) | (this.buf[this.pos + 1]! << 8) | this.buf[this.pos + 2]!;
    this.pos += 3;
    return v;
  }
}

function u16List(buf: Buffer, start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i + 1 < end; i += 2) out.push(buf.readUInt16BE(i));
  return out;
}

/** Parses a ClientHello handshake message; null when it is not one or is malformed. */
export function parseClientHello(buf: Buffer, start: number, end: number): ClientHello | null {
  const r = new Reader(buf, start, end);
  if (!r.has(4) || r.u8() !== HANDSHAKE_CLIENT_HELLO) return null;
  const length = r.u24();
  if (r.pos + length > end) return null;
  const body = new Reader(buf, r.pos, r.pos + length);
  if (!body.has(2 + 32 + 1)) return null;
  const version = body.u16();
  body.pos += 32; // random
  const sessionIdLength = body.u8();
  if (!body.has(sessionIdLength + 2)) return null;
  body.pos += sessionIdLength;
  const cipherBytes = body.u16();
  if (cipherBytes % 2 !== 0 || !body.has(cipherBytes + 1)) return null;
  const ciphers = u16List(buf, body.pos, body.pos + cipherBytes);
  body.pos += cipherBytes;
  const compressionLength = body.u8();
  if (!body.has(compressionLength)) return null;
  body.pos += compressionLength;
  const hello: ClientHello = {
    version,
    ciphers,
    extensions: [],
    sni: undefined,
    alpn: [],
    alpnFirstRaw: undefined,
    groups: [],
    pointFormats: [],
    signatureAlgorithms: [],
    supportedVersions: [],
  };
  if (!body.has(2)) return hello; // no extensions (SSL 3.0 style)
  const extLength = body.u16();
  const extEnd = body.pos + extLength;
  if (extEnd > body.end) return null;
  while (body.pos + 4 <= extEnd) {
    const type = body.u16();
    const len = body.u16();
    const dataStart = body.pos;
    const dataEnd = dataStart + len;
    if (dataEnd > extEnd) return null;
    hello.extensions.push(type);
    readClientExtension(hello, type, buf, dataStart, dataEnd);
    body.pos = dataEnd;
  }
  return hello;
}

function readClientExtension(h: ClientHello, type: number, buf: Buffer, start: number, end: number): void {
  switch (type) {
    case EXT_SNI: {
      // server_name_list: u16 length, then (u8 type, u16 length, name)*
      if (end - start < 5) return;
      let p = start + 2;
      while (p + 3 <= end) {
        const nameType = buf[p]!;
        const len = buf.readUInt16BE(p + 1);
        if (p + 3 + len > end) return;
        if (nameType === 0 && h.sni === undefined) h.sni = buf.toString('latin1', p + 3, p + 3 + len);
        p += 3 + len;
      }
      return;
    }
    case EXT_ALPN: {
      if (end - start < 2) return;
      let p = start + 2;
      while (p + 1 <= end) {
        const len = buf[p]!;
        if (p + 1 + len > end) return;
        if (h.alpnFirstRaw === undefined) h.alpnFirstRaw = Buffer.from(buf.subarray(p + 1, p + 1 + len));
        h.alpn.push(buf.toString('latin1', p + 1, p + 1 + len));
        p += 1 + len;
      }
      return;
    }
    case EXT_GROUPS:
      if (end - start >= 2) h.groups = u16List(buf, start + 2, Math.min(end, start + 2 + buf.readUInt16BE(start)));
      return;
    case EXT_POINT_FORMATS:
      if (end - start >= 1) for (let p = start + 1; p < Math.min(end, start + 1 + buf[start]!); p++) h.pointFormats.push(buf[p]!);
      return;
    case EXT_SIGNATURE_ALGORITHMS:
      if (end - start >= 2) h.signatureAlgorithms = u16List(buf, start + 2, Math.min(end, start + 2 + buf.readUInt16BE(start)));
      return;
    case EXT_SUPPORTED_VERSIONS:
      if (end - start >= 1) h.supportedVersions = u16List(buf, start + 1, Math.min(end, start + 1 + buf[start]!));
      return;
  }
}

/** Parses a ServerHello handshake message; null when it is not one or is malformed. */
export function parseServerHello(buf: Buffer, start: number, end: number): ServerHello | null {
  const r = new Reader(buf, start, end);
  if (!r.has(4) || r.u8() !== HANDSHAKE_SERVER_HELLO) return null;
  const length = r.u24();
  if (r.pos + length > end) return null;
  const body = new Reader(buf, r.pos, r.pos + length);
  if (!body.has(2 + 32 + 1)) return null;
  const version = body.u16();
  body.pos += 32;
  const sessionIdLength = body.u8();
  if (!body.has(sessionIdLength + 3)) return null;
  body.pos += sessionIdLength;
  const cipher = body.u16();
  body.pos += 1; // compression method
  const hello: ServerHello = { version, cipher, extensions: [], selectedVersion: version };
  if (!body.has(2)) return hello;
  const extLength = body.u16();
  const extEnd = body.pos + extLength;
  if (extEnd > body.end) return null;
  while (body.pos + 4 <= extEnd) {
    const type = body.u16();
    const len = body.u16();
    if (body.pos + len > extEnd) return null;
    hello.extensions.push(type);
    if (type === EXT_SUPPORTED_VERSIONS && len === 2) hello.selectedVersion = buf.readUInt16BE(body.pos);
    body.pos += len;
  }
  return hello;
}

function noGrease(values: readonly number[]): number[] {
  return values.filter((v) => !isGrease(v));
}

/** The JA3 input string: "version,ciphers,extensions,groups,point formats", decimal, '-'-joined. */
export function ja3String(h: ClientHello): string {
  return [
    String(h.version),
    noGrease(h.ciphers).join('-'),
    noGrease(h.extensions).join('-'),
    noGrease(h.groups).join('-'),
    h.pointFormats.join('-'),
  ].join(',');
}

export function ja3(h: ClientHello): string {
  return digestHex('md5', ja3String(h));
}

/** crypto.hash (Node 20.12+) skips the Hash object; older Node falls back to createHash. */
function digestHex(algorithm: 'md5' | 'sha256', text: string): string {
  return typeof oneShotHash === 'function' ? oneShotHash(algorithm, text, 'hex') : createHash(algorithm).update(text).digest('hex');
}

export function ja3s(h: ServerHello): string {
  const text = `${h.version},${h.cipher},${h.extensions.join('-')}`;
  return digestHex('md5', text);
}

const JA4_VERSIONS: ReadonlyMap<number, string> = new Map([
  [0x0304, '13'],
  [0x0303, '12'],
  [0x0302, '11'],
  [0x0301, '10'],
  [0x0300, 's3'],
  [0x0002, 's2'],
  [0xfeff, 'd1'],
  [0xfefd, 'd2'],
  [0xfefc, 'd3'],
]);

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex4(v: number): string {
  return HEX2[(v >> 8) & 0xff]! + HEX2[v & 0xff]!;
}

/** Four-digit hex values in their order, GREASE left out, comma-separated. One string is built
 *  rather than arrays filtered, mapped and joined: an empty list's mapped array has another map
 *  than a full one's, and the first ClientHello without signature algorithms deoptimised JA4. */
function hexList(values: readonly number[]): string {
  let text = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (isGrease(v)) continue;
    text = text === '' ? hex4(v) : `${text},${hex4(v)}`;
  }
  return text;
}

/** Four-digit hex values in ascending order: sorting the numbers sorts their fixed-width text. */
function sortedHex(values: readonly number[]): string {
  return Int32Array.from(values).sort().reduce((text, v, i) => (i === 0 ? hex4(v) : `${text},${hex4(v)}`), '');
}

function twoDigits(n: number): string {
  return String(Math.min(n, 99)).padStart(2, '0');
}

function isAlphanumeric(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/** First and last character of the first ALPN value, as JA4 writes them. */
function ja4Alpn(raw: Buffer | undefined): string {
  if (!raw || raw.length === 0) return '00';
  const first = raw[0]!;
  const last = raw[raw.length - 1]!;
  if (isAlphanumeric(first) && isAlphanumeric(last)) return String.fromCharCode(first) + String.fromCharCode(last);
  const hex = raw.toString('hex');
  return hex[0]! + hex[hex.length - 1]!;
}

function truncatedSha256(text: string): string {
  return digestHex('sha256', text).slice(0, 12);
}

/** The JA4 raw parts (JA4_r): header, sorted ciphers, sorted extensions_signature algorithms. */
export function ja4Raw(h: ClientHello, transport: 't' | 'q' | 'd' = 't'): { a: string; ciphers: string; extensions: string } {
  const versions = noGrease(h.supportedVersions);
  const version = versions.length > 0 ? Math.max(...versions) : h.version;
  const ciphers = noGrease(h.ciphers);
  const extensions = noGrease(h.extensions);
  const a =
    transport +
    (JA4_VERSIONS.get(version) ?? '00') +
    (extensions.includes(EXT_SNI) ? 'd' : 'i') +
    twoDigits(ciphers.length) +
    twoDigits(extensions.length) +
    ja4Alpn(h.alpnFirstRaw);
  const sortedCiphers = sortedHex(ciphers);
  const sortedExtensions = sortedHex(extensions.filter((e) => e !== EXT_SNI && e !== EXT_ALPN));
  const sigAlgs = hexList(h.signatureAlgorithms);
  return { a, ciphers: sortedCiphers, extensions: sigAlgs ? `${sortedExtensions}_${sigAlgs}` : sortedExtensions };
}

export function ja4(h: ClientHello, transport: 't' | 'q' | 'd' = 't'): string {
  const raw = ja4Raw(h, transport);
  const b = raw.ciphers === '' ? '000000000000' : truncatedSha256(raw.ciphers);
  const c = raw.extensions === '' || raw.extensions.startsWith('_') ? '000000000000' : truncatedSha256(raw.extensions);
  return `${raw.a}_${b}_${c}`;
}
