/**
 * Shares in EthProxy and geth-style getwork: work packages [header, seed, boundary(, …)]
 * arrive as id-0 pushes or eth_getWork results; the boundary is a 256-bit target and the
 * header hash is the job id that eth_submitWork echoes in params[1].
 */
import type { JsonMessage } from '../dialect.js';
import { hashesFromTargetBE, hexNumber } from '../../estimate/targets.js';
import { rawText, type ShareEvent } from './types.js';

function headerId(v: unknown): string | undefined {
  return typeof v === 'string' ? v.toLowerCase().replace(/^0x/, '') : undefined;
}

export function ethproxyEvents(msg: JsonMessage, fromMiner: boolean): ShareEvent | null {
  const p = msg.params;
  if (fromMiner) {
    if (msg.method === 'eth_submitWork' && Array.isArray(p) && p.length === 3) {
      const worker = msg.obj.worker;
      return { type: 'submit', jobId: headerId(p[1]), login: typeof worker === 'string' && worker !== '' ? worker : undefined };
    }
    if (msg.method === 'eth_submitHashrate' && Array.isArray(p)) {
      const hps = hexNumber(p[0]);
      return hps === null ? null : { type: 'self-hashrate', hashesPerSecond: hps };
    }
    return null;
  }
  const r = msg.result;
  if (msg.method === undefined && Array.isArray(r) && r.length >= 3 && r.length <= 5) {
    const h = hashesFromTargetBE(r[2]);
    if (h === null || typeof r[0] !== 'string') return null;
    return { type: 'job', jobId: headerId(r[0]), size: { kind: 'hashes', value: h, raw: rawText(r[2]) } };
  }
  return null;
}
