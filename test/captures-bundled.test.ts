/**
 * The captures shipped in captures/ are reproducible from the scenarios (npm run captures)
 * and replay to exactly their expected miners, pool endpoints and dialects.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEndpoint } from '../src/decode/address.js';
import { bundledCaptures } from '../src/synth/scenarios/bundle.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { replayBytes } from './support/pipeline.js';

describe('bundled captures', () => {
  for (const c of bundledCaptures()) {
    it(`${c.file} is what the generator makes and replays to its expected miners`, async () => {
      const onDisk = readFileSync(join(PROJECT_ROOT, 'captures', c.file));
      expect(onDisk.equals(c.bytes), 'run `npm run captures` to regenerate').toBe(true);
      const r = await replayBytes(onDisk, undefined, c.file);
      expect(r.stats.corruptRecords).toBe(0);
      const miners = r.ips.filter((s) => s.role === 'miner').map((s) => s.ip).sort();
      expect(miners).toEqual(c.miners.map((m) => m.miner).sort());
      for (const m of c.miners) {
        const rows = r.hits.filter((h) => h.minerIp === m.miner);
        expect(new Set(rows.map((h) => formatEndpoint(h.poolIp, h.poolPort)))).toEqual(new Set([formatEndpoint(m.pool, m.poolPort)]));
        expect(new Set(rows.map((h) => h.dialect))).toEqual(new Set([m.dialect]));
      }
    });
  }
});
