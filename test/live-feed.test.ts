/**
 * The live feed's WebSocket server on loopback: token checks at the upgrade, the client
 * limit, message shapes and size bounds, and a clean close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Evidence } from '../src/detect/types.js';
import { hitMessage, ipMessage, MAX_MESSAGE_BYTES } from '../src/feed/messages.js';
import { FeedServer } from '../src/feed/server.js';
import { tokenMatches } from '../src/feed/token.js';
import type { IpSummary } from '../src/store/types.js';

const TOKEN = 'feed-test-token-0123456789';

const HIT: Evidence = {
  tsMicros: 1_780_000_000_123_456,
  minerIp: '192.0.2.10',
  minerPort: 49152,
  poolIp: '203.0.113.5',
  poolPort: 3333,
  transport: 'tcp',
  dialect: 'stratum',
  kind: 'mining.submit',
  confidence: 'high',
  detector: 'stratum',
  source: 'if:eth1',
  worker: 'rig1',
};

let servers: FeedServer[] = [];
let sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  sockets = [];
});

async function feed(token: string | null, maxClients = 4): Promise<FeedServer> {
  const server = await FeedServer.start({ listen: { host: '127.0.0.1', port: 0 }, token, maxClients, interfaceName: 'eth1' });
  servers.push(server);
  return server;
}

/** Connects; resolves with the first message, or rejects with the refusal status. */
function connect(port: number, opts: { header?: string; query?: string } = {}): Promise<{ ws: WebSocket; first: Record<string, unknown> }> {
  const url = `ws://127.0.0.1:${port}/${opts.query !== undefined ? `?token=${encodeURIComponent(opts.query)}` : ''}`;
  const ws = new WebSocket(url, opts.header !== undefined ? { headers: { authorization: `Bearer ${opts.header}` } } : {});
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve({ ws, first: JSON.parse(data.toString()) as Record<string, unknown> }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>)));
}

describe('live feed', () => {
  it('accepts the token as a Bearer header or ?token=, and pushes hits', async () => {
    const server = await feed(TOKEN);
    const a = await connect(server.port, { header: TOKEN });
    const b = await connect(server.port, { query: TOKEN });
    expect(a.first).toEqual({ type: 'hello', interface: 'eth1', version: 1 });
    expect(b.first.type).toBe('hello');
    const [ma, mb] = [nextMessage(a.ws), nextMessage(b.ws)];
    server.broadcast(hitMessage(HIT));
    for (const m of await Promise.all([ma, mb])) {
      expect(m).toMatchObject({ type: 'hit', ts: '2026-05-28T20:26:40.123456Z', miner_ip: '192.0.2.10', pool_port: 3333, worker: 'rig1', kind: 'mining.submit' });
    }
    expect(server.stats.sent).toBe(2);
  });

  it('refuses a missing or wrong token with 401', async () => {
    const server = await feed(TOKEN);
    await expect(connect(server.port)).rejects.toThrow('refused 401');
    await expect(connect(server.port, { header: 'wrong-token-wrong-token' })).rejects.toThrow('refused 401');
    await expect(connect(server.port, { query: `${TOKEN}x` })).rejects.toThrow('refused 401');
    expect(server.stats.refused).toBe(3);
    expect(server.clientCount).toBe(0);
  });

  it('without a token it serves loopback only', async () => {
    const server = await feed(null);
    expect((await connect(server.port)).first.type).toBe('hello');
    await expect(FeedServer.start({ listen: { host: '0.0.0.0', port: 0 }, token: null, maxClients: 1, interfaceName: 'eth1' })).rejects.toThrow(/needs a token/);
  });

  it('bounds the client count and incoming messages', async () => {
    const server = await feed(TOKEN, 2);
    const first = await connect(server.port, { header: TOKEN });
    await connect(server.port, { header: TOKEN });
    await expect(connect(server.port, { header: TOKEN })).rejects.toThrow('refused 503');
    // Clients only listen: a large message closes the connection (1009, message too big).
    const closed = new Promise<number>((resolve) => first.ws.once('close', (code) => resolve(code)));
    first.ws.send('x'.repeat(64 * 1024));
    expect(await closed).toBe(1009);
  });

  it('closes its clients when it stops', async () => {
    const server = await feed(TOKEN);
    const { ws } = await connect(server.port, { header: TOKEN });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await server.close();
    servers = [];
    expect(await closed).toBe(1001);
  });

  it('keeps messages under the size bound', () => {
    const long = 'w'.repeat(10_000);
    const hit = JSON.parse(hitMessage({ ...HIT, agent: long, login: long, detail: long })) as Record<string, string>;
    expect(hit.agent!.length).toBe(256);
    const many = Array.from({ length: 256 }, (_, i) => `${i}`.padEnd(1000, 'p'));
    const summary: IpSummary = { ip: '192.0.2.10', role: 'miner', firstSeen: 'a', lastSeen: 'b', hits: 3, dialects: ['stratum'], peers: many, identities: many, agents: many };
    const text = ipMessage(summary)!;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(JSON.parse(text)).toMatchObject({ type: 'ip', ip: '192.0.2.10', role: 'miner', hits: 3, dialects: ['stratum'], truncated: true });
    expect(JSON.parse(ipMessage({ ...summary, peers: ['203.0.113.5:3333'], identities: [], agents: [] })!).truncated).toBeUndefined();
  });

  it('compares tokens exactly', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(`${TOKEN} `, TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
    expect(tokenMatches(null, TOKEN)).toBe(false);
  });
});
