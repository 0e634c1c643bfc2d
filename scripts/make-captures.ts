/** Writes the bundled captures (captures/*) and their README from the scenarios. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledCaptures } from '../src/synth/scenarios/bundle.js';
import { PROJECT_ROOT } from '../src/util/paths.js';

const dir = join(PROJECT_ROOT, 'captures');
for (const c of bundledCaptures()) {
  writeFileSync(join(dir, c.file), c.bytes);
  console.log(`${c.file}: ${c.bytes.length} bytes, ${c.miners.length} miner(s)`);
}
