/**
 * The benchmark capture: a seeded mix of everyday traffic of about `sizeBytes`, streamed to
 * a classic pcap file, with mining sessions of every dialect planted at even intervals
 * from known miner IPs. The same seed and size always give the same bytes.
 */
import { links } from '../link.js';
import type { Endpoint } from '../packets.js';
import { randomInt, seededRandom } from '../rng.js';
import { SessionMerger } from '../session-merger.js';
import { tcpSession, type TimedPacket } from '../tcp-session.js';
import { PcapFileWriter } from '../writer.js';
import { BENIGN_SCENARIOS } from './benign.js';
import { bulkHttp, dns, logUniform, quicLike, shortConnection, tls, web, type Random } from './everyday.js';
import { MINING_SCENARIOS } from './mining.js';

export interface PlantedMiner {
  miner: string;
  pool: string;
  poolPort: number;
  dialect: string;
  scenario: string;
}

export interface GeneratedCapture {
  path: string;
  seed: number;
  bytes: number;
  packets: number;
  sessions: number;
  miners: PlantedMiner[];
}

/** Capture time of the first packet: 2026-06-01T00:00:00Z. */
export const MIX_T0 = 1_780_272_000_000_000;
/** Average wire rate the session start times are spaced for (bytes per µs = 1 Gbit/s). */
const BYTES_PER_MICRO = 125;
const PCAP_HEADER_BYTES = 24;

/** Builds one session; `room` is the byte budget left, which caps downloads near the end. */
type Builder = (rand: Random, pair: { client: Endpoint; server: Endpoint }, start: number, room: number) => TimedPacket[];

/** Log-uniform download size in [min, max], kept within the room left (but at least min). */
const downloadSize = (rand: Random, min: number, max: number, room: number): number => logUniform(rand, min, Math.max(min, Math.min(max, room)));

/**
 * Session kinds with their chance per started session, chosen for a byte mix of about 40 %
 * plain downloads, 35 % TLS downloads, 12 % QUIC-like UDP, 6 % web pages and JSON APIs,
 * 3.5 % short TLS, 2.5 % short connections and 1 % DNS: about 830 bytes per packet, and
 * two thirds of all flows are DNS lookups or short connections.
 */
const KINDS: readonly { name: string; weight: number; port: number; build: Builder }[] = [
  { name: 'bulk-http', weight: 43, port: 80, build: (r, p, t, room) => bulkHttp(r, p, t, downloadSize(r, 256 * 1024, 8 * 1024 * 1024, room)) },
  { name: 'bulk-tls', weight: 95, port: 443, build: (r, p, t, room) => tls(r, p, t, downloadSize(r, 128 * 1024, 4 * 1024 * 1024, room)) },
  { name: 'quic', weight: 158, port: 443, build: quicLike },
  { name: 'web', weight: 660, port: 80, build: web },
  { name: 'tls', weight: 1140, port: 443, build: (r, p, t) => tls(r, p, t, logUniform(r, 1000, 20_000)) },
  { name: 'short', weight: 6600, port: 0, build: shortConnection },
  { name: 'dns', weight: 16200, port: 53, build: dns },
  { name: 'look-alike', weight: 200, port: 0, build: lookAlike },
];
const TOTAL_WEIGHT = KINDS.reduce((n, k) => n + k.weight, 0);

/** JSON-RPC and crypto P2P that must not be reported (benign.ts). */
function lookAlike(rand: Random, pair: { client: Endpoint; server: Endpoint }, start: number): TimedPacket[] {
  const sc = BENIGN_SCENARIOS[Math.floor(rand() * BENIGN_SCENARIOS.length)]!;
  return tcpSession({ client: pair.client, server: { ...pair.server, port: sc.serverPort }, startMicros: start, turns: sc.turns, seed: randomInt(rand, 1, 1e9) });
}

/** Benign clients and servers: 198.51.100.0/24 and 203.0.113.1-199, a sixth over IPv6. */
function benignPair(rand: Random, serverPort: number): { client: Endpoint; server: Endpoint } {
  const port = randomInt(rand, 1024, 65535);
  if (rand() < 1 / 6) {
    return {
      client: { ip: `2001:db8:c::${randomInt(rand, 1, 0xffff).toString(16)}`, port },
      server: { ip: `2001:db8:5::${randomInt(rand, 1, 0xff).toString(16)}`, port: serverPort },
    };
  }
  return { client: { ip: `198.51.100.${randomInt(rand, 1, 254)}`, port }, server: { ip: `203.0.113.${randomInt(rand, 1, 199)}`, port: serverPort } };
}

/** How many miners to plant: one per 8 MB, at least one per dialect, at most 200. */
export function plantedMinerCount(sizeBytes: number): number {
  return Math.max(MINING_SCENARIOS.length, Math.min(200, Math.round(sizeBytes / 8e6)));
}

/** Miner k: 192.0.2.(k+1), every eighth over IPv6; pools 203.0.113.200-249 / 2001:db8:6f::/48. */
export function plantedMiner(k: number): PlantedMiner {
  const sc = MINING_SCENARIOS[k % MINING_SCENARIOS.length]!;
  const v6 = k % 8 === 7;
  return {
    miner: v6 ? `2001:db8:6d::${(k + 1).toString(16)}` : `192.0.2.${k + 1}`,
    pool: v6 ? `2001:db8:6f::${((k % 50) + 1).toString(16)}` : `203.0.113.${200 + (k % 50)}`,
    poolPort: sc.serverPort,
    dialect: sc.expect.dialect,
    scenario: sc.name,
  };
}

function miningSession(rand: Random, k: number, start: number): TimedPacket[] {
  const planted = plantedMiner(k);
  const sc = MINING_SCENARIOS[k % MINING_SCENARIOS.length]!;
  return tcpSession({
    client: { ip: planted.miner, port: randomInt(rand, 1024, 65535) },
    server: { ip: planted.pool, port: sc.serverPort },
    startMicros: start,
    turns: sc.turns,
    seed: randomInt(rand, 1, 1e9),
    // Some sessions in awkward segments, as real miners' small writes and busy links give.
    randomSegments: k % 3 === 1,
    mss: k % 3 === 1 ? 120 : 1448,
  });
}

/** Writes the mixed capture to `path` (classic pcap, Ethernet, µs). */
export async function writeTrafficMix(path: string, o: { seed: number; sizeBytes: number }): Promise<GeneratedCapture> {
  const rand = seededRandom(o.seed);
  const writer = await PcapFileWriter.open(path, { linkType: links.ethernet().linkType });
  const merger = new SessionMerger(writer, links.ethernet());
  const minerCount = plantedMinerCount(o.sizeBytes);
  const budget = o.sizeBytes - PCAP_HEADER_BYTES;
  let scheduled = 0;
  let clock = MIX_T0;
  let sessions = 0;
  let planted = 0;
  try {
    while (scheduled < budget || planted < minerCount) {
      let packets: TimedPacket[];
      // Miners go in at even fractions of the file, the last one before the end.
      if (planted < minerCount && scheduled >= (planted * budget) / minerCount) {
        packets = miningSession(rand, planted++, clock);
      } else {
        const kind = pickKind(rand);
        packets = kind.build(rand, benignPair(rand, kind.port), clock, budget - scheduled);
      }
      let bytes = 0;
      for (const p of packets) bytes += 16 + 14 + p.ip.length;
      scheduled += bytes;
      sessions++;
      merger.add(packets);
      // Sessions start in time order, so everything before this start is final.
      await merger.writeBefore(clock);
      clock += Math.max(1, Math.round((-Math.log(1 - rand()) * bytes) / BYTES_PER_MICRO));
    }
    await merger.drain();
  } finally {
    await writer.close();
  }
  return {
    path,
    seed: o.seed,
    bytes: PCAP_HEADER_BYTES + merger.bytesWritten,
    packets: merger.packetsWritten,
    sessions,
    miners: Array.from({ length: minerCount }, (_, k) => plantedMiner(k)),
  };
}

function pickKind(rand: Random): (typeof KINDS)[number] {
  let r = rand() * TOTAL_WEIGHT;
  for (const kind of KINDS) {
    r -= kind.weight;
    if (r < 0) return kind;
  }
  return KINDS[KINDS.length - 1]!;
}
