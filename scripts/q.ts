import { readFileSync } from 'node:fs';
import { replayBytes } from '../test/support/pipeline.js';
const f = process.argv[2]!;
const r = await replayBytes(readFileSync(f));
for (const h of r.hits) console.log(h.ts, h.minerIp, h.minerPort, h.poolIp, h.poolPort, h.dialect, h.kind, JSON.stringify([h.agent, h.worker, h.login, h.wallet, h.algo, h.poolHost, h.detail]));
console.log(JSON.stringify(r.ips.filter(s=>s.role==='miner'), null, 1));
