/**
 * The third-party captures (../shared/captures) with the shipped signatures, as `replay`
 * runs by default: pool lists, DNS, TLS and endpoint evidence must add no miner and no
 * benign IP. Pool endpoints equal the ground truth too, except in coinhive-stratum.pcap,
 * where the browser really loaded the Coinhive miner over TLS (SNI coinhive.com) and asked
 * DNS for the pool's name: those hits (medium/low) name endpoints the ground truth, written
 * for payload evidence, does not list. They are pinned here exactly; the high-confidence
 * endpoints equal the ground truth in every file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEndpoint } from '../src/decode/address.js';
import { shippedSignatures } from '../src/signatures/signature-set.js';
import { sharedCapturesDir } from '../src/util/paths.js';
import { replayBytes } from './support/pipeline.js';

const dir = sharedCapturesDir();

interface Truth {
  file: string;
  miners: string[];
  pools: string[];
  /** Endpoints of medium/low hits beyond the ground truth: [endpoint, kind, confidence, name]. */
  extra?: [string, string, string, string][];
}

const TRUTH: Truth[] = [
  { file: 'mining.pcapng', miners: ['147.229.13.222', '192.168.2.148', '192.168.2.92'], pools: ['116.211.167.195:3333', '178.32.196.217:9050', '185.71.66.39:9999', '94.23.199.191:3333'] },
  { file: 'bitcoin-mining.pcap', miners: ['10.0.2.15'], pools: ['113.21.199.11:3333', '74.84.128.158:3333'] },
  {
    file: 'cgminer.s0.pcapng',
    miners: ['192.168.1.100'],
    pools: [
      '107.191.99.227:9999', '116.211.168.132:25', '119.23.117.231:25', '120.55.226.251:25', '120.77.61.108:25',
      '45.79.210.48:20580', '45.79.217.166:20580', '47.89.133.41:25', '47.89.133.88:25', '47.89.164.11:25',
      '47.91.65.135:25', '60.205.122.75:25', '60.205.132.209:25', '60.205.146.151:25', '60.205.146.217:25',
      '60.205.146.222:25', '60.205.164.237:25',
    ],
  },
  { file: 'xmr.suprnova.cc.pcapng', miners: ['147.229.13.222'], pools: ['37.59.21.58:5222'] },
  {
    file: 'coinhive-stratum.pcap',
    miners: ['10.0.2.15'],
    pools: ['192.110.160.114:3333'],
    extra: [
      ['104.20.208.59:0', 'dns.query', 'low', 'coinhive.com'],
      ['104.20.208.59:443', 'tls.sni', 'medium', 'coinhive.com'],
      ['192.110.160.114:0', 'dns.query', 'low', 'la01.supportxmr.com'],
    ],
  },
];

describe.runIf(dir)('shared mining captures with the shipped signatures', () => {
  for (const t of TRUTH) {
    it(t.file, async () => {
      const r = await replayBytes(readFileSync(join(dir!, 'mining', t.file)), undefined, t.file, shippedSignatures());
      expect(r.ips.filter((s) => s.role === 'miner').map((s) => s.ip).sort()).toEqual(t.miners);
      const endpoints = (rows: typeof r.hits): string[] => [...new Set(rows.map((h) => formatEndpoint(h.poolIp, h.poolPort)))].sort();
      expect(endpoints(r.hits.filter((h) => h.confidence === 'high'))).toEqual(t.pools);
      const beyond = r.hits.filter((h) => !t.pools.includes(formatEndpoint(h.poolIp, h.poolPort)));
      const seen = [...new Set(beyond.map((h) => JSON.stringify([formatEndpoint(h.poolIp, h.poolPort), h.kind, h.confidence, h.poolHost])))].sort();
      expect(seen).toEqual((t.extra ?? []).map((x) => JSON.stringify(x)).sort());
      // Every hit says why.
      for (const h of r.hits) expect(h.provenance, `${h.kind}`).toMatch(/^[a-z-]+(; |$)/);
    });
  }

  it('bitcoin-mining.pcap: the bfgminer TLS hellos match the shipped fingerprint and SNI us1.bitminter.com', async () => {
    const r = await replayBytes(readFileSync(join(dir!, 'mining', 'bitcoin-mining.pcap')), undefined, 'bitcoin-mining.pcap', shippedSignatures());
    const tls = r.hits.filter((h) => h.kind === 'tls.sni');
    expect(tls.length).toBeGreaterThan(0);
    for (const h of tls) {
      expect(h).toMatchObject({ confidence: 'medium', minerIp: '10.0.2.15', poolHost: 'us1.bitminter.com', dialect: 'stratum' });
      expect(h.detail).toContain('fingerprint of bfgminer/5.2.0');
      expect(h.provenance).toMatch(/tls\/miners\.txt:\d+ ja4 bfgminer\/5\.2\.0/);
    }
  });
});

describe.runIf(dir)('shared benign captures with the shipped signatures give no IP at all', () => {
  const files = dir ? readdirSync(join(dir, 'benign')).sort() : [];
  for (const f of files) {
    it(f, async () => {
      const r = await replayBytes(readFileSync(join(dir!, 'benign', f)), undefined, f, shippedSignatures());
      expect(r.stats.packets).toBeGreaterThan(0);
      expect(r.ips).toEqual([]);
      expect(r.hits).toEqual([]);
    });
  }
});
