/**
 * The pipeline assembled: capture records → decode → flow table → detection → evidence
 * sink. One Sensor serves files (replay) and, later, live interfaces; it owns no I/O.
 */
import type { CapturedPacket } from './capture/types.js';
import { Decoder } from './decode/decoder.js';
import { DecodedPacket } from './decode/types.js';
import type { MessageObserver } from './detect/dialect.js';
import { DetectionEngine, type EngineOptions } from './detect/engine.js';
import type { EvidenceSink } from './detect/types.js';
import { FlowTable, type FlowTableOptions } from './flow/flow-table.js';
import { MinerDigests, type MinerDigest } from './miner-digests.js';
import type { SignatureSource } from './signatures/reloadable.js';
import { shippedSignatures, type SignatureSet } from './signatures/signature-set.js';

export interface SensorOptions {
  flow?: Partial<FlowTableOptions>;
  engine?: Partial<EngineOptions>;
  /** Per-message observers of confirmed mining flows (session and share accounting). */
  observers?: readonly MessageObserver[];
  /** Pool lists, fingerprints and protocol rules: a fixed set, or a ReloadableSignatures the
   *  caller reloads (new flows pick up the new set). Default: the shipped signatures/. */
  signatures?: SignatureSource | SignatureSet;
}

export type { MinerDigest } from './miner-digests.js';

export class Sensor {
  readonly decoder = new Decoder();
  readonly engine: DetectionEngine;
  readonly flows: FlowTable;
  packets = 0;
  bytes = 0;
  /** Miner IPs seen by this sensor, for summaries. */
  readonly digests = new MinerDigests();
  private readonly decoded = new DecodedPacket();

  constructor(sink: EvidenceSink, opts: SensorOptions = {}) {
    this.engine = new DetectionEngine((e) => {
      this.digests.add(e);
      sink(e);
    }, opts.engine, opts.observers, opts.signatures ?? shippedSignatures());
    // Detection keeps state only for flows it was given payload of: flows it never saw end
    // silently, so handshakes, scans and UDP cost no Flow object, unless the signatures ask
    // for payload-less TCP flows to pool endpoints (rule endpoint.syn).
    this.flows = new FlowTable(this.engine, {
      reportUnseenFlows: this.engine.wantsPayloadlessFlows ? 'tcp' : false,
      // Detection drops its state when it lets a flow go, and never reads a Flow after.
      forgetLetGoFlows: true,
      ...opts.flow,
    });
  }

  /** Names the input that the following packets come from (stored with each hit). */
  setSource(source: string): void {
    this.engine.source = source;
  }

  readonly handlePacket = (pkt: CapturedPacket): void => {
    this.packets++;
    this.bytes += pkt.length;
    const decoded = this.decoded;
    if (this.decoder.decodePacket(pkt, decoded)) this.flows.processPacket(decoded);
  };

  /** Miner IPs seen by this sensor (up to the digest cap), for summaries. */
  get miners(): Map<string, MinerDigest> {
    return this.digests.miners;
  }

  get minerIpsBeyondDigest(): number {
    return this.digests.beyondDigest;
  }

  /** Ends every flow still open (end of input); their pending evidence is emitted first. */
  finish(): void {
    this.flows.flush();
  }
}
