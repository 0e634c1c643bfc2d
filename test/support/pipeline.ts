/**
 * Test harness: scripted conversations → real capture bytes (synth) → the real reader,
 * decoder, flow table and detectors (Sensor) → a real SQLite file (HitStore) → rows back.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readCapture } from '../../src/capture/reader.js';
import type { ReaderStats } from '../../src/capture/types.js';
import { SessionTracker } from '../../src/detect/session-tracker.js';
import { Sensor } from '../../src/sensor.js';
import type { SignatureSource } from '../../src/signatures/reloadable.js';
import { payloadOnlySignatures, type SignatureSet } from '../../src/signatures/signature-set.js';
import { HitStore } from '../../src/store/hit-store.js';
import type { SessionRow } from '../../src/store/session-store.js';
import type { HitRow, IpSummary } from '../../src/store/types.js';
import { links, type Link } from '../../src/synth/link.js';
import type { Endpoint } from '../../src/synth/packets.js';
import { mergeByTime, tcpSession, type SessionOptions, type TimedPacket, type Turn } from '../../src/synth/tcp-session.js';
import { frame, pcapBytes } from '../../src/synth/writer.js';
import { scratchDir } from './scratch.js';

export const MINER: Endpoint = { ip: '192.0.2.10', port: 49152 };
export const POOL_IP = '203.0.113.5';

export function tempDb(name = 'test'): string {
  return join(scratchDir('minewatch-'), `${name}.db`);
}

export interface ConversationSpec {
  turns: Turn[];
  serverPort: number;
  client?: Endpoint;
  serverIp?: string;
  startMicros?: number;
  session?: Partial<SessionOptions>;
}

export function conversation(spec: ConversationSpec): TimedPacket[] {
  return tcpSession({
    client: spec.client ?? MINER,
    server: { ip: spec.serverIp ?? POOL_IP, port: spec.serverPort },
    startMicros: spec.startMicros ?? 1_780_000_000_000_000,
    turns: spec.turns,
    ...spec.session,
  });
}

/** Classic pcap bytes of one or more conversations on the given link (Ethernet by default). */
export function captureOf(packets: TimedPacket[][], link: Link = links.ethernet()): Buffer {
  return pcapBytes(frame(mergeByTime(...packets), link), { linkType: link.linkType });
}

export interface ReplayResult {
  stats: ReaderStats;
  sensor: Sensor;
  hits: HitRow[];
  ips: IpSummary[];
  /** Mining sessions stored (one per confirmed flow), oldest first. */
  sessions: SessionRow[];
  dbPath: string;
}

/**
 * Runs capture bytes through the real pipeline into a SQLite file and reads it back. The
 * payload detectors alone unless `signatures` is given (e.g. shippedSignatures()).
 */
export async function replayBytes(
  bytes: Buffer,
  dbPath = tempDb(),
  source = 'test.pcap',
  signatures: SignatureSource | SignatureSet = payloadOnlySignatures(),
): Promise<ReplayResult> {
  const store = HitStore.open(dbPath);
  const tracker = new SessionTracker((session) => store.sessions.add(session));
  const sensor = new Sensor(tracker.evidenceSink((e) => store.add(e)), { observers: [tracker], signatures });
  sensor.setSource(source);
  const stats = await readCapture(Readable.from([bytes]), sensor.handlePacket);
  sensor.finish();
  store.flush();
  store.close();
  const reader = HitStore.open(dbPath, { readonly: true });
  const ips = reader.listIps({ role: 'any' });
  const sessions = reader.sessions.list();
  const hits = [...new Set(ips.map((s) => s.ip))].flatMap((ip) => reader.evidenceFor(ip, 10_000));
  reader.close();
  // evidenceFor returns a hit once per IP it names (miner and pool): dedupe by id.
  const unique = [...new Map(hits.map((h) => [h.id, h])).values()].sort((a, b) => a.tsMicros - b.tsMicros || a.id - b.id);
  return { stats, sensor, hits: unique, ips, sessions, dbPath };
}
