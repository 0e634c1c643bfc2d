/**
 * One shard's flow table and detection, fed decoded packets in capture order by a parallel
 * replay's reader: in a worker thread (shard-worker.ts) or, for the reader's own share of
 * the flows, on the reading thread itself (dispatcher.ts). Output is tagged with the ordinal
 * of the packet that produced it; copies of other shards' DNS are counted apart so that the
 * totals count every datagram once.
 */
import { createReplaySensor } from '../cli/replay-pipeline.js';
import type { DecodedPacket } from '../decode/types.js';
import { newDetectStats, type DetectStats } from '../detect/engine-context.js';
import type { Sensor } from '../sensor.js';
import type { SignatureSet } from '../signatures/signature-set.js';
import type { ReplayRecord, WorkerTotals } from './messages.js';
import type { OrderedRecord } from './ordered-merge.js';

export class ShardProcessor {
  /** Output not yet handed on (take()). */
  records: OrderedRecord<ReplayRecord>[] = [];
  /** Ordinal of the packet being processed: the tag of what it produces. */
  ordinal = 0;
  /** Every packet up to this ordinal is fully processed. */
  through = 0;
  private readonly sensor: Sensor;
  private sharedFlowsCreated = 0;
  /** What copies of other shards' packets added to the detection counters (evidence aside:
   *  the merge drops the copies' evidence and counts them). */
  private readonly sharedDetect: DetectStats = newDetectStats();

  constructor(signatures: SignatureSet, maxFlows: number) {
    this.sensor = createReplaySensor(
      {
        evidence: (evidence) => this.records.push({ ordinal: this.ordinal, value: { kind: 'evidence', evidence } }),
        session: (session) => this.records.push({ ordinal: this.ordinal, value: { kind: 'session', session } }),
      },
      { maxFlows, signatures, externalSweeps: true },
    );
  }

  setSource(file: string, ordinal: number): void {
    this.sensor.setSource(file);
    this.through = ordinal;
  }

  /** A packet of this shard, or (shared) a copy of another shard's DNS datagram. */
  packet(pkt: DecodedPacket, ordinal: number, shared: boolean): void {
    this.ordinal = ordinal;
    const flows = this.sensor.flows;
    if (shared) {
      // Copies are rare (DNS that may name a pool): a snapshot of the counters is cheap here.
      const detect = this.sensor.engine.stats;
      const before = { ...detect };
      const created = flows.stats.created;
      flows.processPacket(pkt);
      this.sharedFlowsCreated += flows.stats.created - created;
      for (const key of Object.keys(before) as (keyof DetectStats)[]) {
        if (key !== 'evidence' && key !== 'intelEvidence') this.sharedDetect[key] += detect[key] - before[key];
      }
    } else {
      flows.processPacket(pkt);
    }
    this.through = ordinal;
  }

  /** The idle sweep before packet `ordinal`, at capture time `tsMicros`. */
  sweep(tsMicros: number, ordinal: number): void {
    this.ordinal = ordinal;
    this.sensor.flows.sweep(tsMicros);
    this.through = ordinal - 1;
  }

  /** Every packet before `ordinal` has been handed out (this shard had none of them). */
  tick(ordinal: number): void {
    if (ordinal - 1 > this.through) this.through = ordinal - 1;
  }

  /** End of input: the flows still open end; their output is tagged `ordinal`. */
  finish(ordinal: number): void {
    this.ordinal = ordinal;
    this.sensor.finish();
  }

  /** The output so far, handed on. */
  take(): OrderedRecord<ReplayRecord>[] {
    const out = this.records;
    this.records = [];
    return out;
  }

  totals(): WorkerTotals {
    return { flows: this.sensor.flows.stats, sharedFlowsCreated: this.sharedFlowsCreated, detect: this.sensor.engine.stats, sharedDetect: this.sharedDetect };
  }
}
