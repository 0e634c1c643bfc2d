/**
 * The benchmark's capture generators: the mixed capture is a pure function of seed and
 * size, close to the size asked for, made of documentation addresses, with its planted
 * miners found by the sensor; the flood is made of distinct flows, and a sensor with a
 * small flow table evicts (and counts) them yet still finds every planted miner.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../src/capture/reader.js';
import { formatIp } from '../src/decode/address.js';
import { Decoder } from '../src/decode/decoder.js';
import { DecodedPacket } from '../src/decode/types.js';
import { Sensor } from '../src/sensor.js';
import { writeFlood } from '../src/synth/scenarios/flood.js';
import { MINING_SCENARIOS } from '../src/synth/scenarios/mining.js';
import { plantedMiner, plantedMinerCount, writeTrafficMix } from '../src/synth/scenarios/traffic-mix.js';
import { scratchDir } from './support/scratch.js';

const dir = scratchDir('minewatch-generators-');
const sha1 = (path: string): string => createHash('sha1').update(readFileSync(path)).digest('hex');

const DOCUMENTATION = [/^192\.0\.2\.\d+$/, /^198\.51\.100\.\d+$/, /^203\.0\.113\.\d+$/, /^2001:db8:/];

describe('writeTrafficMix', () => {
  it('gives the same bytes for the same seed and size, other bytes for another seed', async () => {
    const a = await writeTrafficMix(join(dir, 'a.pcap'), { seed: 3, sizeBytes: 2e6 });
    const b = await writeTrafficMix(join(dir, 'b.pcap'), { seed: 3, sizeBytes: 2e6 });
    const c = await writeTrafficMix(join(dir, 'c.pcap'), { seed: 4, sizeBytes: 2e6 });
    expect(sha1(a.path)).toBe(sha1(b.path));
    expect(sha1(c.path)).not.toBe(sha1(a.path));
    expect(a).toEqual({ ...b, path: a.path });
  });

  it('comes close to the size asked for, and mixes protocols over documentation addresses', async () => {
    const mix = await writeTrafficMix(join(dir, 'mix.pcap'), { seed: 1, sizeBytes: 5e6 });
    expect(mix.bytes).toBeGreaterThan(5e6 * 0.97);
    expect(mix.bytes).toBeLessThan(5e6 * 1.1);
    const decoder = new Decoder();
    const out = new DecodedPacket();
    const seen = { tcp: 0, udp: 0, v6: 0, dns: 0, quic: 0, https: 0 };
    const addresses = new Set<string>();
    await readCaptureFile(mix.path, (pkt) => {
      if (!decoder.decodePacket(pkt, out)) return;
      if (out.protocol === 6) seen.tcp++;
      if (out.protocol === 17) seen.udp++;
      if (out.ipVersion === 6) seen.v6++;
      if (out.protocol === 17 && (out.srcPort === 53 || out.dstPort === 53)) seen.dns++;
      if (out.protocol === 17 && (out.srcPort === 443 || out.dstPort === 443)) seen.quic++;
      if (out.protocol === 6 && (out.srcPort === 443 || out.dstPort === 443)) seen.https++;
      addresses.add(formatIp(out.ipVersion as 4 | 6, out.src));
    });
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(50);
    for (const ip of addresses) expect(DOCUMENTATION.some((re) => re.test(ip))).toBe(true);
    expect(decoder.stats.decoded).toBe(mix.packets);
  });

  it('plants one miner per 8 MB, at least one of every dialect, at most 200', () => {
    expect(plantedMinerCount(1e6)).toBe(MINING_SCENARIOS.length);
    expect(plantedMinerCount(400e6)).toBe(50);
    expect(plantedMinerCount(40e9)).toBe(200);
    const miners = Array.from({ length: 200 }, (_, k) => plantedMiner(k));
    expect(new Set(miners.map((m) => m.miner)).size).toBe(200);
    for (const m of miners) for (const ip of [m.miner, m.pool]) expect(DOCUMENTATION.some((re) => re.test(ip))).toBe(true);
  });

  it('its planted miners are exactly the miner IPs the sensor reports', async () => {
    const mix = await writeTrafficMix(join(dir, 'detect.pcap'), { seed: 11, sizeBytes: 4e6 });
    const sensor = new Sensor(() => {});
    await readCaptureFile(mix.path, sensor.handlePacket);
    sensor.finish();
    expect([...sensor.miners.keys()].sort()).toEqual(mix.miners.map((m) => m.miner).sort());
  });
});

describe('writeFlood', () => {
  it('is made of distinct flows; a small flow table evicts them and still finds every miner', async () => {
    const flows = 40_000;
    const flood = await writeFlood(join(dir, 'flood.pcap'), { seed: 1, flows });
    expect(flood.miners).toHaveLength(MINING_SCENARIOS.length);
    const decoder = new Decoder();
    const out = new DecodedPacket();
    const tuples = new Set<string>();
    await readCaptureFile(flood.path, (pkt) => {
      const planted = (words: Uint32Array) => formatIp(out.ipVersion as 4 | 6, words).startsWith('192.0.2.');
      if (decoder.decodePacket(pkt, out) && !planted(out.src) && !planted(out.dst)) {
        tuples.add(`${out.protocol} ${out.src.join('.')} ${out.srcPort} ${out.dst.join('.')} ${out.dstPort}`);
      }
    });
    expect(tuples.size).toBe(flows);

    const sensor = new Sensor(() => {}, { flow: { maxFlows: 2_000 } });
    await readCaptureFile(flood.path, sensor.handlePacket);
    sensor.finish();
    const stats = sensor.flows.stats;
    // Every flood flow is new; a planted session may count several times, as its handshake
    // packets can be evicted under the flood before the next one arrives.
    expect(stats.created).toBeGreaterThanOrEqual(flows + flood.miners.length);
    expect(stats.created).toBeLessThan(flows + flood.miners.length * 8);
    expect(stats.peakActive).toBe(2_000);
    expect(stats.evicted).toBeGreaterThan(flows - 2_000 - 100);
    expect([...sensor.miners.keys()].sort()).toEqual(flood.miners.map((m) => m.miner).sort());
  });
});
