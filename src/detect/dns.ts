/**
 * DNS evidence (UDP port 53). A query for a pool name is low-confidence evidence on the
 * asking host (rule dns.query); the answer's addresses, found through its CNAME chain,
 * are learned as pool endpoints (rule dns.learn), so later flows to them are tagged even
 * when encrypted. The pool name may be the question or any name the chain passes through.
 */
import type { Direction, Flow } from '../flow/types.js';
import type { SignatureSet } from '../signatures/signature-set.js';
import type { PoolEntry } from '../signatures/types.js';
import { LearnedEndpoints } from './dns-learned.js';
import { DnsScreen } from './dns-screen.js';
import { cnameChain, parseDnsMessage, type DnsMessage } from './dns-message.js';
import { entryDetail, entryDialect, entryLabel, joinProvenance, ruleLabel, type IntelFinding } from './intel.js';

export const DNS_PORT = 53;
const MAX_PENDING = 16;
const MAX_RECENT = 4096;
const RCODE_NXDOMAIN = 3;

interface PendingQuery {
  id: number;
  question: string;
  tsMicros: number;
  client: Direction;
}

/** Per-flow state of a DNS conversation (flow.app of UDP port-53 flows). */
export class DnsFlowState {
  readonly pending: PendingQuery[] = [];
  constructor(readonly set: SignatureSet) {}
}

/** Where a hit's pool side goes: an answered address, or the unspecified address (port 0). */
export interface PoolSide {
  ip: string;
  port: number;
}

export type IntelSink = (flow: Flow, minerSide: Direction, f: IntelFinding, tsMicros: number, pool?: PoolSide) => void;

/** The engine's DNS counters (DetectStats), which the watcher keeps up to date. */
export interface DnsCounters {
  /** Messages read: screened out (counted by the screen's caller) or parsed here. */
  dnsMessages: number;
  dnsLearned: number;
}

export class DnsWatcher {
  readonly learned = new LearnedEndpoints();
  /** The cheap first look every DNS message gets, over UDP or TCP (dns-screen.ts). */
  readonly screen = new DnsScreen();
  /** Querier|name → capture time of the last dns.query hit, for the repeat window. */
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly emit: IntelSink,
    private readonly counters: DnsCounters,
  ) {}

  /** A message that may name a listed pool (it passed the screen): parsed in full. */
  onDatagram(flow: Flow, st: DnsFlowState, dir: Direction, buf: Buffer, offset: number, length: number, ts: number): void {
    const msg = parseDnsMessage(buf, offset, offset + length);
    if (!msg || msg.question === undefined) return;
    this.counters.dnsMessages++;
    if (!msg.response) {
      if (st.pending.length < MAX_PENDING) st.pending.push({ id: msg.id, question: msg.question, tsMicros: ts, client: dir });
      return;
    }
    const at = st.pending.findIndex((p) => p.id === msg.id && p.question === msg.question);
    if (at >= 0) st.pending.splice(at, 1);
    this.answer(flow, st.set, (1 - dir) as Direction, msg, ts);
  }

  /** Queries never answered: evidence with the pool address unknown. */
  onFlowEnd(flow: Flow, st: DnsFlowState): void {
    for (const p of st.pending) {
      const entry = st.set.pools.matchName(p.question);
      if (entry) this.queryEvidence(flow, st.set, p.client, p.question, p.question, entry, [], p.tsMicros, 'unanswered');
    }
    st.pending.length = 0;
  }

  private answer(flow: Flow, set: SignatureSet, client: Direction, msg: DnsMessage, ts: number): void {
    const chain = cnameChain(msg);
    let name: string | undefined;
    let entry: PoolEntry | null = null;
    for (const n of chain) {
      entry = set.pools.matchName(n);
      if (entry) {
        name = n;
        break;
      }
    }
    if (!entry || name === undefined) return;
    const records = msg.answers.filter((a) => a.address !== undefined && chain.includes(a.name));
    const learn = set.protocols.rule('dns.learn');
    if (learn && (learn.types === null || learn.types.includes(entry.tags.type))) {
      const limits = {
        ttlFloorSeconds: learn.params.get('ttl-floor') ?? 0,
        ttlCapSeconds: learn.params.get('ttl-cap') ?? 86400,
        maxEntries: learn.params.get('max-entries') ?? 65536,
      };
      for (const r of records) this.learned.learn(r.address!, name, msg.question!, entry, r.ttl, ts, limits);
      this.counters.dnsLearned += records.length;
    }
    const status = msg.rcode === RCODE_NXDOMAIN ? 'NXDOMAIN' : records.length === 0 ? 'no address' : undefined;
    this.queryEvidence(flow, set, client, msg.question!, name, entry, chain.length > 1 ? chain.slice(1) : [], ts, status, records.map((r) => r.address!));
  }

  private queryEvidence(
    flow: Flow,
    set: SignatureSet,
    client: Direction,
    question: string,
    name: string,
    entry: PoolEntry,
    cnames: string[],
    ts: number,
    status?: string,
    addresses: string[] = [],
  ): void {
    const rule = set.protocols.rule('dns.query');
    if (!rule) return;
    const key = `${flow.addr[client]}|${question}`;
    const last = this.recent.get(key);
    const repeatMicros = (rule.params.get('repeat-seconds') ?? 0) * 1e6;
    if (last !== undefined && ts - last < repeatMicros) return;
    this.recent.delete(key);
    this.recent.set(key, ts);
    if (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.keys().next().value!);
    const finding: IntelFinding = {
      kind: 'dns.query',
      dialect: entryDialect(entry),
      confidence: rule.confidence,
      detector: 'dns',
      provenance: joinProvenance('dns', entryLabel(entry), ruleLabel(rule)),
      poolHost: name,
      detail: entryDetail(
        entry,
        `query ${question}`,
        cnames.length ? `cname ${cnames.join(' > ')}` : undefined,
        addresses.length ? `answer ${addresses.slice(0, 8).join(',')}` : undefined,
        status,
      ),
    };
    // The pool side of a DNS hit is the address the name resolved to (port unknown: 0).
    const pool: PoolSide = { ip: addresses[0] ?? (flow.ipVersion === 6 ? '::' : '0.0.0.0'), port: 0 };
    this.emit(flow, client, finding, ts, pool);
  }
}
