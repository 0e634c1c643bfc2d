#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// The bundled CLI (npm run build: dist/ compiled by tsc, bundled, its code cache saved).
// minewatch opens no TLS connection, and Node 20 reads and parses the certificates named by
// NODE_EXTRA_CA_CERTS before any script runs (tens of ms), so the command runs without it.
'use strict';
const NOT_BUILT = 'minewatch: not built yet: run npm ci (or npm run build) in the project folder\n';

let loader;
try {
  loader = require('../dist/bundle/loader.cjs');
} catch (err) {
  if (err?.code !== 'MODULE_NOT_FOUND') throw err;
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
