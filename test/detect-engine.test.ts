/**
 * Engine behaviour that the capture-level tests cannot pin down in time: held findings of a
 * quiet confirmed flow are released by tick() (live sensors), and once a flow is confirmed
 * every JSON line reaches the observers, also replies without "method"/"result"; a DNS
 * screen verdict handed down with the datagram is used instead of screening again.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonMessage, MessageObserver } from '../src/detect/dialect.js';
import { SCREEN_MAYBE_POOL, SCREEN_NO_POOL } from '../src/detect/dns-screen.js';
import { DetectionEngine } from '../src/detect/engine.js';
import type { Evidence } from '../src/detect/types.js';
import { DATAGRAM_DELIVER, DATAGRAM_SKIP, Flow } from '../src/flow/types.js';
import { loadSignatureDir } from '../src/signatures/signature-set.js';
import { dnsQuery } from '../src/synth/dns.js';
import { PROJECT_ROOT } from '../src/util/paths.js';

const T0 = 1_780_000_000_000_000;

function flow(): Flow {
  const f = new Flow(1, 4, 6, ['192.0.2.10', '203.0.113.5'], [49152, 3333], T0);
  f.sawSyn = true;
  return f;
}

function feed(engine: DetectionEngine, f: Flow, dir: 0 | 1, text: string, ts: number): void {
  const b = Buffer.from(text);
  engine.onData(f, dir, b, 0, b.length, ts);
}

describe('DetectionEngine', () => {
  it('tick() releases the held evidence of a confirmed flow that went quiet', () => {
    const out: Evidence[] = [];
    const engine = new DetectionEngine((e) => out.push(e));
    const f = flow();
    feed(engine, f, 0, '{"id":1,"method":"mining.subscribe","params":["cgminer/4.11.1"]}\n', T0 + 1000);
    expect(out).toHaveLength(0); // held until the flow settles
    engine.tick(T0 + 2_000_000);
    expect(out).toHaveLength(0);
    engine.tick(T0 + 6_000_000);
    expect(out.map((e) => [e.kind, e.minerIp, e.poolPort, e.agent])).toEqual([['mining.subscribe', '192.0.2.10', 3333, 'cgminer/4.11.1']]);
  });

  it('a confirmed flow hands every JSON line to the observers, including bare-id replies', () => {
    const seen: JsonMessage[] = [];
    const observer: MessageObserver = { onMessage: (_f, msg) => seen.push(msg), onFlowEnd: () => {} };
    const engine = new DetectionEngine(() => {}, {}, [observer]);
    const f = flow();
    feed(engine, f, 0, '{"id":1,"method":"login","params":{"login":"x","pass":"x","agent":"XMRig/6.21.0"}}\n', T0);
    feed(engine, f, 1, '{"id":2,"jsonrpc":"2.0","error":{"code":-1,"message":"Low difficulty share"}}\n{"id":40}\n', T0 + 10);
    expect(seen.map((m) => m.id)).toEqual([1, 2, 40]);
    expect(seen[1]!.error).toEqual({ code: -1, message: 'Low difficulty share' });
  });

  it('an unconfirmed flow never parses lines without a gate key', () => {
    const seen: JsonMessage[] = [];
    const observer: MessageObserver = { onMessage: (_f, msg) => seen.push(msg), onFlowEnd: () => {} };
    const engine = new DetectionEngine(() => {}, {}, [observer]);
    const f = flow();
    feed(engine, f, 0, '{"level":"info","msg":"a log line"}\n{"id":40}\n', T0);
    expect(engine.stats.messagesParsed).toBe(0);
    expect(seen).toHaveLength(0);
  });
});

describe('DNS screen verdict from upstream', () => {
  // A parallel replay's reader screens each DNS datagram once and the verdict rides in the
  // ring record (DecodedPacket.dnsScreen); the shard's engine then does not read it again.
  const set = loadSignatureDir(join(PROJECT_ROOT, 'signatures')).set!;
  const query = dnsQuery(7, 'pool.supportxmr.com');

  it('screens the datagram itself when no verdict came with it', () => {
    const engine = new DetectionEngine(() => {}, {}, [], set);
    expect(engine.screenDatagram(49152, 53, query, 0, query.length, -1)).toBe(DATAGRAM_DELIVER);
  });

  it("takes the reader's verdict as given, and counts a no-pool message as its own screen would", () => {
    const engine = new DetectionEngine(() => {}, {}, [], set);
    expect(engine.screenDatagram(49152, 53, query, 0, query.length, SCREEN_NO_POOL)).toBe(DATAGRAM_SKIP);
    expect(engine.stats.dnsMessages).toBe(1);
    const other = dnsQuery(8, 'www.example.com');
    expect(engine.screenDatagram(49152, 53, other, 0, other.length, SCREEN_MAYBE_POOL)).toBe(DATAGRAM_DELIVER);
    expect(engine.screenDatagram(49152, 53, other, 0, other.length, -1)).toBe(DATAGRAM_SKIP);
  });
});

describe('HTTP split before its first token ends', () => {
  it('a request whose first segment is "PO" is still read as HTTP', () => {
    const out: Evidence[] = [];
    const engine = new DetectionEngine((e) => out.push(e));
    const f = flow();
    const body = '{"method": "getwork", "params": [], "id": 0}';
    const head = `POST / HTTP/1.1\r\nHost: pool.example\r\nX-Mining-Extensions: midstate\r\nContent-Length: ${body.length}\r\n\r\n`;
    feed(engine, f, 0, 'PO', T0);
    feed(engine, f, 0, head.slice(2) + body, T0 + 10);
    engine.onFlowEnd(f, 'fin');
    expect(out.map((e) => e.kind)).toEqual(expect.arrayContaining(['http.x-mining-extensions', 'getwork']));
  });

  it('a short first segment that is not a token prefix switches the direction off', () => {
    const engine = new DetectionEngine(() => {});
    const f = flow();
    feed(engine, f, 0, 'PX', T0);
    feed(engine, f, 1, 'EHLO', T0 + 5);
    expect(f.inspect).toBe(false);
  });
});
