/**
 * The detection engine: consumes reassembled TCP streams, frames each direction as JSON
 * lines or HTTP messages, offers every message to the detectors, decides which side is
 * the miner from what they find, and emits Evidence.
 *
 * Beyond the payload it reads what survives encryption: TLS hellos (SNI, JA3/JA4), the HTTP
 * Host, DNS answers that teach pool addresses, the Stratum V2 handshake shape, and flows to
 * listed or DNS-learned pool endpoints (see dns.ts, tls.ts, http-host.ts, sv2.ts,
 * endpoint.ts); the signature set in force when a flow starts decides what counts.
 *
 * WebSocket: a GET with `Upgrade: websocket` keeps its direction for RFC 6455 frames after
 * the head, a 101 answer switches the server's direction likewise (websocket.ts); each text
 * message's JSON lines go through the same gate and detectors as raw lines, and the
 * findings say "over websocket" in their detail. Every other GET switches its direction off.
 *
 * Cost control: a direction whose first byte is neither '{', an HTTP token nor a TLS
 * handshake is dropped at once; a line is parsed only when it carries a "method"/"result"
 * key (over WebSocket also "type"/"identifier", the browser miners' keys); a flow that
 * shows no mining within its probe budget stops being inspected (flow.inspect = false), so
 * the flow table stops reassembling it. Pool endpoints are looked up once per flow, never
 * per packet. Only flows to pool endpoints whose payload cannot be read stay inspected
 * (cheaply) until their sustained-flow rule decides.
 *
 * This file wires the parts and holds the StreamHandler entry points:
 * - flow-state.ts: per-flow and per-direction state, framing modes, the probe budget;
 * - frame-probe.ts: which framing a direction speaks;
 * - frame-lines.ts, frame-http.ts, frame-websocket.ts, frame-tls.ts: one file per framing;
 * - detectors.ts: the detector lists, parsing a framed message and offering it to them;
 * - verdict.ts: weak/strong findings, settling, dialect refinement, evidence caps, Evidence;
 * - flow-intel.ts: SV2 flights, sustained and payload-less flows to pool endpoints, HTTP Host;
 * - engine-context.ts: options, counters and the context the framing functions share.
 */
import { IPPROTO_TCP } from '../decode/types.js';
import { DATAGRAM_DELIVER, DATAGRAM_LET_GO, DATAGRAM_SKIP, type Direction, type Flow, type FlowEndReason, type StreamHandler } from '../flow/types.js';
import { fixedSignatures, ReloadableSignatures, SignatureLoadError, type SignatureReloadTarget, type SignatureSource } from '../signatures/reloadable.js';
import { countsText, loadSignatureDir, payloadOnlySignatures, shippedSignatureDir, SignatureSet } from '../signatures/signature-set.js';
import type { MessageObserver } from './dialect.js';
import { DNS_PORT, DnsFlowState, DnsWatcher } from './dns.js';
import { SCREEN_MAYBE_POOL, SCREEN_NO_POOL } from './dns-screen.js';
import { findPoolEndpoint } from './endpoint.js';
import { DEFAULT_ENGINE_OPTIONS, newDetectStats, type DetectStats, type EngineContext, type EngineOptions } from './engine-context.js';
import { checkSustained, countFlight, payloadlessFlowEnd, startSv2Checks } from './flow-intel.js';
import { clearCarries, FlowInspection, maybeBypass, Mode } from './flow-state.js';
import { CarryBudget } from './framing.js';
import { feedDnsStream } from './frame-dns-stream.js';
import { feedHttp } from './frame-http.js';
import { feedLines } from './frame-lines.js';
import { probe } from './frame-probe.js';
import { feedTls } from './frame-tls.js';
import { feedWebSocket, stopWebSocket } from './frame-websocket.js';
import type { EvidenceSink } from './types.js';
import { Verdict } from './verdict.js';

export { HTTP_DETECTORS, JSON_DETECTORS } from './detectors.js';
export { DEFAULT_ENGINE_OPTIONS, type DetectStats, type EngineOptions } from './engine-context.js';

/** The signatures ask for DNS evidence or learning (DNS datagrams are read at all). */
export function dnsWanted(set: SignatureSet): boolean {
  return set.pools.hasNames && (set.protocols.rule('dns.query') !== undefined || set.protocols.rule('dns.learn') !== undefined);
}

export class DetectionEngine implements StreamHandler, SignatureReloadTarget {
  readonly stats: DetectStats = newDetectStats();
  /** Acceptance, settling and emission of findings; holds the confirmed flows still unsettled. */
  private readonly verdict: Verdict;
  /** Handed to the framing functions on every call (built once, never per packet). */
  private readonly cx: EngineContext;
  /** DNS evidence and the pool addresses learned from answers (kept across reloads). */
  readonly dns: DnsWatcher;
  private signatures: SignatureSource;
  /** Successful reloads since start. */
  signatureReloads = 0;
  /** dnsWanted of the set last asked about (asked per port-53 datagram: two rule lookups). */
  private dnsAskedOf: SignatureSet | null = null;
  private dnsAnswer = false;

  constructor(
    sink: EvidenceSink,
    opts: Partial<EngineOptions> = {},
    observers: readonly MessageObserver[] = [],
    /** Default: the method and marker rules alone (payload detectors, no lists). */
    signatures?: SignatureSource | SignatureSet,
  ) {
    const options: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...opts };
    this.signatures = signatures === undefined ? fixedSignatures(payloadOnlySignatures()) : signatures instanceof SignatureSet ? fixedSignatures(signatures) : signatures;
    this.verdict = new Verdict(sink, this.stats, options.maxEvidencePerFlow, observers);
    this.cx = { opts: options, stats: this.stats, verdict: this.verdict, carries: new CarryBudget(options.maxCarryBytesTotal, this.stats) };
    this.dns = new DnsWatcher((flow, minerSide, f, ts, pool) => this.verdict.emitIntel(flow, null, minerSide, f, ts, pool), this.stats);
  }

  /** Bytes the carries of all flows hold now (partial lines, heads, messages); at most
   *  EngineOptions.maxCarryBytesTotal. */
  get carryBytesHeld(): number {
    return this.cx.carries.held;
  }

  /** Written into every Evidence.source; the sensor sets it per input. */
  get source(): string {
    return this.verdict.source;
  }

  set source(source: string) {
    this.verdict.source = source;
  }

  /** The signature set new flows start with. */
  get signatureSet(): SignatureSet {
    return this.signatures.current;
  }

  /**
   * Loads a signature folder (null: the one in use, else the shipped one) and swaps it in for
   * the flows that start from now on; DNS-learned pool addresses are kept. Throws
   * SignatureLoadError, with every problem as file:line, and keeps the set in force when
   * anything is wrong. This is what the live daemon calls on SIGHUP.
   */
  reloadSignatures(dir: string | null = null): string {
    const source = this.signatures;
    if (source instanceof ReloadableSignatures && (dir === null || dir === source.dir)) {
      const outcome = source.reload();
      if (!outcome.ok) throw new SignatureLoadError(source.dir, outcome.problems);
      this.signatureReloads++;
      return `signatures reloaded from ${source.dir}: ${countsText(outcome.counts)}`;
    }
    const target = dir ?? (source.current.dir || shippedSignatureDir());
    const result = loadSignatureDir(target);
    if (!result.set) throw new SignatureLoadError(target, result.problems);
    this.signatures = fixedSignatures(result.set);
    this.signatureReloads++;
    const notes = result.notes.length ? ` (${result.notes.join('; ')})` : '';
    return `signatures reloaded from ${target}: ${countsText(result.counts)}${notes}`;
  }

  /** The flow table should report flows that never carried payload (rule endpoint.syn). */
  get wantsPayloadlessFlows(): boolean {
    return this.signatures.current.protocols.rule('endpoint.syn') !== undefined;
  }

  onData(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void {
    let st = flow.app as FlowInspection | undefined;
    if (st === undefined) {
      st = this.startFlow(flow, dir, buf, offset, length, tsMicros);
    }
    const cx = this.cx;
    if (st.flights) countFlight(cx, flow, st, dir, length, tsMicros);
    if (st.watch) {
      checkSustained(cx, flow, st, tsMicros);
      return;
    }
    const d = st.dirs[dir];
    if (d.mode === Mode.Off) return;
    d.inspected += length;
    const end = offset + length;
    if (d.mode === Mode.Probe) probe(flow, st, d, buf, offset, end);
    if (d.mode === Mode.Lines) feedLines(cx, flow, st, d, dir, buf, offset, end, tsMicros);
    else if (d.mode === Mode.Http) feedHttp(cx, flow, st, d, dir, buf, offset, end, tsMicros);
    else if (d.mode === Mode.Tls) feedTls(cx, flow, st, d, dir, buf, offset, end, tsMicros);
    else if (d.mode === Mode.WebSocket) feedWebSocket(cx, flow, st, d, dir, buf, offset, end, tsMicros);
    else if (d.mode === Mode.DnsStream) feedDnsStream(cx, this.dns, flow, st, d, dir, buf, offset, end, tsMicros);
    if (flow.app === st) maybeBypass(cx, flow, st);
  }

  /**
   * UDP is read only for DNS on port 53, and only the datagrams whose question or CNAME
   * targets might name a listed pool (a hash check in place, dns-screen.ts); the rest are
   * counted and skipped before any Flow object or string exists. Other UDP flows are let go.
   */
  screenDatagram(srcPort: number, dstPort: number, buf: Buffer, offset: number, length: number, screened = -1): number {
    if (srcPort !== DNS_PORT && dstPort !== DNS_PORT) return DATAGRAM_LET_GO;
    const set = this.signatures.current;
    if (!this.wantsDns(set)) return DATAGRAM_LET_GO;
    const seen = screened >= 0 ? screened : this.dns.screen.screen(buf, offset, offset + length, set.pools.nameHashes);
    if (seen === SCREEN_MAYBE_POOL) return DATAGRAM_DELIVER;
    if (seen === SCREEN_NO_POOL) this.stats.dnsMessages++;
    return DATAGRAM_SKIP;
  }

  private wantsDns(set: SignatureSet): boolean {
    if (set !== this.dnsAskedOf) {
      this.dnsAskedOf = set;
      this.dnsAnswer = dnsWanted(set);
    }
    return this.dnsAnswer;
  }

  /** A DNS datagram that passed screenDatagram: parsed in full, evidence and learning. */
  onDatagram(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void {
    let st = flow.app as DnsFlowState | undefined;
    if (st === undefined) {
      const set = this.signatures.current;
      if ((flow.port[0] !== DNS_PORT && flow.port[1] !== DNS_PORT) || !this.wantsDns(set)) {
        flow.inspect = false;
        return;
      }
      st = new DnsFlowState(set);
      flow.app = st;
    }
    this.dns.onDatagram(flow, st, dir, buf, offset, length, tsMicros);
  }

  /**
   * A flow's first payload: its signature set, its pool endpoint (one lookup), and the
   * plaintext Stratum V2 / handshake-shape checks that need the very first bytes.
   */
  private startFlow(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, ts: number): FlowInspection {
    const set = this.signatures.current;
    const st = new FlowInspection(set, this.cx.carries);
    flow.app = st;
    this.stats.flowsInspected++;
    if (flow.protocol === IPPROTO_TCP && (flow.port[0] === DNS_PORT || flow.port[1] === DNS_PORT) && this.wantsDns(set)) {
      // DNS over TCP: both directions are length-prefixed messages, nothing else is read.
      st.dirs[0].mode = Mode.DnsStream;
      st.dirs[1].mode = Mode.DnsStream;
      return st;
    }
    st.pool = findPoolEndpoint(flow, set, this.dns.learned, ts);
    if (dir === 0 && flow.sawSyn) startSv2Checks(this.cx, flow, st, buf, offset, offset + length, ts);
    return st;
  }

  /**
   * A flow never given payload matters at its end only to the lone-SYN rule, and only when
   * some pool address is known (listed, or learned from DNS): otherwise its end needs no Flow.
   */
  wantsUnseenFlowEnd(): boolean {
    const set = this.signatures.current;
    return set.protocols.rule('endpoint.syn') !== undefined && (set.pools.hasAddresses || this.dns.learned.size > 0);
  }

  onGap(flow: Flow, dir: Direction): void {
    const st = flow.app as FlowInspection | undefined;
    if (!st) return;
    const d = st.dirs[dir];
    d.carry.clear();
    if (d.mode === Mode.Lines) d.skipLine = true;
    else if (d.mode === Mode.Http || d.mode === Mode.WebSocket) {
      d.mode = Mode.Off; // HTTP and WebSocket framing cannot be recovered reliably
      stopWebSocket(d);
    }
  }

  onFlowEnd(flow: Flow, _reason: FlowEndReason): void {
    const app = flow.app;
    flow.app = undefined;
    if (app instanceof DnsFlowState) {
      this.dns.onFlowEnd(flow, app);
      return;
    }
    const st = app as FlowInspection | undefined;
    if (st) clearCarries(st);
    if (st?.dns) this.dns.onFlowEnd(flow, st.dns); // DNS over TCP: queries never answered
    if (st?.confirmed) {
      this.verdict.flowEnd(flow, st, _reason);
    } else if (st?.watch) {
      checkSustained(this.cx, flow, st, flow.lastSeenMicros);
    } else if (st === undefined && flow.protocol === IPPROTO_TCP && flow.bytes[0] + flow.bytes[1] === 0) {
      payloadlessFlowEnd(this.cx, this.signatures.current, this.dns.learned, flow);
    }
  }

  /**
   * Settles confirmed flows that went quiet while holding findings, so a live sensor
   * stores them within seconds even if no further message arrives. `nowMicros` is on the
   * capture clock (live: wall time).
   */
  tick(nowMicros: number): void {
    this.verdict.tick(nowMicros);
  }
}
