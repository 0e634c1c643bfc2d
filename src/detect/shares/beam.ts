/**
 * Shares in Beam stratum: flat objects; a `job` names itself by `id` and carries a packed
 * `difficulty`; a `solution` echoes the job's id. The packed difficulty is kept as the
 * announced number (the catalog has no conversion for it).
 */
import type { JsonMessage } from '../dialect.js';
import { numericDifficulty } from '../../estimate/targets.js';
import { jobIdOf, rawText, type ShareEvent } from './types.js';

export function beamEvents(msg: JsonMessage, fromMiner: boolean): ShareEvent | null {
  if (fromMiner) return msg.method === 'solution' ? { type: 'submit', jobId: jobIdOf(msg.id) } : null;
  if (msg.method !== 'job' || msg.params !== undefined) return null;
  const d = numericDifficulty(msg.obj.difficulty);
  return { type: 'job', jobId: jobIdOf(msg.id), size: d === null ? undefined : { kind: 'difficulty', value: d, raw: rawText(msg.obj.difficulty) } };
}
