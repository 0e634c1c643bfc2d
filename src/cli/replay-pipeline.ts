/**
 * The sensor a replay runs, assembled in one place for the in-process replay and for each
 * worker of a parallel one, so that both store the same hits and sessions.
 */
import type { InputResult } from './summary.js';
import type { DecodeStats } from '../decode/types.js';
import type { DetectStats } from '../detect/engine.js';
import type { SessionRecord } from '../detect/session-record.js';
import { SessionTracker } from '../detect/session-tracker.js';
import type { EvidenceSink } from '../detect/types.js';
import type { MinerDigests } from '../miner-digests.js';
import { Sensor } from '../sensor.js';
import type { SignatureSet } from '../signatures/signature-set.js';

export interface ReplaySinks {
  evidence: EvidenceSink;
  session: (session: SessionRecord) => void;
}

export interface ReplayPipelineOptions {
  /** Flow table capacity of this sensor (each worker of a parallel replay has its own). */
  maxFlows?: number;
  signatures: SignatureSet;
  /** Parallel replay: a shard worker's table sweeps where the reader says (FlowTable externalSweeps). */
  externalSweeps?: boolean;
}

export function createReplaySensor(sinks: ReplaySinks, o: ReplayPipelineOptions): Sensor {
  // Sessions (shares, difficulty, estimates) are accounted per mining flow beside the hits.
  const tracker = new SessionTracker(sinks.session);
  return new Sensor(tracker.evidenceSink(sinks.evidence), {
    flow: { ...(o.maxFlows ? { maxFlows: o.maxFlows } : {}), externalSweeps: o.externalSweeps ?? false },
    observers: [tracker],
    signatures: o.signatures,
  });
}

/** What a replay counted, whether one sensor or several shard workers did the work. */
export interface ReplayTotals {
  inputs: InputResult[];
  packets: number;
  bytes: number;
  flowsCreated: number;
  flowsEvicted: number;
  decode: DecodeStats;
  detect: DetectStats;
  digests: MinerDigests;
}

/** A replay under way: `done` settles with the totals; stop() ends it early (Ctrl-C) after
 *  handing every hit found so far to the sinks (`done` then never settles). */
export interface RunningReplay {
  done: Promise<ReplayTotals>;
  stop(): void | Promise<void>;
}
