/** What the main thread and the shard workers of a parallel replay say to each other. */
import type { InputResult } from '../cli/summary.js';
import type { DecodeStats } from '../decode/types.js';
import type { DetectStats } from '../detect/engine.js';
import type { SessionRecord } from '../detect/session-record.js';
import type { Evidence } from '../detect/types.js';
import type { FlowStats } from '../flow/types.js';
import type { OrderedRecord } from './ordered-merge.js';

export interface WorkerStart {
  files: string[];
  /** This worker's shard, of `count`. */
  index: number;
  count: number;
  /** Flow table capacity of this worker. */
  maxFlows: number;
  signatureDir: string;
}

export type ReplayRecord = { kind: 'evidence'; evidence: Evidence } | { kind: 'session'; session: SessionRecord };

/** What one worker counted. Every worker reads and decodes every packet, so reader and
 *  decoder figures are the same in all of them; flow and detection figures are per shard. */
export interface WorkerTotals {
  inputs: InputResult[];
  packets: number;
  bytes: number;
  flows: FlowStats;
  /** Flows of other shards this worker handled too (DNS: see Sensor.isSharedFlow). */
  sharedFlowsCreated: number;
  decode: DecodeStats;
  detect: DetectStats;
}

/** Main thread to worker: Ctrl-C; finish the flows open now and report them. */
export interface StopMessage {
  type: 'stop';
}

export type WorkerMessage =
  | {
      type: 'batch';
      records: OrderedRecord<ReplayRecord>[];
      /** Every packet up to this ordinal is fully processed. */
      through: number;
      /** Input being read (index into files) and bytes read of it so far. */
      file: number;
      bytesRead: number;
    }
  | { type: 'done'; records: OrderedRecord<ReplayRecord>[]; totals: WorkerTotals };
