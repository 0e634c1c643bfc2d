/** What the main thread and the shard workers of a parallel replay say to each other. */
import type { DetectStats } from '../detect/engine.js';
import type { SessionRecord } from '../detect/session-record.js';
import type { Evidence } from '../detect/types.js';
import type { FlowStats } from '../flow/types.js';
import type { OrderedRecord } from './ordered-merge.js';

export interface WorkerStart {
  files: string[];
  /** Flow table capacity of this worker. */
  maxFlows: number;
  signatureDir: string;
  /** The ring the reader fills with this shard's decoded packets (packet-ring.ts). */
  ring: SharedArrayBuffer;
  /** The read chunks the rings' records point into (shared-chunks.ts). */
  chunks: SharedArrayBuffer;
}

export type ReplayRecord = { kind: 'evidence'; evidence: Evidence } | { kind: 'session'; session: SessionRecord };

/** What one shard counted (reading and decoding are counted by the reader). */
export interface WorkerTotals {
  flows: FlowStats;
  /** Flows of other shards this worker handled too (DNS: see dispatcher.ts). */
  sharedFlowsCreated: number;
  detect: DetectStats;
  /** Of `detect`, what copies of other shards' packets added (their owner counts them);
   *  evidence aside, which the merge deduplicates. */
  sharedDetect: DetectStats;
}

export type WorkerMessage =
  | {
      type: 'batch';
      records: OrderedRecord<ReplayRecord>[];
      /** Every packet up to this ordinal is fully processed. */
      through: number;
    }
  | { type: 'done'; records: OrderedRecord<ReplayRecord>[]; totals: WorkerTotals };
