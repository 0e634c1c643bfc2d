/**
 * The pipeline assembled: capture records → decode → flow table → detection → evidence
 * sink. One Sensor serves files (replay) and, later, live interfaces; it owns no I/O.
 */
import type { CapturedPacket } from './capture/types.js';
import { Decoder } from './decode/decoder.js';
import { DecodedPacket } from './decode/types.js';
import type { MessageObserver } from './detect/dialect.js';
import { DetectionEngine, type EngineOptions } from './detect/engine.js';
import type { Evidence, EvidenceSink } from './detect/types.js';
import { FlowTable, type FlowTableOptions } from './flow/flow-table.js';

export interface SensorOptions {
  flow?: Partial<FlowTableOptions>;
  engine?: Partial<EngineOptions>;
  /** Per-message observers of confirmed mining flows (session and share accounting). */
  observers?: readonly MessageObserver[];
}

/** What a replay summary says about one miner IP. */
export interface MinerDigest {
  ip: string;
  pools: Set<string>;
  dialects: Set<string>;
  agents: Set<string>;
  identities: Set<string>;
  evidence: number;
}

/** Miner IPs kept for the end-of-run digest; beyond it they are only counted (all are stored). */
const MAX_DIGESTS = 10_000;
const MAX_DIGEST_VALUES = 8;

function addBounded(set: Set<string>, value: string | undefined): void {
  if (value !== undefined && set.size < MAX_DIGEST_VALUES) set.add(value);
}

export class Sensor {
  readonly decoder = new Decoder();
  readonly engine: DetectionEngine;
  readonly flows: FlowTable;
  packets = 0;
  bytes = 0;
  /** Miner IPs seen by this sensor (up to MAX_DIGESTS), for summaries. */
  readonly miners = new Map<string, MinerDigest>();
  minerIpsBeyondDigest = 0;
  private readonly decoded = new DecodedPacket();

  constructor(sink: EvidenceSink, opts: SensorOptions = {}) {
    this.engine = new DetectionEngine((e) => {
      this.digest(e);
      sink(e);
    }, opts.engine, opts.observers);
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

  private digest(e: Evidence): void {
    let d = this.miners.get(e.minerIp);
    if (!d) {
      if (this.miners.size >= MAX_DIGESTS) {
        this.minerIpsBeyondDigest++;
        return;
      }
      d = { ip: e.minerIp, pools: new Set(), dialects: new Set(), agents: new Set(), identities: new Set(), evidence: 0 };
      this.miners.set(e.minerIp, d);
    }
    d.evidence++;
    addBounded(d.pools, e.poolIp.includes(':') ? `[${e.poolIp}]:${e.poolPort}` : `${e.poolIp}:${e.poolPort}`);
    addBounded(d.dialects, e.dialect);
    addBounded(d.agents, e.agent);
    addBounded(d.identities, e.worker ?? e.login);
  }

  /** Ends every flow still open (end of input); their pending evidence is emitted first. */
  finish(): void {
    this.flows.flush();
  }
}
