/**
 * The small captures the project ships in captures/, built deterministically from the
 * scenarios so `npm run captures` reproduces them byte for byte. Each file's expectations
 * (miner IP → pool endpoint, dialect) travel with it for the tests and the README.
 */
import { links, type Link } from '../link.js';
import type { Endpoint } from '../packets.js';
import { mergeByTime, tcpSession, type SessionOptions, type TimedPacket } from '../tcp-session.js';
import { frame, pcapBytes, pcapngBytes, type FramedPacket } from '../writer.js';
import { BENIGN_SCENARIOS } from './benign.js';
import { MINING_SCENARIOS, scenarioByName, type Scenario } from './mining.js';
import { WEBSOCKET_BENIGN, WEBSOCKET_SCENARIOS } from './websocket.js';

const ALL_MINING = [...MINING_SCENARIOS, ...WEBSOCKET_SCENARIOS];
const ALL_BENIGN = [...BENIGN_SCENARIOS, ...WEBSOCKET_BENIGN];

export interface ExpectedMiner {
  miner: string;
  pool: string;
  poolPort: number;
  dialect: string;
}

export interface BundledCapture {
  file: string;
  description: string;
  bytes: Buffer;
  miners: ExpectedMiner[];
}

const T0 = 1_780_000_000_000_000; // 2026-05-28, capture time of the bundled files

function session(sc: Scenario, client: Endpoint, serverIp: string, start: number, extra: Partial<SessionOptions> = {}): TimedPacket[] {
  return tcpSession({ client, server: { ip: serverIp, port: sc.serverPort }, startMicros: start, turns: sc.turns, seed: start % 1000, ...extra });
}

/** Every dialect, one miner each (192.0.2.11…), pools in 203.0.113.0/24; pcapng, Ethernet. */
function miningMix(): BundledCapture {
  const sessions: TimedPacket[][] = [];
  const miners: ExpectedMiner[] = [];
  ALL_MINING.forEach((sc, i) => {
    const miner = `192.0.2.${11 + i}`;
    const pool = `203.0.113.${11 + i}`;
    sessions.push(session(sc, { ip: miner, port: 40000 + i }, pool, T0 + i * 2_000_000, { randomSegments: i % 3 === 0, mss: 200 }));
    miners.push({ miner, pool, poolPort: sc.serverPort, dialect: sc.expect.dialect });
  });
  // Benign neighbours on the same capture: none of them may show up.
  ALL_BENIGN.forEach((sc, i) => {
    sessions.push(
      tcpSession({ client: { ip: `198.51.100.${11 + i}`, port: 41000 + i }, server: { ip: `198.51.100.${111 + i}`, port: sc.serverPort }, startMicros: T0 + i * 1_500_000, turns: sc.turns }),
    );
  });
  const packets = frame(mergeByTime(...sessions), links.ethernet());
  return {
    file: 'mining-mix.pcapng',
    description: `one session per mining dialect (${ALL_MINING.length}) beside ${ALL_BENIGN.length} benign look-alikes; pcapng, Ethernet, µs`,
    bytes: pcapngBytes(packets, { interfaces: [{ linkType: links.ethernet().linkType, name: 'eth0' }] }),
    miners,
  };
}

/** The same Stratum session under every encapsulation, one pcapng interface per link. */
function encapsulations(): BundledCapture {
  const sc = scenarioByName('stratum-v1-btc');
  const variants: [string, Link][] = [
    ['vlan', links.ethernet({ vlans: [100] })],
    ['qinq', links.ethernet({ vlans: [200, 300], qinq: true })],
    ['sll2', links.sll2()],
    ['raw', links.rawIp()],
    ['erspan2', links.greEthernetErspan2('198.51.100.1', '198.51.100.2')],
    ['erspan3', links.erspan3('198.51.100.1', '198.51.100.2')],
    ['vxlan', links.vxlan('198.51.100.1', '198.51.100.2')],
    ['gtpu', links.gtpu('198.51.100.1', '198.51.100.2')],
    ['mpls', links.mpls([16, 17])],
  ];
  const framed: FramedPacket[] = [];
  const miners: ExpectedMiner[] = [];
  variants.forEach(([, link], i) => {
    const miner = `192.0.2.${101 + i}`;
    const pool = `203.0.113.${101 + i}`;
    const packets = session(sc, { ip: miner, port: 50000 + i }, pool, T0 + i * 1_000_000);
    for (const p of frame(packets, link)) framed.push({ ...p, interfaceId: i });
    miners.push({ miner, pool, poolPort: sc.serverPort, dialect: 'stratum' });
  });
  // IPv6 on its own interface.
  const v6 = session(sc, { ip: '2001:db8::77', port: 50077 }, '2001:db8:1::77', T0 + 20_000_000);
  for (const p of frame(v6, links.ethernet())) framed.push({ ...p, interfaceId: variants.length });
  miners.push({ miner: '2001:db8::77', pool: '2001:db8:1::77', poolPort: sc.serverPort, dialect: 'stratum' });
  framed.sort((a, b) => a.tsMicros - b.tsMicros);
  const interfaces = [...variants.map(([name, link]) => ({ linkType: link.linkType, name, tsresolNanos: true })), { linkType: 1, name: 'v6' }];
  return {
    file: 'encapsulations.pcapng',
    description: 'Stratum V1 under 802.1Q, QinQ, SLL2, raw IP, ERSPAN II/III, VXLAN, GTP-U, MPLS and IPv6; one interface per link type, ns timestamps',
    bytes: pcapngBytes(framed, { interfaces }),
    miners,
  };
}

/** Hard TCP: tiny random segments, retransmissions, reordering, and a mid-stream pickup. */
function awkwardTcp(): BundledCapture {
  const xmr = scenarioByName('cryptonote-xmrig');
  const es1 = scenarioByName('ethstratum1');
  const a = session(xmr, { ip: '192.0.2.201', port: 51000 }, '203.0.113.201', T0, {
    randomSegments: true,
    mss: 24,
    retransmitProbability: 0.25,
    reorderProbability: 0.25,
  });
  const full = session(es1, { ip: '192.0.2.202', port: 51001 }, '203.0.113.202', T0 + 500_000);
  const midStream = full.slice(12); // no handshake, no subscribe: only later messages
  return {
    file: 'awkward-tcp.pcap',
    description: 'CryptoNote in 1-24 byte segments with retransmissions and reordering; an ES1 session picked up mid-stream; classic pcap, big-endian, ns',
    bytes: pcapBytes(frame(mergeByTime(a, midStream), links.ethernet()), { linkType: 1, nanosecond: true, bigEndian: true }),
    miners: [
      { miner: '192.0.2.201', pool: '203.0.113.201', poolPort: xmr.serverPort, dialect: 'cryptonote' },
      { miner: '192.0.2.202', pool: '203.0.113.202', poolPort: es1.serverPort, dialect: 'ethstratum1' },
    ],
  };
}

export function bundledCaptures(): BundledCapture[] {
  return [miningMix(), encapsulations(), awkwardTcp()];
}
