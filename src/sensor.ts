/**
 * The pipeline assembled: capture records → decode → flow table → detection → evidence
 * sink. One Sensor serves files (replay) and, later, live interfaces; it owns no I/O.
 */
import type { CapturedPacket } from './capture/types.js';
import { Decoder } from './decode/decoder.js';
import { DecodedPacket } from './decode/types.js';
import { DetectionEngine, type EngineOptions } from './detect/engine.js';
import type { Evidence, EvidenceSink } from './detect/types.js';
import { FlowTable, type FlowTableOptions } from './flow/flow-table.js';

export interface SensorOptions {
  flow?: Partial<FlowTableOptions>;
  engine?: Partial<EngineOptions>;
}

export class Sensor {
  readonly decoder = new Decoder();
  readonly engine: DetectionEngine;
  readonly flows: FlowTable;
  packets = 0;
  bytes = 0;
  /** Miner IPs seen by this sensor, with their first evidence (for summaries). */
  readonly miners = new Map<string, Evidence>();
  private readonly decoded = new DecodedPacket();

  constructor(sink: EvidenceSink, opts: SensorOptions = {}) {
    this.engine = new DetectionEngine((e) => {
      if (!this.miners.has(e.minerIp)) this.miners.set(e.minerIp, e);
      sink(e);
    }, opts.engine);
    this.flows = new FlowTable(this.engine, opts.flow);
  }

  /** Names the input that the following packets come from (stored with each hit). */
  setSource(source: string): void {
    this.engine.source = source;
  }

  readonly handlePacket = (pkt: CapturedPacket): void => {
    this.packets++;
    this.bytes += pkt.length;
    if (this.decoder.decode(pkt.linkType, pkt.buf, pkt.offset, pkt.length, pkt.tsMicros, this.decoded)) {
      this.flows.process(this.decoded, pkt.tsMicros);
    }
  };

  /** Ends every flow still open (end of input); their pending evidence is emitted first. */
  finish(): void {
    this.flows.flush();
  }
}
