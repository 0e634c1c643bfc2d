/**
 * The flood capture: millions of distinct one-packet flows (a SYN flood from spoofed
 * sources and random UDP), with the mining sessions of every dialect planted inside it.
 * A sensor must stay within its flow table, count what it evicts, and still report the
 * miners. Flows are enumerated rather than drawn at random, so every one is distinct.
 */
import { links } from '../link.js';
import { tcpPacket, udpPacket, TCP_SYN, type Endpoint } from '../packets.js';
import { randomInt, randomUint32, seededRandom } from '../rng.js';
import { SessionMerger } from '../session-merger.js';
import { tcpSession } from '../tcp-session.js';
import { PcapFileWriter } from '../writer.js';
import { filler } from './everyday.js';
import { MINING_SCENARIOS } from './mining.js';
import type { GeneratedCapture, PlantedMiner } from './traffic-mix.js';

/** 2026-06-02T00:00:00Z. */
const FLOOD_T0 = 1_780_358_400_000_000;
/** Capture time between flood packets: one million packets per second. */
const FLOOD_SPACING_MICROS = 1;
const VICTIM_IP = '203.0.113.80';
const FLOWS_PER_ADDRESS = 60_000;

/**
 * Flow n of the flood: even n a SYN, odd n a UDP datagram, every fourth round over IPv6.
 * Source address and port enumerate n within a block; the block moves the destination
 * port, so no two flows share a 5-tuple.
 */
function floodPacket(rand: () => number, n: number): Buffer {
  const host = n % 250;
  const round = Math.floor(n / 250);
  const block = Math.floor(round / FLOWS_PER_ADDRESS);
  const port = 1024 + (round % FLOWS_PER_ADDRESS);
  const v6 = round % 4 === 3;
  const source: Endpoint = v6 ? { ip: `2001:db8:f::${(host + 1).toString(16)}`, port } : { ip: `198.51.100.${host + 1}`, port };
  if (n % 2 === 0) {
    const victim = { ip: v6 ? '2001:db8:5::80' : VICTIM_IP, port: 80 + block };
    return tcpPacket(source, victim, { seq: randomUint32(rand), ack: 0, flags: TCP_SYN, window: 1024 });
  }
  const target: Endpoint = {
    ip: v6 ? `2001:db8:5::${randomInt(rand, 1, 0xffff).toString(16)}` : `203.0.113.${randomInt(rand, 1, 199)}`,
    port: 10_000 + block,
  };
  return udpPacket(source, target, filler(rand, randomInt(rand, 16, 96)));
}

/** Miner k of the flood: 192.0.2.(101 + k) to pool 203.0.113.(150 + k). */
export function floodMiner(k: number): PlantedMiner {
  const sc = MINING_SCENARIOS[k % MINING_SCENARIOS.length]!;
  return { miner: `192.0.2.${101 + k}`, pool: `203.0.113.${150 + k}`, poolPort: sc.serverPort, dialect: sc.expect.dialect, scenario: sc.name };
}

/** Writes `flows` flood flows with one mining session per dialect spread through them. */
export async function writeFlood(path: string, o: { seed: number; flows: number }): Promise<GeneratedCapture> {
  const rand = seededRandom(o.seed);
  const writer = await PcapFileWriter.open(path, { linkType: links.ethernet().linkType });
  const merger = new SessionMerger(writer, links.ethernet());
  const miners = MINING_SCENARIOS.map((_, k) => floodMiner(k));
  const plantEvery = Math.max(1, Math.floor(o.flows / (miners.length + 1)));
  let planted = 0;
  try {
    for (let n = 0; n < o.flows; n++) {
      const ts = FLOOD_T0 + n * FLOOD_SPACING_MICROS;
      if (planted < miners.length && n === (planted + 1) * plantEvery) {
        const m = miners[planted]!;
        const sc = MINING_SCENARIOS[planted]!;
        merger.add(
          tcpSession({ client: { ip: m.miner, port: 40_000 + planted }, server: { ip: m.pool, port: sc.serverPort }, startMicros: ts, turns: sc.turns, seed: o.seed + planted }),
        );
        planted++;
      }
      merger.add([{ tsMicros: ts, ip: floodPacket(rand, n) }]);
      await merger.writeBefore(ts + 1);
    }
    // Sessions planted near the end finish after the flood.
    for (; planted < miners.length; planted++) {
      const sc = MINING_SCENARIOS[planted]!;
      const m = miners[planted]!;
      const ts = FLOOD_T0 + o.flows * FLOOD_SPACING_MICROS + planted * 1000;
      merger.add(tcpSession({ client: { ip: m.miner, port: 40_000 + planted }, server: { ip: m.pool, port: sc.serverPort }, startMicros: ts, turns: sc.turns, seed: o.seed + planted }));
    }
    await merger.drain();
  } finally {
    await writer.close();
  }
  return { path, seed: o.seed, bytes: 24 + merger.bytesWritten, packets: merger.packetsWritten, sessions: o.flows + miners.length, miners };
}
