/**
 * What the engine makes of findings: weak findings wait for a strong one on the same flow,
 * the strong one confirms the flow and names the miner's side, confirmed findings are held
 * until the flow settles so they carry the dialect later messages reveal, and each flow's
 * evidence is deduplicated and capped before it becomes an Evidence row. Observers see the
 * messages of confirmed flows only. One Verdict per engine.
 */
import { IPPROTO_UDP } from '../decode/types.js';
import type { Direction, Flow, FlowEndReason } from '../flow/types.js';
import { originText } from '../signatures/types.js';
import type { Finding, JsonMessage, MessageObserver } from './dialect.js';
import type { PoolSide } from './dns.js';
import type { DetectStats } from './engine-context.js';
import type { FlowInspection } from './flow-state.js';
import { entryLabel, joinProvenance, type IntelFinding } from './intel.js';
import type { Evidence, EvidenceSink } from './types.js';

const MAX_PENDING = 8;
/** A confirmed flow settles after this many findings or this much capture time. */
const SETTLE_MESSAGES = 8;
const SETTLE_MICROS = 5_000_000;
const MAX_HELD = 32;
/** Generic family names that a later message may refine. */
const REFINABLE: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['stratum', new Set(['ethstratum1', 'ethstratum2'])],
  ['cryptonote', new Set(['grin'])],
]);

export class Verdict {
  /** Written into every Evidence.source; the sensor sets it per input. */
  source = '';
  /** Confirmed flows still holding findings (see tick). */
  private readonly unsettled = new Set<Flow>();

  constructor(
    private readonly sink: EvidenceSink,
    private readonly stats: DetectStats,
    private readonly maxEvidencePerFlow: number,
    private readonly observers: readonly MessageObserver[],
  ) {}

  /**
   * Weak findings wait for a strong one on the same flow; strong ones confirm the flow.
   * Confirmed findings are held until the flow settles (a few messages or seconds later,
   * or its end), so they carry the dialect and algorithm the later messages reveal (the
   * Kaspa or ES1 subscribe result, a Grin job) rather than the generic family name.
   */
  accept(flow: Flow, st: FlowInspection, dir: Direction, f: Finding, ts: number): void {
    if (!st.confirmed) {
      if (!f.strong) f = this.knownMinerAgent(st, f);
      if (!f.strong) {
        if (st.pending.length < MAX_PENDING) st.pending.push({ finding: f, dir, tsMicros: ts });
        return;
      }
      st.confirmed = true;
      st.confirmedAt = ts;
      st.minerSide = (f.sender === 'miner' ? dir : 1 - dir) as Direction;
      this.stats.flowsConfirmed++;
      this.unsettled.add(flow);
    }
    if (st.settled) {
      this.emit(flow, st, f, ts);
      return;
    }
    if (st.pending.length < MAX_HELD) st.pending.push({ finding: f, dir, tsMicros: ts });
    if (st.pending.length >= SETTLE_MESSAGES || ts - st.confirmedAt >= SETTLE_MICROS) this.settle(flow, st);
  }

  /**
   * Settles confirmed flows that went quiet while holding findings, so a live sensor
   * stores them within seconds even if no further message arrives. `nowMicros` is on the
   * capture clock (live: wall time).
   */
  tick(nowMicros: number): void {
    for (const flow of this.unsettled) {
      const st = flow.app as FlowInspection | undefined;
      if (!st) this.unsettled.delete(flow);
      else if (nowMicros - st.confirmedAt >= SETTLE_MICROS) this.settle(flow, st);
    }
  }

  /** A confirmed flow left the table: what it still holds is emitted, the observers are told. */
  flowEnd(flow: Flow, st: FlowInspection, reason: FlowEndReason): void {
    if (!st.settled) this.settle(flow, st);
    this.unsettled.delete(flow);
    for (const o of this.observers) o.onFlowEnd(flow, reason);
  }

  /** Emits the held findings of a confirmed flow with what the flow has revealed since. */
  private settle(flow: Flow, st: FlowInspection): void {
    st.settled = true;
    this.unsettled.delete(flow);
    for (const p of st.pending) this.emit(flow, st, p.finding, p.tsMicros);
    st.pending = [];
  }

  /**
   * A parsed message after the detectors had it: observers see it once the flow is
   * confirmed, preceded by the messages held from before the confirmation.
   */
  observeOrHold(flow: Flow, st: FlowInspection, msg: JsonMessage, dir: Direction, ts: number): void {
    if (this.observers.length === 0) return;
    if (!st.confirmed) {
      if (st.held.length < MAX_PENDING) st.held.push({ msg, dir, tsMicros: ts });
      return;
    }
    if (st.held.length > 0) {
      const held = st.held;
      st.held = [];
      for (const h of held) this.observe(flow, st, h.msg, h.dir, h.tsMicros);
    }
    this.observe(flow, st, msg, dir, ts);
  }

  private observe(flow: Flow, st: FlowInspection, msg: JsonMessage, dir: Direction, ts: number): void {
    const at = { dir, minerSide: st.minerSide, facts: st.facts, tsMicros: ts, source: this.source };
    for (const o of this.observers) o.onMessage(flow, msg, at);
  }

  private emit(flow: Flow, st: FlowInspection, f: Finding, ts: number): void {
    const refined = st.facts.dialect;
    const dialect = refined !== undefined && REFINABLE.get(f.dialect)?.has(refined) ? refined : f.dialect;
    const algo = f.algo ?? st.facts.algo;
    if (!this.admit(st, `${dialect}|${f.kind}|${f.agent ?? ''}|${f.login ?? ''}|${f.worker ?? ''}|${f.poolHost ?? ''}`)) return;
    this.stats.evidence++;
    const m = st.minerSide;
    const p = (1 - m) as Direction;
    const agentRule = f.agent === undefined ? null : st.set.agents.match(f.agent);
    const pool = st.pool?.side === p ? st.pool : null;
    const e: Evidence = {
      tsMicros: ts,
      minerIp: flow.addr[m],
      minerPort: flow.port[m],
      poolIp: flow.addr[p],
      poolPort: flow.port[p],
      transport: 'tcp',
      dialect,
      kind: f.kind,
      confidence: f.confidence ?? 'high',
      detector: f.detector,
      source: this.source,
      provenance: joinProvenance(
        f.detector,
        f.provenance,
        agentRule ? `${originText(agentRule.origin)} ${agentRule.miner}` : undefined,
        pool ? (pool.learned ? `${entryLabel(pool.entry)} (dns-learned: ${pool.learned.question})` : entryLabel(pool.entry)) : undefined,
      ),
    };
    if (f.agent !== undefined) e.agent = f.agent;
    if (f.worker !== undefined) e.worker = f.worker;
    if (f.login !== undefined) e.login = f.login;
    if (f.wallet !== undefined) e.wallet = f.wallet;
    if (algo !== undefined) e.algo = algo;
    // Through an HTTP CONNECT proxy the flow's far end is the proxy: the pool is its target.
    const proxied = st.proxyTarget !== null ? hostOf(st.proxyTarget) : undefined;
    const poolHost = f.poolHost ?? proxied ?? pool?.learned?.name;
    if (poolHost !== undefined) e.poolHost = poolHost;
    const detail = st.proxyTarget !== null ? [f.detail, `via HTTP proxy CONNECT ${st.proxyTarget}`].filter(Boolean).join('; ') : f.detail;
    if (detail !== undefined) e.detail = detail;
    this.sink(e);
  }

  /**
   * Per-flow deduplication and cap: true when the flow has not emitted `key` yet and is
   * under maxEvidencePerFlow (then the key and the row are counted against the flow).
   */
  private admit(st: FlowInspection, key: string): boolean {
    if (st.emitted?.has(key)) return false;
    if (st.evidence >= this.maxEvidencePerFlow) {
      this.stats.evidenceCapped++;
      return false;
    }
    (st.emitted ??= new Set()).add(key);
    st.evidence++;
    return true;
  }

  /** A weak finding whose agent is a known miner's counts, at the rule's confidence. */
  private knownMinerAgent(st: FlowInspection, f: Finding): Finding {
    const rule = st.set.protocols.rule('agent.known-miner');
    const agent = rule && f.agent !== undefined ? st.set.agents.match(f.agent) : null;
    if (!rule || !agent) return f;
    return { ...f, strong: true, confidence: rule.confidence, provenance: joinProvenance(f.provenance, `${originText(rule.origin)} rule ${rule.name}`) };
  }

  /** Evidence from beyond the payload; `st` is null for flows already released. */
  emitIntel(flow: Flow, st: FlowInspection | null, minerSide: Direction, f: IntelFinding, ts: number, pool?: PoolSide): void {
    if (st && !this.admit(st, `intel|${f.kind}|${f.poolHost ?? ''}`)) return;
    this.stats.evidence++;
    this.stats.intelEvidence++;
    const m = minerSide;
    const p = (1 - m) as Direction;
    const e: Evidence = {
      tsMicros: ts,
      minerIp: flow.addr[m],
      minerPort: flow.port[m],
      poolIp: pool ? pool.ip : flow.addr[p],
      poolPort: pool ? pool.port : flow.port[p],
      transport: flow.protocol === IPPROTO_UDP ? 'udp' : 'tcp',
      dialect: f.dialect,
      kind: f.kind,
      confidence: f.confidence,
      detector: f.detector,
      source: this.source,
      provenance: f.provenance,
    };
    if (f.agent !== undefined) e.agent = f.agent;
    if (f.poolHost !== undefined) e.poolHost = f.poolHost;
    if (f.detail !== undefined) e.detail = f.detail;
    this.sink(e);
  }
}

/** The host of a CONNECT target ("host:port" or "[v6]:port"). */
function hostOf(target: string): string {
  if (target.startsWith('[')) return target.slice(1, Math.max(1, target.indexOf(']')));
  const colon = target.lastIndexOf(':');
  return colon > 0 ? target.slice(0, colon) : target;
}
