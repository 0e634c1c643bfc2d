/**
 * TLS records for synthetic captures: a ClientHello and ServerHello as RFC 8446 lays them
 * out (section 4.1.2/4.1.3; extensions per RFC 6066, 7301, 8422, 8446), and opaque
 * application-data records standing in for the encrypted rest of a session.
 */
import { randomInt, seededRandom } from './rng.js';

export interface ClientHelloSpec {
  sni?: string;
  alpn?: string[];
  ciphers?: number[];
  groups?: number[];
  signatureAlgorithms?: number[];
  /** supported_versions; [] leaves the extension out (a TLS 1.2 hello). */
  versions?: number[];
  /** Extra extension types with empty bodies, in order (e.g. GREASE 0x0a0a). */
  extraExtensions?: number[];
  seed?: number;
}

const DEFAULT_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009c, 0x009d];
const DEFAULT_GROUPS = [0x001d, 0x0017, 0x0018];
const DEFAULT_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

function u16List(values: number[]): Buffer {
  return Buffer.concat([u16(values.length * 2), ...values.map(u16)]);
}

function extension(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(body.length), body]);
}

function randomBytes(n: number, seed: number): Buffer {
  const rand = seededRandom(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = randomInt(rand, 0, 255);
  return b;
}

function handshake(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([h, body]);
}

/** One TLS record of the given content type (0x16 handshake, 0x17 application data). */
export function tlsRecord(contentType: number, body: Buffer, version = 0x0303): Buffer {
  return Buffer.concat([Buffer.from([contentType]), u16(version), u16(body.length), body]);
}

/** A ClientHello handshake message in one handshake record. */
export function clientHelloRecord(spec: ClientHelloSpec = {}): Buffer {
  const seed = spec.seed ?? 1;
  const exts: Buffer[] = [];
  if (spec.sni !== undefined) {
    const name = Buffer.from(spec.sni, 'latin1');
    exts.push(extension(0x0000, Buffer.concat([u16(name.length + 3), Buffer.from([0]), u16(name.length), name])));
  }
  exts.push(extension(0x000a, u16List(spec.groups ?? DEFAULT_GROUPS)));
  exts.push(extension(0x000b, Buffer.from([1, 0])));
  exts.push(extension(0x000d, u16List(spec.signatureAlgorithms ?? DEFAULT_SIGALGS)));
  if (spec.alpn && spec.alpn.length) {
    const list = Buffer.concat(spec.alpn.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])));
    exts.push(extension(0x0010, Buffer.concat([u16(list.length), list])));
  }
  const versions = spec.versions ?? [0x0304, 0x0303];
  if (versions.length) exts.push(extension(0x002b, Buffer.concat([Buffer.from([versions.length * 2]), ...versions.map(u16)])));
  for (const t of spec.extraExtensions ?? []) exts.push(extension(t, Buffer.alloc(0)));
  const extBytes = Buffer.concat(exts);
  const body = Buffer.concat([
    u16(0x0303),
    randomBytes(32, seed),
    Buffer.from([32]),
    randomBytes(32, seed + 1),
    u16List(spec.ciphers ?? DEFAULT_CIPHERS),
    Buffer.from([1, 0]),
    u16(extBytes.length),
    extBytes,
  ]);
  return tlsRecord(0x16, handshake(1, body), 0x0301);
}

/** A TLS 1.3 ServerHello (cipher 0x1301, supported_versions 0x0304) in one record. */
export function serverHelloRecord(seed = 2): Buffer {
  const exts = extension(0x002b, u16(0x0304));
  const body = Buffer.concat([u16(0x0303), randomBytes(32, seed), Buffer.from([32]), randomBytes(32, seed + 1), u16(0x1301), Buffer.from([0]), u16(exts.length), exts]);
  return tlsRecord(0x16, handshake(2, body));
}

/** Opaque application data (an encrypted record) of `length` bytes. */
export function applicationData(length: number, seed = 3): Buffer {
  return tlsRecord(0x17, randomBytes(length, seed));
}

/** `n` random bytes (Stratum V2 Noise messages and frames look like this). */
export function opaqueBytes(n: number, seed = 4): Buffer {
  return randomBytes(n, seed);
}
