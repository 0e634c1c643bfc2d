/**
 * One mining session (one confirmed mining flow) as the tracker hands it to the store:
 * endpoints, identities, share counts, difficulty over time and the hashrate estimate.
 */
import type { FlowEndReason } from '../flow/types.js';

/** A difficulty announcement: when, as sent, and the hashes per share it means (null when
 *  the algorithm has no conversion). */
export interface DifficultyPoint {
  tsMicros: number;
  raw: string;
  hashesPerShare: number | null;
}

export interface ShareError {
  code: string;
  message: string;
  count: number;
}

export interface SessionRecord {
  source: string;
  minerIp: string;
  minerPort: number;
  poolIp: string;
  poolPort: number;
  transport: 'tcp' | 'udp';
  dialect: string;
  /** Canonical algorithm the estimate used (signatures/algorithms.json). */
  algo: string;
  /** True when no message named the algorithm and the dialect default was used. */
  algoAssumed: boolean;
  /** The algorithm as named on the wire, if any. */
  algoWire: string | null;
  /** Flow's first and last packet. */
  startMicros: number;
  endMicros: number;
  endReason: FlowEndReason;
  /** Observation window of the estimate: first work sent to the miner to the last packet. */
  windowStartMicros: number;
  windowEndMicros: number;
  firstShareMicros: number | null;
  lastShareMicros: number | null;
  agent: string | null;
  worker: string | null;
  login: string | null;
  wallet: string | null;
  poolHost: string | null;
  /** Distinct workers and wallets seen on the flow (a proxy carries several). */
  workers: string[];
  wallets: string[];
  sharesSubmitted: number;
  sharesAccepted: number;
  sharesRejected: number;
  /** Accepted-but-stale and stale rejections (included in the two counts above). */
  sharesStale: number;
  /** Replies that matched no outstanding request (duplicates, or requests before the capture). */
  repliesUnmatched: number;
  shareErrors: ShareError[];
  difficultyHistory: DifficultyPoint[];
  /** Expected work behind all submitted / accepted shares (hashes, or solutions). */
  hashesSubmitted: number | null;
  hashesAccepted: number | null;
  /** Unit of the estimate ('H/s', 'Sol/s'); null when the algorithm has none. */
  hashrateUnit: string | null;
  estHashrate: number | null;
  estHashrateLow: number | null;
  estHashrateHigh: number | null;
  /** Last self-reported hashrate (H/s), kept apart from the estimate. */
  selfHashrate: number | null;
  selfHashrateReports: number;
  packetsToPool: number;
  packetsToMiner: number;
  bytesToPool: number;
  bytesToMiner: number;
}

export type SessionSink = (s: SessionRecord) => void;
