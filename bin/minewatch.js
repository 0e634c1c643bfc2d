#!/usr/bin/env node
// The bundled CLI (npm run build: dist/ compiled by tsc, then scripts/bundle.ts).
import '../dist/bundle/minewatch.js';
