/**
 * Shares in CryptoNote (XMRig family) and Grin stratum. Each job carries its own size:
 * a CryptoNote `target` (4- or 8-byte little-endian hex, already in hashes) or a Grin
 * `difficulty` (Grin's own scale); the login result holds the first job. Submits name
 * the job by `job_id`.
 */
import type { JsonMessage } from '../dialect.js';
import { hashesFromCryptonoteTarget, numericDifficulty } from '../../estimate/targets.js';
import { asObject, jobIdOf, rawText, type ShareEvent, type WorkSize } from './types.js';

function jobEvent(job: Record<string, unknown>): ShareEvent | null {
  if (job.job_id === undefined) return null;
  let size: WorkSize | undefined;
  const h = hashesFromCryptonoteTarget(job.target);
  if (h !== null) size = { kind: 'hashes', value: h, raw: rawText(job.target) };
  else {
    const d = numericDifficulty(job.difficulty);
    if (d !== null) size = { kind: 'difficulty', value: d, raw: rawText(job.difficulty) };
  }
  return { type: 'job', jobId: jobIdOf(job.job_id), size };
}

export function cryptonoteEvents(msg: JsonMessage, fromMiner: boolean): ShareEvent | null {
  const params = asObject(msg.params);
  if (fromMiner) {
    if (msg.method === 'submit' && params) return { type: 'submit', jobId: jobIdOf(params.job_id) };
    return null;
  }
  if (msg.method === 'job' && params) return jobEvent(params);
  if (msg.method === undefined) {
    const job = asObject(asObject(msg.result)?.job);
    if (job) return jobEvent(job);
  }
  return null;
}
