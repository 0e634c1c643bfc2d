import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCaptureInput, readCapture } from '../src/capture/reader.js';
import { formatIp } from '../src/decode/address.js';
import { Decoder } from '../src/decode/decoder.js';
import { DecodedPacket, type DecodeStats } from '../src/decode/types.js';
import { sharedCapturesDir } from '../src/util/paths.js';

/**
 * Decoding real third-party captures (see ../shared/captures/README.md). The expected
 * numbers are facts about those files, checked once against tshark 4 with the filter
 * "(tcp or udp) and not icmp and not icmpv6" (tshark also reports the innermost header of
 * tunnelled packets); the test itself needs no tshark.
 */
const dir = sharedCapturesDir();

interface FileResult {
  packets: number;
  linkTypes: Set<number>;
  stats: DecodeStats;
  vlans: Map<number, number>;
  /** "src:port>dst:port" of every TCP packet whose payload holds `needle`. */
  matches: string[];
}

async function decodeFile(name: string, needle = '\u0000never'): Promise<FileResult> {
  const decoder = new Decoder();
  const packet = new DecodedPacket();
  const result: FileResult = { packets: 0, linkTypes: new Set(), stats: decoder.stats, vlans: new Map(), matches: [] };
  await readCapture(openCaptureInput(join(dir!, name)), (pkt) => {
    result.packets++;
    result.linkTypes.add(pkt.linkType);
    if (!decoder.decode(pkt.linkType, pkt.buf, pkt.offset, pkt.length, pkt.tsMicros, packet)) return;
    result.vlans.set(packet.vlanId, (result.vlans.get(packet.vlanId) ?? 0) + 1);
    const payload = packet.buf.toString('latin1', packet.payloadOffset, packet.payloadOffset + packet.payloadLength);
    if (packet.protocol === 6 && payload.includes(needle)) {
      const version = packet.ipVersion as 4 | 6;
      result.matches.push(`${formatIp(version, packet.src)}:${packet.srcPort}>${formatIp(version, packet.dst)}:${packet.dstPort}`);
    }
  });
  return result;
}

describe.runIf(dir !== null)('decoding shared real-world captures', () => {
  it.each([
    ['benign/nats.pcap', 0, 27],
    ['benign/bets.pcapng', 101, 33],
    ['benign/rtsp.pcap', 113, 568],
    ['benign/http2.pcapng', 113, 10],
    ['benign/someip_sd_sample.pcap', 192, 6],
    ['benign/443-firefox.pcap', 1, 667],
  ])('%s (link type %i): every one of %i packets is TCP or UDP', async (name, linkType, count) => {
    const result = await decodeFile(name);
    expect([...result.linkTypes]).toEqual([linkType]);
    expect(result.packets).toBe(count);
    expect(result.stats).toMatchObject({ decoded: count, malformed: 0, nonIp: 0, unknownLinkType: 0 });
  });

  it('benign/mongodb.pcap: 802.1Q VLAN ids', async () => {
    const result = await decodeFile('benign/mongodb.pcap');
    expect(result.stats.decoded).toBe(27);
    expect(Object.fromEntries(result.vlans)).toEqual({ 50: 7, 100: 8, 300: 12 });
  });

  it('benign/ja3_lots_of_cipher_suites.pcap: QinQ keeps the outer VLAN id', async () => {
    const result = await decodeFile('benign/ja3_lots_of_cipher_suites.pcap');
    expect(result.stats.decoded).toBe(11);
    expect(Object.fromEntries(result.vlans)).toEqual({ 93: 11 });
  });

  it('benign/zoom.pcap: GTP-U behind QinQ is decapsulated', async () => {
    const result = await decodeFile('benign/zoom.pcap');
    expect(result.packets).toBe(781);
    expect(result.stats).toMatchObject({ decoded: 775, nonIp: 3, otherTransport: 3, malformed: 0, tunnelled: 81 });
    expect(result.vlans.get(3394)).toBe(81);
  });

  it('benign/teams.pcap: non-IP frames and other transports are counted, not decoded', async () => {
    const result = await decodeFile('benign/teams.pcap');
    expect(result.packets).toBe(1540);
    expect(result.stats).toMatchObject({ decoded: 1496, nonIp: 42, otherTransport: 2, malformed: 0 });
  });

  it('mining/mining.pcapng: finds the Stratum subscribe packets with their endpoints', async () => {
    const result = await decodeFile('mining/mining.pcapng', 'mining.subscribe');
    expect(result.stats.decoded).toBe(673);
    expect(result.matches).toEqual(['192.168.2.148:46838>94.23.199.191:3333', '192.168.2.148:53846>116.211.167.195:3333']);
  });

  it('mining/cgminer.s0.pcapng: every TCP/UDP packet decodes, ICMP is set aside', async () => {
    const result = await decodeFile('mining/cgminer.s0.pcapng');
    expect(result.packets).toBe(855);
    expect(result.stats).toMatchObject({ decoded: 823, otherTransport: 32, malformed: 0 });
  });
});
