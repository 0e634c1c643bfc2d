/**
 * Beam stratum: flat JSON objects without `params` (login with api_key, job with input,
 * solution with nonce/output).
 */
import type { JsonDetector } from './dialect.js';
import { isHex } from './dialect.js';
import { cleanText, splitLogin } from './identity.js';

export const beamDetector: JsonDetector = {
  name: 'beam',
  inspect(msg, ctx) {
    const o = msg.obj;
    if (msg.params !== undefined) return null;
    switch (msg.method) {
      case 'login': {
        const key = cleanText(o.api_key);
        if (!key) return null;
        ctx.facts.dialect = 'beam';
        const parts = splitLogin(key);
        return { dialect: 'beam', kind: 'login', sender: 'miner', strong: true, detector: 'beam', login: key, wallet: parts.wallet, worker: parts.worker, algo: 'beamhash' };
      }
      case 'job':
        if (!isHex(o.input, 64) || o.difficulty === undefined) return null;
        ctx.facts.dialect = 'beam';
        return { dialect: 'beam', kind: 'job', sender: 'pool', strong: true, detector: 'beam', algo: 'beamhash' };
      case 'solution':
        if (!isHex(o.nonce, 16) || !isHex(o.output, 32, 1024)) return null;
        return { dialect: 'beam', kind: 'solution', sender: 'miner', strong: true, detector: 'beam', algo: 'beamhash' };
      default:
        return null;
    }
  },
};
