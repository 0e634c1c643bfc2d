/**
 * What share accounting reads out of one protocol message. Each dialect file turns its
 * messages into these events; the session tracker keeps the per-flow state.
 */

/**
 * How much work one share stands for, as the pool announced it: a numeric difficulty
 * (converted with the algorithm's hashes per difficulty once the algorithm is known) or a
 * target, already converted to expected hashes (solutions for Equihash).
 */
export type WorkSize =
  | { kind: 'difficulty'; value: number; raw: string }
  | { kind: 'hashes'; value: number; raw: string };

export type ShareEvent =
  /** Difficulty for the jobs that follow (Stratum set_difficulty/set_target, ES2 mining.set). */
  | { type: 'difficulty'; size: WorkSize }
  /** A job; `size` when the job carries its own target (CryptoNote, EthProxy, KawPow). */
  | { type: 'job'; jobId?: string; size?: WorkSize }
  /** A share submitted by the miner, naming the job it solves when the dialect says. */
  | { type: 'submit'; jobId?: string; login?: string }
  /** The miner's own claim (eth_submitHashrate, mining.hashrate), in hashes per second. */
  | { type: 'self-hashrate'; hashesPerSecond: number };

/** A pool's answer to a submit. */
export interface ReplyVerdict {
  accepted: boolean;
  /** Accepted but late (ES2 error 202), or rejected as stale where the code says so. */
  stale: boolean;
  code?: string;
  message?: string;
}

export function asObject(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A job id as text (pools send strings or integers). */
export function jobIdOf(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length > 0 && v.length <= 256) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function rawText(v: unknown): string {
  return String(v).slice(0, 80);
}
