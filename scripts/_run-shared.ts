import { readFileSync } from 'node:fs';
import { replayBytes } from '../test/support/pipeline.js';
import { shippedSignatures } from '../src/signatures/signature-set.js';
const f = process.argv[2]!;
const r = await replayBytes(readFileSync(f), undefined, f, shippedSignatures());
for (const h of r.hits) console.log(h.minerIp, `${h.poolIp}:${h.poolPort}`, h.dialect, h.kind, h.confidence, '|', h.poolHost, '|', h.detail, '|', (h as any).provenance);
console.log('miners', r.ips.filter((s) => s.role === 'miner').map((s) => s.ip));
