#!/bin/sh
':' //; unset NODE_EXTRA_CA_CERTS; exec node --v8-pool-size=0 --initial-old-space-size=64 --max-inlined-bytecode-size-cumulative=300 "$0" "$@"
// The bundled CLI (npm run build: dist/ compiled by tsc, bundled, its code cache saved).
// Run as a command, the file is first a shell script: the line above starts Node with the
// options below (JavaScript reads it as a string and a comment). `env -S` in the #! line
// would do the same without a shell, but BusyBox's env (Alpine) has no -S.
// - minewatch opens no TLS connection, and Node 20 reads and parses the certificates named
//   by NODE_EXTRA_CA_CERTS before any script runs (tens of ms): the command runs without it.
// - Node's options are src/util/node-options.ts's (a test keeps them the same; why each is
//   there is said there): V8's helper threads one fewer than the cores, a larger first old
//   generation, and less inlining. V8 takes the code cache the build saved only under the
//   very flags it was made with, and the build makes it with these.
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
