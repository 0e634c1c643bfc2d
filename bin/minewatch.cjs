#!/bin/sh
':' //; unset NODE_EXTRA_CA_CERTS; exec node --v8-pool-size=0 "$0" "$@"
// The bundled CLI (npm run build: dist/ compiled by tsc, bundled, its code cache saved).
// Run as a command, the file is first a shell script: the line above starts Node with the
// options below (JavaScript reads it as a string and a comment). `env -S` in the #! line
// would do the same without a shell, but BusyBox's env (Alpine) has no -S.
// - minewatch opens no TLS connection, and Node 20 reads and parses the certificates named
//   by NODE_EXTRA_CA_CERTS before any script runs (tens of ms): the command runs without it.
// - V8's helper threads (optimising compiler, GC) number 4 by default; 0 makes them one
//   fewer than the cores, so they do not preempt the packet thread while it waits for its
//   optimised code (a 400 MB replay on 2 cores: 10-15 % faster).
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
