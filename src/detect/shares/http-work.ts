/**
 * Shares in HTTP getwork and getblocktemplate (BIP 22/23): the pool's result carries the
 * share `target` (little-endian in getwork, big-endian in a BIP 23 template); the miner
 * submits with getwork [data] or submitblock. Neither names a job.
 */
import type { JsonMessage } from '../dialect.js';
import { hashesFromTargetBE, hashesFromTargetLE } from '../../estimate/targets.js';
import { asObject, rawText, type ShareEvent } from './types.js';

export function httpWorkEvents(msg: JsonMessage, fromMiner: boolean): ShareEvent | null {
  if (fromMiner) {
    const p = msg.params;
    if (msg.method === 'getwork' && Array.isArray(p) && typeof p[0] === 'string' && p[0].length > 0) return { type: 'submit' };
    if (msg.method === 'submitblock' && Array.isArray(p) && typeof p[0] === 'string') return { type: 'submit' };
    return null;
  }
  if (msg.method !== undefined) return null;
  const r = asObject(msg.result);
  if (!r || typeof r.target !== 'string') return null;
  if (typeof r.data === 'string') {
    const h = hashesFromTargetLE(r.target);
    return h === null ? null : { type: 'job', size: { kind: 'hashes', value: h, raw: rawText(r.target) } };
  }
  if (r.previousblockhash !== undefined || r.bits !== undefined) {
    const h = hashesFromTargetBE(r.target);
    return h === null ? null : { type: 'job', size: { kind: 'hashes', value: h, raw: rawText(r.target) } };
  }
  return null;
}
