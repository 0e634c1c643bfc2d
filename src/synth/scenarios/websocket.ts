/**
 * Scripted WebSocket conversations (RFC 6455, plain ws): browser miners (Coinhive-style,
 * webminerpool), CryptoNote JSON-RPC tunnelled through a ws proxy, and a benign chat that
 * must give no hit. Each opens with a real Upgrade handshake (Sec-WebSocket-Accept computed
 * from the key), masks every client frame with its own random key, fragments a message
 * into continuation frames with a ping between them, and cuts frames at awkward segment
 * boundaries (inside a header, inside the masking key, across two frames). Our own
 * illustrations of the message shapes in the protocol reference §9.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { randomUint32, seededRandom } from '../rng.js';
import type { Turn } from '../tcp-session.js';
import type { BenignScenario } from './benign.js';
import { hex, MONERO_WALLET, type Scenario } from './mining.js';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** RFC 6455 §1.3: the GUID the server appends to the client's key before hashing. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value a server answers `key` with. */
export function webSocketAccept(key: string): string {
  return createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
}

export interface FrameOptions {
  /** Default true: the last (or only) frame of its message. */
  fin?: boolean;
  /** Sets RSV1: a permessage-deflate compressed message (first frame only). */
  rsv1?: boolean;
  /** 4-byte masking key (client frames); none for server frames. */
  mask?: Buffer;
}

/** One frame: header (7-, 16- or 64-bit length as the payload needs), key, payload (masked). */
export function wsFrame(opcode: number, payload: Buffer | string, o: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const n = data.length;
  const lengthBytes = n < 126 ? 0 : n <= 0xffff ? 2 : 8;
  const keyBytes = o.mask ? 4 : 0;
  const out = Buffer.alloc(2 + lengthBytes + keyBytes + n);
  out[0] = ((o.fin ?? true) ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | (opcode & 0x0f);
  out[1] = (o.mask ? 0x80 : 0) | (lengthBytes === 0 ? n : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) out.writeUInt16BE(n, 2);
  else if (lengthBytes === 8) out.writeBigUInt64BE(BigInt(n), 2);
  const at = 2 + lengthBytes + keyBytes;
  if (o.mask) {
    o.mask.copy(out, 2 + lengthBytes, 0, 4);
    for (let i = 0; i < n; i++) out[at + i] = data[i]! ^ o.mask[i & 3]!;
  } else data.copy(out, at);
  return out;
}

/**
 * Builds one side-by-side WebSocket conversation as TCP turns: client frames get a fresh
 * random masking key each (seeded, so the bytes are reproducible).
 */
export class WsScript {
  readonly turns: Turn[] = [];
  private readonly rand: () => number;

  constructor(seed: number) {
    this.rand = seededRandom(seed);
  }

  private randomBytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4) b.writeUInt32BE(randomUint32(this.rand), i);
    return b;
  }

  /** A masked client frame. */
  c(opcode: number, payload: Buffer | string | object, o: Omit<FrameOptions, 'mask'> = {}): Buffer {
    return wsFrame(opcode, payloadOf(payload), { ...o, mask: this.randomBytes(4) });
  }

  /** An unmasked server frame. */
  s(opcode: number, payload: Buffer | string | object, o: Omit<FrameOptions, 'mask'> = {}): Buffer {
    return wsFrame(opcode, payloadOf(payload), o);
  }

  /**
   * The opening handshake: the client's GET and the server's 101 with the accept value
   * computed from a random key. `serverFrames` follow the 101 head in the same segment.
   */
  handshake(host: string, path: string, extraHeaders: string[] = [], serverFrames: Buffer[] = []): this {
    const key = this.randomBytes(16).toString('base64');
    const request = [
      `GET ${path} HTTP/1.1`,
      `Host: ${host}`,
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      'Upgrade: websocket',
      'Connection: keep-alive, Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
      `Origin: http://${host}`,
      ...extraHeaders,
    ];
    const response = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${webSocketAccept(key)}`];
    const extension = extraHeaders.find((h) => h.toLowerCase().startsWith('sec-websocket-extensions:'));
    if (extension) response.push(extension);
    this.turns.push({ from: 'client', data: `${request.join('\r\n')}\r\n\r\n` });
    this.turns.push({ from: 'server', data: Buffer.concat([Buffer.from(`${response.join('\r\n')}\r\n\r\n`, 'latin1'), ...serverFrames]) });
    return this;
  }

  /** Frames sent back to back by one side, cut into separate segments at `cuts` (offsets into their bytes). */
  send(from: 'client' | 'server', frames: Buffer[], cuts: number[] = []): this {
    const bytes = Buffer.concat(frames);
    const points = [...new Set([0, bytes.length, ...cuts.filter((x) => x > 0 && x < bytes.length)])].sort((a, b) => a - b);
    for (let i = 1; i < points.length; i++) {
      this.turns.push({ from, data: bytes.subarray(points[i - 1], points[i]), gapMicros: i === 1 ? undefined : 150 });
    }
    return this;
  }

  /** A text message cut into `pieces` frames (first + continuations), a ping after the first. */
  fragmented(side: 'client' | 'server', text: string, pieces: number): Buffer[] {
    const data = Buffer.from(text, 'utf8');
    const step = Math.ceil(data.length / pieces);
    const frame = side === 'client' ? this.c.bind(this) : this.s.bind(this);
    const frames: Buffer[] = [];
    for (let i = 0, at = 0; at < data.length; i++, at += step) {
      frames.push(frame(i === 0 ? OP_TEXT : OP_CONTINUATION, data.subarray(at, at + step), { fin: at + step >= data.length }));
      if (i === 0) frames.push(frame(OP_PING, 'keepalive'));
    }
    return frames;
  }

  /** Both sides close (status 1000). */
  close(): this {
    const normal = Buffer.from([0x03, 0xe8]);
    return this.send('client', [this.c(OP_CLOSE, normal)]).send('server', [this.s(OP_CLOSE, normal)]);
  }
}

function payloadOf(p: Buffer | string | object): Buffer | string {
  return Buffer.isBuffer(p) || typeof p === 'string' ? p : JSON.stringify(p);
}

const TEXT = OP_TEXT;

/** Offsets that cut a masked client frame of a 16-bit length inside its header and key. */
const HEADER_CUTS = [1, 3, 6, 9];

function coinhiveSession(): Turn[] {
  const w = new WsScript(101);
  const siteKey = 'k7Qh2Vd9pXyLmN4tR8sW1zB6cF3gJ5aE';
  const jobId = '5614619b3c1e';
  w.handshake('ws.miner.example', '/proxy2');
  // The auth frame cut after its first byte and inside its masking key.
  w.send('client', [w.c(TEXT, { type: 'auth', params: { site_key: siteKey, type: 'anonymous', user: 'visitor-3187', goal: 0 } })], [1, 4]);
  w.send('server', [w.s(TEXT, { type: 'authed', params: { token: '', hashes: 0 } })]);
  // The job in three unmasked fragments with a ping between them, split across segments.
  w.send('server', w.fragmented('server', JSON.stringify({ type: 'job', params: { job_id: jobId, blob: hex(152, 60), target: 'b88d0600' } }), 3), [5, 77, 140]);
  w.send('client', [w.c(OP_PONG, 'keepalive')]);
  // Submit and a second message in one burst, cut across the frame boundary and the next header.
  const submit = w.c(TEXT, { type: 'submit', params: { job_id: jobId, nonce: '5a894b02', result: hex(64, 61) } });
  const keepalive = w.c(OP_PING, '');
  w.send('client', [submit, keepalive], [...HEADER_CUTS, submit.length - 3, submit.length + 1]);
  w.send('server', [w.s(OP_PONG, ''), w.s(TEXT, { type: 'hash_accepted', params: { hashes: 256 } })], [3]);
  return w.close().turns;
}

function webminerpoolSession(): Turn[] {
  const w = new WsScript(202);
  const jobId = '371629847362857';
  w.handshake('webminer.example', '/');
  w.send('client', [w.c(TEXT, { identifier: 'handshake', pool: 'xmr.pool.example', login: `${MONERO_WALLET}.webrig3`, password: 'x', userid: '', version: 7 })], HEADER_CUTS);
  w.send('server', [w.s(TEXT, { identifier: 'job', job_id: jobId, algo: 'cn/r', variant: 'r', height: 1834217, blob: hex(152, 62), target: 'b88d0600' })], [2, 4]);
  w.send('server', [w.s(OP_PING, 'p')]);
  w.send('client', [w.c(OP_PONG, 'p')], [2]);
  // The solution fragmented into two masked frames with a client ping between them.
  w.send('client', w.fragmented('client', JSON.stringify({ identifier: 'solved', job_id: jobId, nonce: '0b10c2f7', result: hex(64, 63) }), 2), [7, 30, 31, 60]);
  w.send('server', [w.s(TEXT, { identifier: 'hashsolved' })]);
  return w.close().turns;
}

function tunnelledCryptonoteSession(): Turn[] {
  const w = new WsScript(303);
  const sessionId = 'e799836b25e38747';
  w.handshake('ws-proxy.example', '/xmrig', ['Sec-WebSocket-Protocol: stratum']);
  w.send(
    'client',
    [w.c(TEXT, { id: 1, jsonrpc: '2.0', method: 'login', params: { login: MONERO_WALLET, pass: 'x', agent: 'XMRig/6.26.0 (Linux x86_64) libuv/1.48.0 gcc/13.2.1', rigid: 'wsrig5', algo: ['rx/0', 'cn/r'] } })],
    HEADER_CUTS,
  );
  // Two JSON-RPC lines in one text message: the login result and a job push.
  const reply = JSON.stringify({
    id: 1,
    jsonrpc: '2.0',
    error: null,
    result: { id: sessionId, job: { blob: hex(152, 64), job_id: '5614619b', target: 'b88d0600', algo: 'rx/0', height: 3311250, seed_hash: hex(64, 65) }, extensions: ['algo', 'keepalive'], status: 'OK' },
  });
  const push = JSON.stringify({ jsonrpc: '2.0', method: 'job', params: { blob: hex(152, 66), job_id: 'a0518c3d', target: 'b88d0600', algo: 'rx/0', height: 3311251, seed_hash: hex(64, 65) } });
  w.send('server', [w.s(TEXT, `${reply}\n${push}\n`)], [1, 2, 3, 300]);
  w.send('client', w.fragmented('client', JSON.stringify({ id: 2, jsonrpc: '2.0', method: 'submit', params: { id: sessionId, job_id: 'a0518c3d', nonce: '5a894b02', result: hex(64, 67), algo: 'rx/0' } }), 3), [2, 8, 50, 51]);
  w.send('server', [w.s(OP_PONG, 'keepalive'), w.s(TEXT, { id: 2, jsonrpc: '2.0', error: null, result: { status: 'OK' } })]);
  w.send('client', [w.c(TEXT, { id: 3, jsonrpc: '2.0', method: 'keepalived', params: { id: sessionId } })]);
  w.send('server', [w.s(TEXT, { id: 3, jsonrpc: '2.0', error: null, result: { status: 'KEEPALIVED' } })]);
  return w.close().turns;
}

export const WEBSOCKET_SCENARIOS: readonly Scenario[] = [
  {
    name: 'ws-coinhive',
    description: 'Coinhive-style browser miner over plain ws: auth with site_key, authed, fragmented job, submit, hash_accepted',
    serverPort: 80,
    turns: coinhiveSession(),
    expect: { dialect: 'coinhive-ws', kinds: ['auth', 'authed', 'job', 'submit', 'hash_accepted'], login: 'k7Qh2Vd9pXyLmN4tR8sW1zB6cF3gJ5aE', worker: 'visitor-3187' },
  },
  {
    name: 'ws-webminerpool',
    description: 'webminerpool on 8181: handshake with pool and login, job, fragmented solved, hashsolved',
    serverPort: 8181,
    turns: webminerpoolSession(),
    expect: {
      dialect: 'webminerpool',
      kinds: ['handshake', 'job', 'solved', 'hashsolved'],
      login: `${MONERO_WALLET}.webrig3`,
      wallet: MONERO_WALLET,
      worker: 'webrig3',
      poolHost: 'xmr.pool.example',
      algo: 'cn/r',
    },
  },
  {
    name: 'ws-cryptonote-tunnel',
    description: 'XMRig-style CryptoNote JSON-RPC through a ws proxy: login, two lines in one message, fragmented submit, keepalived',
    serverPort: 8080,
    turns: tunnelledCryptonoteSession(),
    expect: {
      dialect: 'cryptonote',
      kinds: ['login', 'login.result', 'job', 'submit', 'keepalived'],
      agent: 'XMRig/6.26.0 (Linux x86_64) libuv/1.48.0 gcc/13.2.1',
      wallet: MONERO_WALLET,
      worker: 'wsrig5',
      algo: 'rx/0',
    },
  },
];

function chatSession(): Turn[] {
  const w = new WsScript(404);
  const say = (user: string, text: string): object => ({ type: 'message', params: { room: 'lobby', user, text, ts: 1_780_000_000 } });
  // The server greets in the segment that carries its 101.
  w.handshake('chat.example', '/chat', ['Sec-WebSocket-Protocol: chat', 'Sec-WebSocket-Extensions: permessage-deflate'], [w.s(TEXT, { type: 'welcome', params: { user: 'alice', motd: 'be nice' } })]);
  // Words a miner also uses, without a miner's shapes: auth without a site key, a job posting.
  w.send('client', [w.c(TEXT, { type: 'auth', params: { token: hex(32, 70), user: 'alice' } })], [1, 4]);
  w.send('server', [w.s(TEXT, { type: 'authed', params: { token: '', hashes: 0 } })]);
  w.send('client', [w.c(TEXT, say('alice', 'hello websocket'))]);
  w.send('server', [w.s(TEXT, `${JSON.stringify(say('bob', 'hi'))}\n${JSON.stringify(say('carol', 'commit 5a894b02 fixed it'))}`)]);
  w.send('client', w.fragmented('client', JSON.stringify({ type: 'job', params: { job_id: 'posting-17', title: 'Night shift', target: 'warehouse' } }), 2), [3]);
  w.send('server', [w.s(OP_PONG, 'keepalive')]);
  w.send('client', [w.c(OP_BINARY, Buffer.from(hex(400, 71), 'hex'))], [2]);
  w.send('server', [w.s(TEXT, deflateRawSync(Buffer.from(JSON.stringify(say('bob', 'compressed hello')))), { rsv1: true })]);
  w.send('client', [w.c(TEXT, { type: 'submit', params: { form: 'feedback', nonce: '5a894b02', text: 'great chat' } })]);
  return w.close().turns;
}

export const WEBSOCKET_BENIGN: readonly BenignScenario[] = [
  {
    name: 'ws-chat',
    description: 'a JSON chat over plain ws ("type":"message", auth with a token, a job posting, binary and compressed frames)',
    serverPort: 8080,
    turns: chatSession(),
  },
];

export function webSocketScenario(name: string): Scenario {
  const found = WEBSOCKET_SCENARIOS.find((sc) => sc.name === name);
  if (!found) throw new Error(`no websocket scenario named ${name}`);
  return found;
}
