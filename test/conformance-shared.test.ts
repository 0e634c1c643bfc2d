/**
 * Conformance on real third-party captures (../shared/captures, absent for a user who
 * clones the project alone: then this suite is skipped). Ground truth is the folder's
 * README: each mining file yields exactly its miner IPs and pool endpoints; benign files
 * yield no IP at all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEndpoint } from '../src/decode/address.js';
import { sharedCapturesDir } from '../src/util/paths.js';
import { replayBytes } from './support/pipeline.js';

const dir = sharedCapturesDir();

interface Truth {
  file: string;
  miners: string[];
  pools: string[];
  dialects: string[];
  identities?: string[];
  agents?: string[];
}

const MINING_TRUTH: Truth[] = [
  {
    file: 'mining.pcapng',
    miners: ['147.229.13.222', '192.168.2.148', '192.168.2.92'],
    pools: ['116.211.167.195:3333', '178.32.196.217:9050', '185.71.66.39:9999', '94.23.199.191:3333'],
    dialects: ['cryptonote', 'ethproxy', 'stratum'],
    agents: ['EWBF 0.3.4b', 'xmr-stak-cpu/1.3.0-1.5.0'],
  },
  {
    file: 'bitcoin-mining.pcap',
    miners: ['10.0.2.15'],
    pools: ['113.21.199.11:3333', '74.84.128.158:3333'],
    dialects: ['getblocktemplate', 'getwork', 'stratum'],
    identities: ['broatcast'],
    agents: ['bfgminer/5.2.0'],
  },
  {
    file: 'cgminer.s0.pcapng',
    miners: ['192.168.1.100'],
    pools: [
      '107.191.99.227:9999', '116.211.168.132:25', '119.23.117.231:25', '120.55.226.251:25', '120.77.61.108:25',
      '45.79.210.48:20580', '45.79.217.166:20580', '47.89.133.41:25', '47.89.133.88:25', '47.89.164.11:25',
      '47.91.65.135:25', '60.205.122.75:25', '60.205.132.209:25', '60.205.146.151:25', '60.205.146.217:25',
      '60.205.146.222:25', '60.205.164.237:25',
    ],
    dialects: ['stratum'],
    identities: ['Bitcoin'],
    agents: ['cgminer/3.7.2'],
  },
  {
    file: 'xmr.suprnova.cc.pcapng',
    miners: ['147.229.13.222'],
    pools: ['37.59.21.58:5222'],
    dialects: ['cryptonote'],
    identities: ['kvetak.worker1'],
    agents: ['xmr/1.0'],
  },
  {
    file: 'coinhive-stratum.pcap',
    miners: ['10.0.2.15'],
    pools: ['192.110.160.114:3333'],
    dialects: ['cryptonote'],
  },
];

describe.runIf(dir)('shared mining captures give exactly their ground truth', () => {
  for (const t of MINING_TRUTH) {
    it(t.file, async () => {
      const r = await replayBytes(readFileSync(join(dir!, 'mining', t.file)), undefined, t.file);
      expect(r.stats.corruptRecords).toBe(0);
      const miners = r.ips.filter((s) => s.role === 'miner').map((s) => s.ip).sort();
      expect(miners).toEqual(t.miners);
      const pools = [...new Set(r.hits.map((h) => formatEndpoint(h.poolIp, h.poolPort)))].sort();
      expect(pools).toEqual(t.pools);
      const dialects = [...new Set(r.hits.map((h) => h.dialect))].sort();
      expect(dialects).toEqual(t.dialects);
      const identities = new Set(r.ips.flatMap((s) => s.identities));
      for (const id of t.identities ?? []) expect(identities).toContain(id);
      const agents = new Set(r.ips.flatMap((s) => s.agents));
      for (const a of t.agents ?? []) expect(agents).toContain(a);
    });
  }
});

describe.runIf(dir)('shared benign captures give no IP at all', () => {
  const files = dir ? readdirSync(join(dir, 'benign')).sort() : [];
  for (const f of files) {
    it(f, async () => {
      const r = await replayBytes(readFileSync(join(dir!, 'benign', f)), undefined, f);
      expect(r.stats.packets).toBeGreaterThan(0);
      expect(r.ips).toEqual([]);
      expect(r.hits).toEqual([]);
    });
  }
});
