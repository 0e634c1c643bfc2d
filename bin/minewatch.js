#!/usr/bin/env node
// The bundled CLI (npm run build: dist/ compiled by tsc, bundled, its code cache saved).
const NOT_BUILT = 'minewatch: not built yet: run npm ci (or npm run build) in the project folder\n';

let loader;
try {
  loader = await import('../dist/util/bundle-loader.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write(NOT_BUILT);
  process.exit(2);
}
try {
  loader.runBundle('minewatch');
} catch (err) {
  if (err?.code !== loader.NOT_BUILT) throw err;
  process.stderr.write(`minewatch: ${err.message}\n`);
  process.exit(2);
}
