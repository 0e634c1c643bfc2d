/**
 * Mining over plain WebSocket: the RFC 6455 frame reader on its own (segment boundaries,
 * lengths, masking, fragments, skipped and bad frames), the Upgrade handshake, the browser
 * miner shapes, and the scripted sessions through the real pipeline into SQLite.
 */
import { describe, expect, it } from 'vitest';
import { hasBrowserMinerKey, browserMinerDetector } from '../src/detect/browser-miner.js';
import type { HttpHead, JsonMessage, MessageContext } from '../src/detect/dialect.js';
import { payloadOnlySignatures } from '../src/signatures/signature-set.js';
import { isWebSocketAccept, isWebSocketRequest, WebSocketReader, WsEvent, type WebSocketCounters } from '../src/detect/websocket.js';
import { seededRandom, randomInt } from '../src/synth/rng.js';
import { hex, MONERO_WALLET, type Scenario } from '../src/synth/scenarios/mining.js';
import {
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  webSocketAccept,
  webSocketScenario,
  WEBSOCKET_BENIGN,
  WEBSOCKET_SCENARIOS,
  wsFrame,
  WsScript,
} from '../src/synth/scenarios/websocket.js';
import { captureOf, conversation, MINER, POOL_IP, replayBytes, type ReplayResult } from './support/pipeline.js';

const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

function counters(): WebSocketCounters {
  return { wsTextMessages: 0, wsBinaryMessages: 0, wsCompressedMessages: 0, wsOversizeMessages: 0, wsViolations: 0 };
}

interface ReadOutcome {
  messages: string[];
  last: WsEvent;
  counts: WebSocketCounters;
}

/** Feeds `bytes` to a fresh reader in pieces cut at `cuts` and collects every text message. */
function readFrames(bytes: Buffer, cuts: number[] = [], maxMessageBytes = 64 * 1024): ReadOutcome {
  const counts = counters();
  const reader = new WebSocketReader(maxMessageBytes, counts);
  const points = [...new Set([0, bytes.length, ...cuts.filter((c) => c > 0 && c < bytes.length)])].sort((a, b) => a - b);
  const messages: string[] = [];
  let last = WsEvent.NeedMore;
  for (let i = 1; i < points.length; i++) {
    // Each piece in its own buffer, as segments arrive.
    const piece = Buffer.from(bytes.subarray(points[i - 1], points[i]));
    let pos = 0;
    while (pos < piece.length && !reader.done) {
      pos = reader.read(piece, pos, piece.length);
      last = reader.event;
      if (reader.event === WsEvent.Message) messages.push(reader.message.toString('utf8', reader.messageStart, reader.messageEnd));
      else if (reader.event === WsEvent.NeedMore) break;
    }
  }
  return { messages, last, counts };
}

const everyByte = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('WebSocket frame reader', () => {
  it('reads unmasked and masked text frames, whole or one byte at a time', () => {
    const frames = Buffer.concat([wsFrame(OP_TEXT, '{"a":1}'), wsFrame(OP_TEXT, '{"b":"masked"}', { mask: KEY })]);
    expect(readFrames(frames).messages).toEqual(['{"a":1}', '{"b":"masked"}']);
    const split = readFrames(frames, everyByte(frames.length));
    expect(split.messages).toEqual(['{"a":1}', '{"b":"masked"}']);
    expect(split.counts.wsTextMessages).toBe(2);
  });

  it('reads 7-bit, 16-bit and 64-bit lengths, with the header split at every byte', () => {
    for (const n of [0, 125, 126, 300, 65535, 65536, 70_000]) {
      const text = 'x'.repeat(n);
      const frame = wsFrame(OP_TEXT, text, { mask: KEY });
      expect(frame[1]! & 0x7f, `length ${n}`).toBe(n < 126 ? n : n <= 0xffff ? 126 : 127);
      const out = readFrames(frame, everyByte(16), 128 * 1024);
      expect(out.messages, `length ${n}`).toEqual([text]);
    }
  });

  it('unmasks across segment boundaries that fall inside the key and the payload', () => {
    const text = JSON.stringify({ type: 'submit', params: { nonce: '5a894b02', result: hex(64, 9) } });
    const frame = wsFrame(OP_TEXT, text, { mask: KEY });
    for (const cuts of [[1], [3], [5], [2, 4, 6], [7, 11, 50], [frame.length - 1]]) {
      expect(readFrames(frame, cuts).messages, `cuts ${cuts.join(',')}`).toEqual([text]);
    }
  });

  it('assembles continuation frames, with ping and pong between them, each with its own key', () => {
    const frames = Buffer.concat([
      wsFrame(OP_TEXT, '{"type":', { fin: false, mask: Buffer.from([1, 2, 3, 4]) }),
      wsFrame(OP_PING, 'p', { mask: Buffer.from([9, 9, 9, 9]) }),
      wsFrame(OP_CONTINUATION, '"job",', { fin: false, mask: Buffer.from([5, 6, 7, 8]) }),
      wsFrame(OP_PONG, ''),
      wsFrame(OP_CONTINUATION, '"params":{}}', { mask: Buffer.from([0xaa, 0xbb, 0xcc, 0xdd]) }),
      wsFrame(OP_TEXT, 'next'),
    ]);
    expect(readFrames(frames).messages).toEqual(['{"type":"job","params":{}}', 'next']);
    expect(readFrames(frames, everyByte(frames.length)).messages).toEqual(['{"type":"job","params":{}}', 'next']);
  });

  it('hands out an empty text message', () => {
    expect(readFrames(Buffer.concat([wsFrame(OP_TEXT, ''), wsFrame(OP_TEXT, 'x')])).messages).toEqual(['', 'x']);
  });

  it('skips and counts a text message over the cap, whole or grown by its continuations', () => {
    const frames = Buffer.concat([
      wsFrame(OP_TEXT, 'y'.repeat(200), { mask: KEY }),
      wsFrame(OP_TEXT, 'z'.repeat(60), { fin: false }),
      wsFrame(OP_CONTINUATION, 'z'.repeat(60)),
      wsFrame(OP_TEXT, 'fits'),
    ]);
    const out = readFrames(frames, [3, 100, 250], 100);
    expect(out.messages).toEqual(['fits']);
    expect(out.counts.wsOversizeMessages).toBe(2);
  });

  it('skips binary and compressed (RSV1) messages, counting them, and reads on', () => {
    const frames = Buffer.concat([
      wsFrame(OP_BINARY, Buffer.from('{"type":"auth"}'), { mask: KEY }),
      wsFrame(OP_TEXT, Buffer.from([0xf3, 0x48, 0xcd]), { rsv1: true, fin: false }),
      wsFrame(OP_CONTINUATION, Buffer.from([0xc9, 0xc9, 0x07, 0x00])),
      wsFrame(OP_BINARY, Buffer.alloc(300), { fin: false }),
      wsFrame(OP_CONTINUATION, Buffer.alloc(10)),
      wsFrame(OP_TEXT, 'plain'),
    ]);
    const out = readFrames(frames, [1, 9, 20]);
    expect(out.messages).toEqual(['plain']);
    expect(out.counts.wsBinaryMessages).toBe(2);
    expect(out.counts.wsCompressedMessages).toBe(1);
    expect(out.counts.wsViolations).toBe(0);
  });

  it('a close frame ends the direction: nothing after it is read', () => {
    const frames = Buffer.concat([wsFrame(OP_TEXT, 'before'), wsFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]), { mask: KEY }), wsFrame(OP_TEXT, 'after')]);
    const out = readFrames(frames);
    expect(out.messages).toEqual(['before']);
    expect(out.last).toBe(WsEvent.Closed);
  });

  it('a protocol violation stops the direction', () => {
    const big = Buffer.from([0x81, 0x7f, 0, 0x20, 0, 0, 0, 0, 0, 0]); // 2^53
    const topBit = Buffer.from([0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    const cases: [string, Buffer][] = [
      ['reserved opcode 3', wsFrame(0x3, 'x')],
      ['reserved control opcode 0xb', wsFrame(0xb, 'x')],
      ['RSV2 set', Buffer.from([0xa1, 0x01, 0x78])],
      ['RSV1 on a control frame', wsFrame(OP_PING, 'x', { rsv1: true })],
      ['continuation with no message open', wsFrame(OP_CONTINUATION, 'x')],
      ['a new message inside an open one', Buffer.concat([wsFrame(OP_TEXT, 'a', { fin: false }), wsFrame(OP_TEXT, 'b')])],
      ['a fragmented ping', wsFrame(OP_PING, 'x', { fin: false })],
      ['a control frame over 125 bytes', wsFrame(OP_PONG, 'x'.repeat(126))],
      ['a 64-bit length of 2^53', big],
      ['a 64-bit length with its top bit set', topBit],
    ];
    for (const [what, bad] of cases) {
      const out = readFrames(Buffer.concat([bad, wsFrame(OP_TEXT, 'after')]));
      expect(out.last, what).toBe(WsEvent.Violation);
      expect(out.messages, what).toEqual([]);
      expect(out.counts.wsViolations, what).toBe(1);
    }
    // Just below 2^53 is a legal length: the reader waits for its payload.
    const legal = readFrames(Buffer.from([0x81, 0x7f, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7b]));
    expect(legal.last).toBe(WsEvent.NeedMore);
    expect(legal.counts.wsViolations).toBe(0);
  });

  it('never throws on garbage, whatever the cuts', () => {
    const rand = seededRandom(2024);
    for (let round = 0; round < 300; round++) {
      const bytes = Buffer.alloc(randomInt(rand, 1, 600));
      for (let i = 0; i < bytes.length; i++) bytes[i] = randomInt(rand, 0, 255);
      // Half the rounds start with a plausible header so the reader gets past the first frame.
      if (round % 2 === 0) bytes[0] = 0x81;
      const cuts = Array.from({ length: randomInt(rand, 0, 8) }, () => randomInt(rand, 1, bytes.length));
      const out = readFrames(bytes, cuts, randomInt(rand, 1, 2048));
      expect([WsEvent.NeedMore, WsEvent.Message, WsEvent.Closed, WsEvent.Violation]).toContain(out.last);
      expect(out.counts.wsViolations).toBeLessThanOrEqual(1);
    }
  });
});

describe('the Upgrade handshake', () => {
  const head = (first: string, headers: Record<string, string>): HttpHead => {
    const isRequest = !first.startsWith('HTTP/');
    return {
      isRequest,
      method: isRequest ? first.split(' ')[0]! : '',
      path: isRequest ? first.split(' ')[1]! : '',
      status: isRequest ? 0 : Number(first.split(' ')[1]),
      headers: new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    };
  };

  it('knows a WebSocket request and its acceptance, case-insensitively', () => {
    expect(isWebSocketRequest(head('GET /ws HTTP/1.1', { Upgrade: 'WebSocket', Connection: 'keep-alive, Upgrade' }))).toBe(true);
    expect(isWebSocketRequest(head('GET /ws HTTP/1.1', { Upgrade: 'websocket', Connection: 'upgrade' }))).toBe(true);
    expect(isWebSocketRequest(head('GET /ws HTTP/1.1', { Upgrade: 'websocket' }))).toBe(false);
    expect(isWebSocketRequest(head('GET /ws HTTP/1.1', { Upgrade: 'h2c', Connection: 'Upgrade' }))).toBe(false);
    expect(isWebSocketRequest(head('POST /ws HTTP/1.1', { Upgrade: 'websocket', Connection: 'Upgrade' }))).toBe(false);
    expect(isWebSocketAccept(head('HTTP/1.1 101 Switching Protocols', { Upgrade: 'WEBSOCKET', Connection: 'Upgrade' }))).toBe(true);
    expect(isWebSocketAccept(head('HTTP/1.1 200 OK', { Upgrade: 'websocket' }))).toBe(false);
    expect(isWebSocketAccept(head('HTTP/1.1 101 Switching Protocols', { Upgrade: 'h2c' }))).toBe(false);
  });

  it('computes Sec-WebSocket-Accept as RFC 6455 §1.3 shows it', () => {
    expect(webSocketAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

describe('browser-miner shapes', () => {
  const ctx = (): MessageContext => ({ dir: 0, facts: {}, rules: payloadOnlySignatures().protocols });
  const msg = (obj: Record<string, unknown>): JsonMessage => ({ obj, method: undefined, id: undefined, params: obj.params, result: undefined, error: undefined, overHttp: false });

  it('needs the shapes, not just the words', () => {
    const inspect = (o: Record<string, unknown>) => browserMinerDetector.inspect(msg(o), ctx());
    expect(inspect({ type: 'auth', params: { site_key: 'k1', user: 'u' } })).toMatchObject({ dialect: 'coinhive-ws', kind: 'auth', sender: 'miner', strong: true, login: 'k1', worker: 'u' });
    expect(inspect({ type: 'auth', params: { token: 'abc' } })).toBeNull();
    expect(inspect({ type: 'job', params: { job_id: 'j', blob: 'not hex', target: 'b88d0600' } })).toBeNull();
    expect(inspect({ type: 'job', params: { job_id: 'j', blob: hex(152, 3), target: 'b88d06' } })).toBeNull();
    expect(inspect({ type: 'submit', params: { nonce: '5a894b02' } })).toBeNull();
    expect(inspect({ type: 'hash_accepted', params: { hashes: 1 } })).toMatchObject({ sender: 'pool', strong: false });
    expect(inspect({ identifier: 'handshake', login: MONERO_WALLET })).toBeNull();
    expect(inspect({ identifier: 'handshake', loginid: 'f00' })).toMatchObject({ dialect: 'webminerpool', strong: false });
    expect(inspect({ identifier: 'solved', nonce: '5a894b02', result: hex(64, 4) })).toMatchObject({ kind: 'solved', sender: 'miner', strong: true });
    expect(inspect({ identifier: 'hashsolved' })).toMatchObject({ sender: 'pool', strong: false });
    expect(inspect({ type: 'message', params: { text: 'hi' } })).toBeNull();
  });

  it('gates on the "type" and "identifier" keys only', () => {
    const gate = (s: string): boolean => hasBrowserMinerKey(Buffer.from(s), 0, s.length);
    expect(gate('{"type":"auth"}')).toBe(true);
    expect(gate('{"identifier":"job"}')).toBe(true);
    expect(gate('{"types":1,"ident":2,"typ":"x"}')).toBe(false);
    expect(gate('{"a":"type"')).toBe(true); // a value may pass the gate; the detectors decide
    expect(gate('"typ')).toBe(false);
  });
});

function expectWsScenario(r: ReplayResult, sc: Scenario, poolPort = sc.serverPort): void {
  expect(r.ips.filter((s) => s.role === 'miner').map((s) => s.ip)).toEqual([MINER.ip]);
  expect(r.ips.filter((s) => s.role === 'pool').map((s) => s.ip)).toEqual([POOL_IP]);
  expect(r.hits.length).toBeGreaterThan(0);
  for (const h of r.hits) {
    expect(h.minerIp).toBe(MINER.ip);
    expect(h.minerPort).toBe(MINER.port);
    expect(h.poolIp).toBe(POOL_IP);
    expect(h.poolPort).toBe(poolPort);
    expect(h.dialect).toBe(sc.expect.dialect);
    expect(h.confidence).toBe('high');
    expect(h.detail ?? '').toContain('over websocket');
  }
  const kinds = new Set(r.hits.map((h) => h.kind));
  for (const k of sc.expect.kinds) expect(kinds, `kind ${k}`).toContain(k);
  for (const name of ['agent', 'worker', 'login', 'wallet', 'algo', 'poolHost'] as const) {
    const want = sc.expect[name];
    if (want !== undefined) expect(r.hits.map((h) => h[name]), name).toContain(want);
  }
  expect(r.sensor.engine.stats.wsViolations).toBe(0);
}

describe('mining over WebSocket through the pipeline', () => {
  for (const sc of WEBSOCKET_SCENARIOS) {
    it(`${sc.name}: ${sc.description}`, async () => {
      const r = await replayBytes(captureOf([conversation({ turns: sc.turns, serverPort: sc.serverPort })]));
      expectWsScenario(r, sc);
      expect(r.sessions).toHaveLength(1);
      expect(r.sessions[0]!.dialect).toBe(sc.expect.dialect);
    });

    it(`${sc.name}: tiny segments cut everywhere, retransmissions and reordering`, async () => {
      // Every turn cut at odd offsets and at 17 bytes; a direction's first segment keeps 8 bytes
      // because the engine tells HTTP from the first segment's token ("HTTP/1.", "GET ").
      const splitAt = [8, 9, 10, 12, 15, 16, 21, 22, 27, 33, 34, 40];
      const packets = conversation({ turns: sc.turns, serverPort: sc.serverPort, session: { seed: 11, mss: 17, splitAt, retransmitProbability: 0.2, reorderProbability: 0.2 } });
      expectWsScenario(await replayBytes(captureOf([packets])), sc);
    });
  }

  it('the tunnelled CryptoNote session keeps its share accounting', async () => {
    const sc = webSocketScenario('ws-cryptonote-tunnel');
    const r = await replayBytes(captureOf([conversation({ turns: sc.turns, serverPort: sc.serverPort })]));
    const s = r.sessions[0]!;
    expect([s.minerIp, s.poolIp, s.poolPort]).toEqual([MINER.ip, POOL_IP, 8080]);
    expect(s.sharesSubmitted).toBe(1);
    expect(s.sharesAccepted).toBe(1);
    expect(s.worker).toBe('wsrig5');
  });

  it('reads frames that follow the Upgrade head in the same segment', async () => {
    const w = new WsScript(5);
    w.handshake('ws.example', '/', [], [w.s(OP_TEXT, { type: 'job', params: { job_id: 'j1', blob: hex(152, 80), target: 'b88d0600' } })]);
    w.send('client', [w.c(OP_TEXT, { type: 'submit', params: { job_id: 'j1', nonce: '0000a1b2', result: hex(64, 81) } })]);
    // The client pipelines its auth behind its GET.
    const [get, ...rest] = w.turns;
    const auth = w.c(OP_TEXT, { type: 'auth', params: { site_key: 'site-77', user: 'anon' } });
    const turns = [{ from: 'client' as const, data: Buffer.concat([Buffer.from(get!.data), auth]) }, ...rest];
    const r = await replayBytes(captureOf([conversation({ turns, serverPort: 8080 })]));
    expect(r.ips.filter((s) => s.role === 'miner').map((s) => s.ip)).toEqual([MINER.ip]);
    expect(new Set(r.hits.map((h) => h.kind))).toEqual(new Set(['auth', 'job', 'submit']));
    expect(r.hits.find((h) => h.kind === 'auth')?.login).toBe('site-77');
  });

  it('frames after an ordinary GET (no Upgrade) are not read', async () => {
    const w = new WsScript(6);
    const frames = [w.c(OP_TEXT, { type: 'auth', params: { site_key: 'site-77', user: 'anon' } }), w.c(OP_TEXT, { type: 'submit', params: { job_id: 'j1', nonce: '0000a1b2', result: hex(64, 81) } })];
    const turns = [
      { from: 'client' as const, data: Buffer.concat([Buffer.from('GET /ws HTTP/1.1\r\nHost: ws.example\r\n\r\n'), ...frames]) },
      { from: 'server' as const, data: Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), w.s(OP_TEXT, { type: 'job', params: { job_id: 'j1', blob: hex(152, 80), target: 'b88d0600' } })]) },
    ];
    const r = await replayBytes(captureOf([conversation({ turns, serverPort: 8080 })]));
    expect(r.ips).toEqual([]);
    expect(r.sensor.engine.stats.wsTextMessages).toBe(0);
    expect(r.sensor.engine.stats.messagesParsed).toBe(0);
  });

  it('a refused upgrade leaves the server direction unread', async () => {
    const w = new WsScript(7);
    const turns = [
      { from: 'client' as const, data: 'GET /ws HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n' },
      { from: 'server' as const, data: Buffer.concat([Buffer.from('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'), w.s(OP_TEXT, { type: 'job', params: { job_id: 'j1', blob: hex(152, 80), target: 'b88d0600' } })]) },
    ];
    const r = await replayBytes(captureOf([conversation({ turns, serverPort: 8080 })]));
    expect(r.ips).toEqual([]);
    expect(r.sensor.engine.stats.wsTextMessages).toBe(0);
  });
});

describe('benign WebSocket traffic produces no hit', () => {
  for (const sc of WEBSOCKET_BENIGN) {
    it(`${sc.name}: ${sc.description}`, async () => {
      const r = await replayBytes(captureOf([conversation({ turns: sc.turns, serverPort: sc.serverPort })]));
      expect(r.ips).toEqual([]);
      expect(r.hits).toEqual([]);
      const st = r.sensor.engine.stats;
      // The chat was read, not skipped: its messages were parsed, its binary and compressed frames counted.
      expect(st.wsTextMessages).toBeGreaterThanOrEqual(7);
      expect(st.messagesParsed).toBeGreaterThanOrEqual(8);
      expect(st.wsBinaryMessages).toBe(1);
      expect(st.wsCompressedMessages).toBe(1);
      expect(st.wsViolations).toBe(0);
      expect(st.flowsConfirmed).toBe(0);
    });
  }

  it('garbage after an Upgrade handshake gives no hit and never throws', async () => {
    const rand = seededRandom(99);
    for (let round = 0; round < 20; round++) {
      const w = new WsScript(round);
      w.handshake('ws.example', '/');
      const junk = Buffer.alloc(randomInt(rand, 1, 3000));
      for (let i = 0; i < junk.length; i++) junk[i] = randomInt(rand, 0, 255);
      junk[0] = 0x81;
      w.send(round % 2 ? 'client' : 'server', [junk], [randomInt(rand, 1, junk.length)]);
      const r = await replayBytes(captureOf([conversation({ turns: w.turns, serverPort: 8080 })]));
      expect(r.ips).toEqual([]);
    }
  });
});
