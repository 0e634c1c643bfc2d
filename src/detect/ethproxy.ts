/**
 * EthProxy (ethminer "stratum1") and geth-style getwork. eth_submitLogin is a pool
 * invention and identifies mining alone; eth_getWork/eth_submitWork/eth_submitHashrate are
 * also node RPC methods, so they count only with their exact shapes, and eth_getWork alone
 * only once a work package answers it.
 */
import type { Finding, JsonDetector, MessageContext } from './dialect.js';
import { isHex } from './dialect.js';
import { cleanText, splitLogin } from './identity.js';

function dialectOf(ctx: MessageContext, overHttp: boolean): string {
  return overHttp ? 'getwork' : ctx.facts.dialect ?? 'ethproxy';
}

/** [header_hash, seed_hash, boundary(, block number)] as 0x-hex strings. */
function isWorkPackage(v: unknown): boolean {
  return Array.isArray(v) && v.length >= 3 && v.length <= 5 && isHex(v[0], 64) && isHex(v[1], 64) && isHex(v[2], 64);
}

export const ethproxyDetector: JsonDetector = {
  name: 'ethproxy',
  inspect(msg, ctx) {
    const p = msg.params;
    const base = (kind: string, sender: 'miner' | 'pool', strong: boolean): Finding => ({
      dialect: dialectOf(ctx, msg.overHttp),
      kind,
      sender,
      strong,
      detector: 'ethproxy',
      algo: 'ethash',
    });
    switch (msg.method) {
      case 'eth_submitLogin': {
        if (!Array.isArray(p) || typeof p[0] !== 'string') return null;
        const f = base('eth_submitLogin', 'miner', true);
        f.login = cleanText(p[0]);
        const parts = f.login ? splitLogin(f.login) : {};
        f.wallet = parts.wallet;
        f.worker = cleanText(msg.obj.worker) ?? parts.worker;
        return f;
      }
      case 'eth_getWork':
        if (p !== undefined && !(Array.isArray(p) && p.length === 0)) return null;
        return { ...base('eth_getWork', 'miner', false), worker: cleanText(msg.obj.worker) };
      case 'eth_submitWork':
        if (!Array.isArray(p) || p.length !== 3 || !isHex(p[0], 16) || !isHex(p[1], 64) || !isHex(p[2], 64)) return null;
        return { ...base('eth_submitWork', 'miner', true), worker: cleanText(msg.obj.worker) };
      case 'eth_submitHashrate':
        if (!Array.isArray(p) || p.length !== 2 || !isHex(p[0], 1, 64) || !isHex(p[1], 64)) return null;
        return {
          ...base('eth_submitHashrate', 'miner', true),
          worker: cleanText(msg.obj.worker),
          detail: `self-reported hashrate ${String(p[0]).slice(0, 66)}`,
        };
      case undefined:
        // Work pushed (id 0) or returned for eth_getWork.
        if (!isWorkPackage(msg.result)) return null;
        return base(msg.id === 0 && !msg.overHttp ? 'work.push' : 'eth_getWork.result', 'pool', true);
      default:
        return null;
    }
  },
};
