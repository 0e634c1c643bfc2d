import { readFileSync } from 'node:fs';
import { replayBytes } from '../test/support/pipeline.js';
import { shippedSignatures } from '../src/signatures/signature-set.js';
const r = await replayBytes(readFileSync(process.argv[2]!), undefined, 'x', shippedSignatures());
for (const h of r.hits) if (h.detector !== 'stratum' || process.argv[3]) console.log(h.kind, '|', h.provenance);
