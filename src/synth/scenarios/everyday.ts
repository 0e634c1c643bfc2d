/**
 * Everyday traffic for the benchmark capture: the bulk of what a mirror port carries
 * (downloads, TLS, QUIC-like UDP, DNS, web pages and JSON APIs, short connections).
 * Payload shapes are plausible enough that a DPI engine classifies them and our detectors
 * must look at them, but their bodies are filler. Every builder is a pure function of its
 * random source, so the capture is reproducible.
 */
import { tcpPacket, udpPacket, TCP_ACK, TCP_RST, TCP_SYN, type Endpoint } from '../packets.js';
import { randomInt, randomUint32, seededRandom } from '../rng.js';
import { tcpSession, type TimedPacket, type Turn } from '../tcp-session.js';

export type Random = () => number;

const FILLER_BYTES = 1 << 20;
/** Shared filler (fixed seed): bodies are views or tiled copies, so building them is cheap. */
const FILLER: Buffer = (() => {
  const rand = seededRandom(0x5eed);
  const buf = Buffer.allocUnsafe(FILLER_BYTES);
  for (let i = 0; i < FILLER_BYTES; i += 4) buf.writeUInt32LE(randomUint32(rand), i);
  return buf;
})();

/** `length` filler bytes starting at a random place (tiled beyond 1 MiB). */
export function filler(rand: Random, length: number): Buffer {
  const start = randomInt(rand, 0, FILLER_BYTES - 1);
  if (start + length <= FILLER_BYTES) return FILLER.subarray(start, start + length);
  const out = Buffer.allocUnsafe(length);
  for (let pos = 0; pos < length; ) {
    const from = pos === 0 ? start : 0;
    const n = Math.min(FILLER_BYTES - from, length - pos);
    FILLER.copy(out, pos, from, from + n);
    pos += n;
  }
  return out;
}

/** Log-uniform integer in [min, max]: many small values, a long tail of large ones. */
export function logUniform(rand: Random, min: number, max: number): number {
  return Math.round(min * Math.pow(max / min, rand()));
}

const pick = <T>(rand: Random, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

const HOSTS = ['www.example.com', 'cdn.example.net', 'api.example.org', 'static.example.com', 'media.example.net'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'curl/8.5.0',
  'okhttp/4.12.0',
];

function httpRequest(rand: Random, path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${pick(rand, HOSTS)}\r\nUser-Agent: ${pick(rand, AGENTS)}\r\nAccept: */*\r\nAccept-Encoding: gzip, br\r\nConnection: keep-alive\r\n\r\n`;
}

function httpResponse(contentType: string, body: Buffer): Buffer {
  const head = `HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nCache-Control: max-age=3600\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** A JSON API document: objects with "id"/"name"/"price" fields, no "method" or "result". */
function jsonDocument(rand: Random, approxBytes: number): Buffer {
  const items: string[] = [];
  let size = 2;
  for (let i = 0; size < approxBytes; i++) {
    const item = `{"id":${randomInt(rand, 1, 1e6)},"name":"item-${i}","price":${randomInt(rand, 1, 99999) / 100},"tags":["a","b"]}`;
    items.push(item);
    size += item.length + 1;
  }
  return Buffer.from(`[${items.join(',')}]`, 'latin1');
}

interface Pair {
  client: Endpoint;
  server: Endpoint;
}

const session = (rand: Random, p: Pair, start: number, turns: Turn[], mss = 1448): TimedPacket[] =>
  tcpSession({ ...p, startMicros: start, turns, seed: randomUint32(rand), mss, rttMicros: randomInt(rand, 200, 4000) });

/** An HTTP download of `size` bytes. */
export function bulkHttp(rand: Random, p: Pair, start: number, size: number): TimedPacket[] {
  const body = filler(rand, size);
  return session(rand, p, start, [
    { from: 'client', data: httpRequest(rand, `/files/${randomUint32(rand).toString(16)}.bin`) },
    { from: 'server', data: httpResponse('application/octet-stream', body) },
  ]);
}

/** TLS 1.2-style record: type, version, length, body. */
function tlsRecord(type: number, body: Buffer): Buffer {
  const head = Buffer.from([type, 0x03, 0x03, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([head, body]);
}

/** A ClientHello with an SNI extension, so DPI engines see real TLS. */
function clientHello(rand: Random, host: string): Buffer {
  const name = Buffer.from(host, 'latin1');
  const sni = Buffer.alloc(9 + name.length);
  sni.writeUInt16BE(0x0000, 0); // extension: server_name
  sni.writeUInt16BE(5 + name.length, 2);
  sni.writeUInt16BE(3 + name.length, 4);
  sni[6] = 0; // host_name
  sni.writeUInt16BE(name.length, 7);
  name.copy(sni, 9);
  const ciphers = Buffer.from([0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f]);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    filler(rand, 32), // random
    Buffer.from([32]),
    filler(rand, 32), // session id
    ciphers,
    Buffer.from([0x01, 0x00]), // compression: null
    Buffer.from([sni.length >> 8, sni.length & 0xff]),
    sni,
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0, body.length >> 8, body.length & 0xff]), body]);
  const record = tlsRecord(0x16, handshake);
  record[2] = 0x01; // ClientHello records say TLS 1.0 on the wire
  return record;
}

/** TLS application data in records of up to 16 KiB. */
function tlsApplicationData(rand: Random, total: number): Buffer {
  const records: Buffer[] = [];
  for (let left = total; left > 0; ) {
    const n = Math.min(left, 16_384);
    records.push(tlsRecord(0x17, filler(rand, n)));
    left -= n;
  }
  return Buffer.concat(records);
}

/** A TLS connection: handshake, then `downBytes` of application data (and a little up). */
export function tls(rand: Random, p: Pair, start: number, downBytes: number): TimedPacket[] {
  const serverHandshake = Buffer.concat([tlsRecord(0x16, filler(rand, randomInt(rand, 2500, 4500))), tlsRecord(0x14, Buffer.from([1]))]);
  return session(rand, p, start, [
    { from: 'client', data: clientHello(rand, pick(rand, HOSTS)) },
    { from: 'server', data: serverHandshake },
    { from: 'client', data: Buffer.concat([tlsRecord(0x14, Buffer.from([1])), tlsApplicationData(rand, randomInt(rand, 200, 900))]) },
    { from: 'server', data: tlsApplicationData(rand, downBytes) },
  ]);
}

/** Web browsing: one to four requests on a keep-alive connection; a fifth are JSON APIs,
 *  whose bodies the detectors must parse and reject. */
export function web(rand: Random, p: Pair, start: number): TimedPacket[] {
  const turns: Turn[] = [];
  const json = rand() < 0.2;
  const exchanges = randomInt(rand, 1, 4);
  for (let i = 0; i < exchanges; i++) {
    turns.push({ from: 'client', data: httpRequest(rand, json ? `/api/v2/items?page=${i}` : `/page/${i}.html`), gapMicros: randomInt(rand, 500, 50_000) });
    const size = logUniform(rand, 500, 60_000);
    turns.push({ from: 'server', data: json ? httpResponse('application/json', jsonDocument(rand, size)) : httpResponse('text/html', filler(rand, size)) });
  }
  return session(rand, p, start, turns);
}

const BANNERS: readonly (readonly [number, string, string])[] = [
  [22, 'SSH-2.0-OpenSSH_9.6p1\r\n', 'SSH-2.0-OpenSSH_9.2\r\n'],
  [25, 'EHLO client.example\r\n', '220 mail.example.com ESMTP ready\r\n'],
  [110, 'USER alice\r\n', '+OK POP3 server ready\r\n'],
  [6379, '*1\r\n$4\r\nPING\r\n', '+PONG\r\n'],
  [80, 'HEAD / HTTP/1.1\r\nHost: www.example.com\r\n\r\n', 'HTTP/1.1 304 Not Modified\r\n\r\n'],
];

/** A short connection: a banner or two and a close, or a SYN refused with a reset. */
export function shortConnection(rand: Random, p: Pair, start: number): TimedPacket[] {
  if (rand() < 0.25) {
    const isn = randomUint32(rand);
    const server = { ...p.server, port: randomInt(rand, 1, 1023) };
    return [
      { tsMicros: start, ip: tcpPacket(p.client, server, { seq: isn, ack: 0, flags: TCP_SYN }) },
      { tsMicros: start + randomInt(rand, 100, 3000), ip: tcpPacket(server, p.client, { seq: 0, ack: (isn + 1) >>> 0, flags: TCP_RST | TCP_ACK }) },
    ];
  }
  const [port, request, reply] = pick(rand, BANNERS);
  return session(rand, { client: p.client, server: { ...p.server, port } }, start, [
    { from: 'server', data: reply },
    { from: 'client', data: `${request}${filler(rand, randomInt(rand, 0, 600)).toString('latin1')}` },
    { from: 'server', data: filler(rand, randomInt(rand, 20, 1200)) },
  ]);
}

function dnsName(name: string): Buffer {
  const parts = name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** A DNS A/AAAA lookup and its answer. */
export function dns(rand: Random, p: Pair, start: number): TimedPacket[] {
  const id = randomInt(rand, 0, 0xffff);
  const aaaa = rand() < 0.3;
  const question = Buffer.concat([dnsName(`h${randomInt(rand, 1, 99999)}.${pick(rand, HOSTS)}`), Buffer.from([0, aaaa ? 28 : 1, 0, 1])]);
  const header = (flags: number, answers: number) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    h.writeUInt16BE(flags, 2);
    h.writeUInt16BE(1, 4);
    h.writeUInt16BE(answers, 6);
    return h;
  };
  const answers = randomInt(rand, 1, 4);
  const records: Buffer[] = [];
  for (let i = 0; i < answers; i++) {
    const rr = Buffer.alloc(12 + (aaaa ? 16 : 4));
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(aaaa ? 28 : 1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(300, 6);
    rr.writeUInt16BE(aaaa ? 16 : 4, 10);
    if (aaaa) Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, randomInt(rand, 1, 255)]).copy(rr, 12);
    else Buffer.from([203, 0, 113, randomInt(rand, 1, 199)]).copy(rr, 12);
    records.push(rr);
  }
  const server = { ...p.server, port: 53 };
  return [
    { tsMicros: start, ip: udpPacket(p.client, server, Buffer.concat([header(0x0100, 0), question])) },
    { tsMicros: start + randomInt(rand, 300, 30_000), ip: udpPacket(server, p.client, Buffer.concat([header(0x8180, answers), question, ...records])) },
  ];
}

/** QUIC-looking UDP on 443: long-header handshake packets, then short-header data one way
 *  and small acknowledgements the other. Encrypted payloads are filler. */
export function quicLike(rand: Random, p: Pair, start: number): TimedPacket[] {
  const server = { ...p.server, port: 443 };
  const dcid = filler(rand, 8);
  const scid = filler(rand, 8);
  const longHeader = (type: number, size: number) =>
    Buffer.concat([Buffer.from([0xc0 | (type << 4) | 0x03, 0, 0, 0, 1, 8]), dcid, Buffer.from([8]), scid, Buffer.from([0]), filler(rand, size)]);
  const shortHeader = (size: number) => Buffer.concat([Buffer.from([0x40 | randomInt(rand, 0, 0x3f)]), dcid, filler(rand, size)]);
  const packets: TimedPacket[] = [];
  let ts = start;
  const send = (up: boolean, payload: Buffer, gap: number) => {
    ts += gap;
    packets.push({ tsMicros: ts, ip: up ? udpPacket(p.client, server, payload) : udpPacket(server, p.client, payload) });
  };
  send(true, longHeader(0, 1162), 0);
  send(false, longHeader(0, 1150), randomInt(rand, 300, 20_000));
  send(false, longHeader(2, 1150), 20);
  send(true, longHeader(2, 60), 200);
  const count = logUniform(rand, 20, 900);
  for (let i = 0; i < count; i++) {
    send(false, shortHeader(randomInt(rand, 1150, 1330)), randomInt(rand, 5, 40));
    if (i % 4 === 3) send(true, shortHeader(randomInt(rand, 20, 50)), 10);
  }
  return packets;
}
