/**
 * Shares in the mining.* family: Stratum V1 (Bitcoin, Equihash, KawPow, Kaspa),
 * EthereumStratum/1.0.0 and 2.0.0. Difficulty comes as mining.set_difficulty (a number),
 * mining.set_target (a 256-bit target), ES2 mining.set {target}, or a KawPow notify's own
 * target; submits name their job (params[1], ES2 params[0]).
 */
import type { FlowFacts, JsonMessage } from '../dialect.js';
import { hashesFromTargetBE, hexNumber, numericDifficulty } from '../../estimate/targets.js';
import { asObject, jobIdOf, rawText, type ShareEvent } from './types.js';

export function stratumEvents(msg: JsonMessage, fromMiner: boolean, facts: FlowFacts): ShareEvent | null {
  const p = msg.params;
  const list = Array.isArray(p) ? p : null;
  if (fromMiner) {
    if (msg.method === 'mining.submit' && list && list.length >= 2) {
      // ES2 submit is [job_id, nonce, worker id]; the others [worker, job_id, ...].
      if (facts.dialect === 'ethstratum2') return { type: 'submit', jobId: jobIdOf(list[0]) };
      return { type: 'submit', jobId: jobIdOf(list[1]), login: typeof list[0] === 'string' ? list[0] : undefined };
    }
    if (msg.method === 'mining.hashrate' && list) {
      const hps = hexNumber(list[0]);
      return hps === null ? null : { type: 'self-hashrate', hashesPerSecond: hps };
    }
    return null;
  }
  switch (msg.method) {
    case 'mining.set_difficulty': {
      const d = list ? numericDifficulty(list[0]) : null;
      return d === null ? null : { type: 'difficulty', size: { kind: 'difficulty', value: d, raw: rawText(list![0]) } };
    }
    case 'mining.set_target': {
      const h = list ? hashesFromTargetBE(list[0]) : null;
      return h === null ? null : { type: 'difficulty', size: { kind: 'hashes', value: h, raw: rawText(list![0]) } };
    }
    case 'mining.set': {
      const target = asObject(p)?.target;
      const h = hashesFromTargetBE(target);
      return h === null ? null : { type: 'difficulty', size: { kind: 'hashes', value: h, raw: rawText(target) } };
    }
    case 'mining.notify': {
      if (!list || list.length < 1) return null;
      const jobId = jobIdOf(list[0]);
      // KawPow: [job, header, seed, target, clean, height, bits] carries its own target.
      if (list.length === 7 && typeof list[3] === 'string' && list[3].length === 64) {
        const h = hashesFromTargetBE(list[3]);
        if (h !== null) return { type: 'job', jobId, size: { kind: 'hashes', value: h, raw: rawText(list[3]) } };
      }
      return { type: 'job', jobId };
    }
    default:
      return null;
  }
}
