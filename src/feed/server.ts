/**
 * The live hit feed: a WebSocket server that pushes every new hit and every per-IP update
 * to its clients. Clients only listen; what they send is ignored (and bounded).
 *
 * Safety: a token is checked at the upgrade (401 without the right one); without a
 * configured token the server listens on loopback only (checked in config and here).
 * Client count, incoming message size, raw connections and each client's send backlog
 * are bounded; a client that stops answering pings or reading is dropped.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { isLoopback, type ListenAddress } from '../live/config.js';
import { helloMessage } from './messages.js';
import { presentedToken, tokenMatches } from './token.js';

export interface FeedOptions {
  listen: ListenAddress;
  token: string | null;
  maxClients: number;
  interfaceName: string;
  /** Bytes queued for one client before it is dropped as too slow. */
  maxBacklogBytes?: number;
  pingIntervalMs?: number;
  onEvent?: (event: FeedEvent) => void;
}

export type FeedEvent =
  | { kind: 'listening'; address: string; port: number }
  | { kind: 'connected'; remote: string; clients: number }
  | { kind: 'refused'; remote: string; reason: 'token' | 'full' }
  | { kind: 'dropped'; remote: string; reason: 'slow' | 'unresponsive' };

export interface FeedStats {
  clients: number;
  sent: number;
  refused: number;
  dropped: number;
}

const MAX_INCOMING_BYTES = 1024;
const DEFAULT_MAX_BACKLOG = 4 * 1024 * 1024;
const DEFAULT_PING_MS = 30_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export class FeedServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly alive = new WeakSet<WebSocket>();
  private pingTimer: NodeJS.Timeout | null = null;
  readonly stats: FeedStats = { clients: 0, sent: 0, refused: 0, dropped: 0 };

  private constructor(private readonly opts: FeedOptions) {
    if (opts.token === null && !isLoopback(opts.listen.host)) {
      throw new Error(`the live feed needs a token to listen on ${opts.listen.host}`);
    }
    this.http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('minewatch live feed: connect with a WebSocket client\n');
    });
    // Upgrades that never complete must not pile up; honest clients take far less than this.
    this.http.requestTimeout = HANDSHAKE_TIMEOUT_MS;
    this.http.headersTimeout = HANDSHAKE_TIMEOUT_MS;
    this.http.maxConnections = opts.maxClients * 2 + 8;
    this.wss = new WebSocketServer({
      server: this.http,
      maxPayload: MAX_INCOMING_BYTES,
      perMessageDeflate: false,
      clientTracking: true,
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
        const remote = remoteOf(info.req);
        if (opts.token !== null && !tokenMatches(presentedToken(info.req), opts.token)) {
          this.refuse(remote, 'token');
          done(false, 401, 'Unauthorized');
        } else if (this.wss.clients.size >= opts.maxClients) {
          this.refuse(remote, 'full');
          done(false, 503, 'Too many clients');
        } else {
          done(true);
        }
      },
    });
    this.wss.on('connection', (ws, req) => this.accept(ws, req));
  }

  /** Starts listening; rejects when the address cannot be bound. */
  static async start(opts: FeedOptions): Promise<FeedServer> {
    const feed = new FeedServer(opts);
    await new Promise<void>((resolve, reject) => {
      feed.http.once('error', reject);
      feed.http.listen(opts.listen.port, opts.listen.host, () => {
        feed.http.off('error', reject);
        resolve();
      });
    });
    const addr = feed.http.address() as AddressInfo;
    feed.pingTimer = setInterval(() => feed.heartbeat(), opts.pingIntervalMs ?? DEFAULT_PING_MS);
    feed.pingTimer.unref();
    opts.onEvent?.({ kind: 'listening', address: addr.address, port: addr.port });
    return feed;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  /** Sends one prepared message to every client. */
  broadcast(message: string | null): void {
    if (message === null || this.wss.clients.size === 0) return;
    const limit = this.opts.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG;
    for (const ws of this.wss.clients) {
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > limit) {
        this.drop(ws, 'slow');
        continue;
      }
      ws.send(message);
      this.stats.sent++;
    }
  }

  async close(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const ws of this.wss.clients) ws.close(1001, 'sensor stopping');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    // Clients that do not finish the closing handshake are cut off.
    for (const ws of this.wss.clients) ws.terminate();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const remote = remoteOf(req);
    // verifyClient can race with other upgrades; the count is checked again here.
    if (this.wss.clients.size > this.opts.maxClients) {
      this.refuse(remote, 'full');
      ws.close(1013, 'Too many clients');
      return;
    }
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.stats.clients = this.wss.clients.size;
    });
    ws.send(helloMessage(this.opts.interfaceName));
    this.stats.clients = this.wss.clients.size;
    this.opts.onEvent?.({ kind: 'connected', remote, clients: this.wss.clients.size });
  }

  private heartbeat(): void {
    for (const ws of this.wss.clients) {
      if (!this.alive.has(ws)) {
        this.drop(ws, 'unresponsive');
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }

  private drop(ws: WebSocket, reason: 'slow' | 'unresponsive'): void {
    this.stats.dropped++;
    ws.terminate();
    this.opts.onEvent?.({ kind: 'dropped', remote: 'client', reason });
  }

  private refuse(remote: string, reason: 'token' | 'full'): void {
    this.stats.refused++;
    this.opts.onEvent?.({ kind: 'refused', remote, reason });
  }
}

function remoteOf(req: IncomingMessage): string {
  const s = req.socket;
  return s.remoteAddress ? `${s.remoteAddress}:${s.remotePort ?? 0}` : 'unknown';
}
