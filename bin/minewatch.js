#!/usr/bin/env node
// The bundled CLI (npm run build: dist/ compiled by tsc, bundled, its code cache saved).
import { runBundle } from '../dist/util/bundle-loader.js';

runBundle('minewatch');
