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
 */
import type { Direction, Flow, FlowEndReason, StreamHandler } from '../flow/types.js';
import { fixedSignatures, ReloadableSignatures, SignatureLoadError, type SignatureReloadTarget, type SignatureSource } from '../signatures/reloadable.js';
import { countsText, loadSignatureDir, payloadOnlySignatures, shippedSignatureDir, SignatureSet } from '../signatures/signature-set.js';
import { originText } from '../signatures/types.js';
import { beamDetector } from './beam.js';
import { browserMinerDetector, hasBrowserMinerKey } from './browser-miner.js';
import { DNS_PORT, DnsFlowState, DnsWatcher, type PoolSide } from './dns.js';
import { findPoolEndpoint, payloadlessEvidence, sustainedEvidence, type PoolEndpointMatch } from './endpoint.js';
import { httpHostEvidence } from './http-host.js';
import { entryLabel, joinProvenance, type IntelFinding } from './intel.js';
import { FlightCounter, noiseShapeEvidence, parseSetupConnection, setupConnectionEvidence } from './sv2.js';
import { HANDSHAKE_CLIENT_HELLO, parseClientHello, parseServerHello } from './tls-hello.js';
import { firstHandshake, MAX_HELLO_BYTES, startsTlsHandshake } from './tls-records.js';
import { tlsClientEvidence, tlsFacts, type TlsFacts } from './tls.js';
import { cryptonoteDetector } from './cryptonote.js';
import type {
  Finding,
  FlowFacts,
  HttpDetector,
  HttpHead,
  JsonDetector,
  JsonMessage,
  MessageContext,
  MessageObserver,
} from './dialect.js';
import { ethproxyDetector } from './ethproxy.js';
import { Carry, findHeadEnd, hasGateKey, indexOfByte, skipSpace, startsHttp, trimEnd } from './framing.js';
import { parseHttpHead } from './http-head.js';
import { getworkBodyDetector, hasMiningHeaders, httpGetworkDetector } from './http-getwork.js';
import { stratumDetector } from './stratum.js';
import type { Evidence, EvidenceSink } from './types.js';
import { isWebSocketAccept, isWebSocketRequest, WebSocketReader, WsEvent, type WebSocketCounters } from './websocket.js';
import { portInRanges } from '../signatures/protocols.js';

export const JSON_DETECTORS: readonly JsonDetector[] = [
  stratumDetector,
  cryptonoteDetector,
  ethproxyDetector,
  beamDetector,
  getworkBodyDetector,
  browserMinerDetector,
];
export const HTTP_DETECTORS: readonly HttpDetector[] = [httpGetworkDetector];

export interface EngineOptions {
  /** Longest JSON line kept across segments (an Equihash submit is ~2.8 kB). */
  maxLineBytes: number;
  /** Payload bytes per direction inspected before a flow with no mining is dropped. */
  probeBytes: number;
  /** JSON messages parsed on a flow before a flow with no mining is dropped. */
  probeMessages: number;
  /** Evidence rows a single flow may produce (new kinds and identities only). */
  maxEvidencePerFlow: number;
  maxHttpHeadBytes: number;
  maxHttpBodyBytes: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  maxLineBytes: 64 * 1024,
  probeBytes: 64 * 1024,
  probeMessages: 64,
  maxEvidencePerFlow: 64,
  maxHttpHeadBytes: 16 * 1024,
  maxHttpBodyBytes: 256 * 1024,
};

export interface DetectStats extends WebSocketCounters {
  flowsInspected: number;
  flowsConfirmed: number;
  /** Flows dropped from inspection after showing no mining. */
  flowsBypassed: number;
  messagesParsed: number;
  jsonErrors: number;
  /** JSON lines over maxLineBytes (WebSocket text messages: wsOversizeMessages). */
  oversizeLines: number;
  httpMessages: number;
  evidence: number;
  /** Evidence not emitted because a flow hit maxEvidencePerFlow. */
  evidenceCapped: number;
  /** Evidence from beyond the payload (DNS, TLS, HTTP Host, endpoints, SV2 shape). */
  intelEvidence: number;
  tlsHellos: number;
  dnsMessages: number;
  /** Pool addresses learned from DNS answers (including re-learned ones). */
  dnsLearned: number;
}

const enum Mode {
  Probe,
  Lines,
  Http,
  /** Collecting the first TLS handshake message (ClientHello / ServerHello). */
  Tls,
  /** RFC 6455 frames after an Upgrade handshake; text messages are read as JSON lines. */
  WebSocket,
  Off,
}

const enum HttpPhase {
  Head,
  Body,
  SkipBody,
}

class DirectionState {
  mode = Mode.Probe;
  /** Skip bytes until the next newline (after a gap, an oversize line, or a mid-stream start). */
  skipLine = false;
  inspected = 0;
  nonJsonLines = 0;
  readonly carry = new Carry();
  httpPhase = HttpPhase.Head;
  httpHead: HttpHead | null = null;
  bodyRemaining = 0;
  /** Frame reader, once the direction has switched to WebSocket. */
  ws: WebSocketReader | null = null;
}

interface HeldMessage {
  msg: JsonMessage;
  dir: Direction;
  tsMicros: number;
}

interface PendingFinding {
  finding: Finding;
  dir: Direction;
  tsMicros: number;
}

class FlowInspection {
  constructor(
    /** The signature set in force when the flow started; the flow keeps it to its end. */
    readonly set: SignatureSet,
  ) {}

  readonly facts: FlowFacts = {};
  /** The listed or DNS-learned pool endpoint the flow talks to, looked up once at its start. */
  pool: PoolEndpointMatch | null = null;
  /** Some message of the flow could be read (a JSON line or an HTTP head). */
  readable = false;
  tls: TlsFacts | null = null;
  /** First-flight byte counts while the Stratum V2 handshake shape is undecided. */
  flights: FlightCounter | null = null;
  /** Unreadable flow to a pool endpoint, kept for its sustained-flow rule. */
  watch = false;
  /** A flow-level hit (TLS SNI, sustained endpoint, SV2) was emitted: no second one. */
  flowHit = false;
  confirmed = false;
  /** Side (0/1) that is the miner, once confirmed. */
  minerSide: Direction = 0;
  parsed = 0;
  evidence = 0;
  /** Findings waiting for confirmation (weak) or for the flow to settle (confirmed). */
  pending: PendingFinding[] = [];
  confirmedAt = 0;
  settled = false;
  /** Messages parsed before the flow was confirmed, replayed to observers on confirmation. */
  held: HeldMessage[] = [];
  emitted = new Set<string>();

  readonly dirs: [DirectionState, DirectionState] = [new DirectionState(), new DirectionState()];
}

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
const MAX_NON_JSON_LINES = 4;
/** Appended to the detail of findings from messages that came in WebSocket frames. */
const OVER_WEBSOCKET = 'over websocket';

function toMessage(obj: Record<string, unknown>, overHttp: boolean): JsonMessage {
  return {
    obj,
    method: typeof obj.method === 'string' ? obj.method : undefined,
    id: obj.id,
    params: obj.params,
    result: obj.result,
    error: obj.error,
    overHttp,
  };
}

export class DetectionEngine implements StreamHandler, SignatureReloadTarget {
  readonly stats: DetectStats = {
    flowsInspected: 0,
    flowsConfirmed: 0,
    flowsBypassed: 0,
    messagesParsed: 0,
    jsonErrors: 0,
    oversizeLines: 0,
    httpMessages: 0,
    evidence: 0,
    evidenceCapped: 0,
    intelEvidence: 0,
    tlsHellos: 0,
    dnsMessages: 0,
    dnsLearned: 0,
    wsTextMessages: 0,
    wsBinaryMessages: 0,
    wsCompressedMessages: 0,
    wsOversizeMessages: 0,
    wsViolations: 0,
  };
  /** Confirmed flows still holding findings (see tick). */
  private readonly unsettled = new Set<Flow>();
  /** Written into every Evidence.source; the sensor sets it per input. */
  source = '';
  private readonly opts: EngineOptions;
  /** DNS evidence and the pool addresses learned from answers (kept across reloads). */
  readonly dns: DnsWatcher;
  private signatures: SignatureSource;
  /** Successful reloads since start. */
  signatureReloads = 0;

  constructor(
    private readonly sink: EvidenceSink,
    opts: Partial<EngineOptions> = {},
    private readonly observers: readonly MessageObserver[] = [],
    /** Default: the method and marker rules alone (payload detectors, no lists). */
    signatures?: SignatureSource | SignatureSet,
  ) {
    this.opts = { ...DEFAULT_ENGINE_OPTIONS, ...opts };
    this.signatures = signatures === undefined ? fixedSignatures(payloadOnlySignatures()) : signatures instanceof SignatureSet ? fixedSignatures(signatures) : signatures;
    this.dns = new DnsWatcher((flow, minerSide, f, ts, pool) => this.emitIntel(flow, null, minerSide, f, ts, pool));
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
    if (st.flights) this.countFlight(flow, st, dir, length, tsMicros);
    if (st.watch) {
      this.checkSustained(flow, st, tsMicros);
      return;
    }
    const d = st.dirs[dir];
    if (d.mode === Mode.Off) return;
    d.inspected += length;
    const end = offset + length;
    if (d.mode === Mode.Probe) this.probe(flow, st, d, buf, offset, end);
    if (d.mode === Mode.Lines) this.feedLines(flow, st, d, dir, buf, offset, end, tsMicros);
    else if (d.mode === Mode.Http) this.feedHttp(flow, st, d, dir, buf, offset, end, tsMicros);
    else if (d.mode === Mode.Tls) this.feedTls(flow, st, d, dir, buf, offset, end, tsMicros);
    else if (d.mode === Mode.WebSocket) this.feedWebSocket(flow, st, d, dir, buf, offset, end, tsMicros);
    if (flow.app === st) this.maybeBypass(flow, st);
  }

  /** One UDP datagram: DNS on port 53 is read; every other UDP flow is dropped at once. */
  onDatagram(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void {
    let st = flow.app as DnsFlowState | undefined;
    if (st === undefined) {
      const set = this.signatures.current;
      const wanted =
        (flow.port[0] === DNS_PORT || flow.port[1] === DNS_PORT) &&
        set.pools.hasNames &&
        (set.protocols.rule('dns.query') !== undefined || set.protocols.rule('dns.learn') !== undefined);
      if (!wanted) {
        flow.inspect = false;
        return;
      }
      st = new DnsFlowState(set);
      flow.app = st;
    }
    const before = this.dns.learned.learnedTotal;
    this.dns.onDatagram(flow, st, dir, buf, offset, length, tsMicros);
    this.stats.dnsMessages = this.dns.messages;
    this.stats.dnsLearned += this.dns.learned.learnedTotal - before;
  }

  /**
   * A flow's first payload: its signature set, its pool endpoint (one lookup), and the
   * plaintext Stratum V2 / handshake-shape checks that need the very first bytes.
   */
  private startFlow(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, ts: number): FlowInspection {
    const set = this.signatures.current;
    const st = new FlowInspection(set);
    flow.app = st;
    this.stats.flowsInspected++;
    st.pool = findPoolEndpoint(flow, set, this.dns.learned, ts);
    const rules = set.protocols;
    if (dir === 0 && flow.sawSyn) {
      const setupRule = rules.rule('sv2.setup');
      const setup = setupRule ? parseSetupConnection(buf, offset, offset + length) : null;
      if (setup && setupRule) {
        this.emitIntel(flow, st, 0, setupConnectionEvidence(setupRule, setup), ts);
        st.flowHit = true;
      }
      const noise = rules.rule('sv2.noise');
      if (noise && !st.flowHit) st.flights = new FlightCounter(noise.params.get('client-bytes') ?? 64, noise.params.get('server-bytes') ?? 234);
    }
    return st;
  }

  /** Stratum V2 handshake shape: decided when the client speaks a second time. */
  private countFlight(flow: Flow, st: FlowInspection, dir: Direction, length: number, ts: number): void {
    const flights = st.flights!;
    if (!flights.add(dir, length)) return;
    st.flights = null;
    const rule = st.set.protocols.rule('sv2.noise');
    if (!flights.matched || !rule || st.flowHit || st.readable) return;
    let finding: IntelFinding | null = null;
    if (st.pool) {
      finding = noiseShapeEvidence(rule, rule.confidence, `towards pool endpoint ${entryLabel(st.pool.entry)}`);
      finding.provenance = joinProvenance(finding.provenance, entryLabel(st.pool.entry));
      finding.dialect = 'sv2';
    } else if (portInRanges(flow.port[1], rule.ports)) {
      const level = rule.params.get('port-confidence');
      finding = noiseShapeEvidence(rule, level === undefined ? 'low' : (['low', 'medium', 'high'] as const)[level]!, `towards port ${flow.port[1]}`);
    }
    if (finding) {
      this.emitIntel(flow, st, 0, finding, ts);
      st.flowHit = true;
    }
  }

  /** A watched flow (unreadable, to a pool endpoint): a hit once the rule's thresholds are met. */
  private checkSustained(flow: Flow, st: FlowInspection, ts: number): void {
    const rule = st.set.protocols.rule('endpoint.sustained');
    if (!rule || !st.pool || st.flowHit) {
      this.release(flow, st);
      return;
    }
    const f = sustainedEvidence(flow, st.pool, rule, st.tls, ts);
    if (!f) return;
    this.emitIntel(flow, st, (1 - st.pool.side) as Direction, f, ts);
    st.flowHit = true;
    this.release(flow, st);
  }

  /** Stops delivering payload for a flow that needs nothing more. */
  private release(flow: Flow, st: FlowInspection): void {
    st.watch = false;
    if (st.confirmed) return;
    flow.inspect = false;
    flow.app = undefined;
  }

  onGap(flow: Flow, dir: Direction): void {
    const st = flow.app as FlowInspection | undefined;
    if (!st) return;
    const d = st.dirs[dir];
    d.carry.clear();
    if (d.mode === Mode.Lines) d.skipLine = true;
    else if (d.mode === Mode.Http || d.mode === Mode.WebSocket) {
      d.mode = Mode.Off; // HTTP and WebSocket framing cannot be recovered reliably
      d.ws = null;
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
    if (st?.confirmed) {
      if (!st.settled) this.settle(flow, st);
      this.unsettled.delete(flow);
      for (const o of this.observers) o.onFlowEnd(flow, _reason);
    } else if (st?.watch) {
      this.checkSustained(flow, st, flow.lastSeenMicros);
    } else if (st === undefined && flow.protocol === 6 && flow.bytes[0] + flow.bytes[1] === 0) {
      this.payloadlessFlowEnd(flow);
    }
  }

  /** A TCP flow that never carried payload: a low hit when it went to a pool endpoint. */
  private payloadlessFlowEnd(flow: Flow): void {
    const set = this.signatures.current;
    const rule = set.protocols.rule('endpoint.syn');
    if (!rule) return;
    const pool = findPoolEndpoint(flow, set, this.dns.learned, flow.firstSeenMicros);
    if (pool) this.emitIntel(flow, null, (1 - pool.side) as Direction, payloadlessEvidence(flow, pool, rule), flow.firstSeenMicros);
  }

  /** Decides how to frame a direction from its first payload bytes. */
  private probe(flow: Flow, st: FlowInspection, d: DirectionState, buf: Buffer, start: number, end: number): void {
    const i = skipSpace(buf, start, end);
    if (i >= end) return;
    if (buf[i] === 0x7b /* { */) d.mode = Mode.Lines;
    else if (startsHttp(buf, i, end)) d.mode = Mode.Http;
    else if (startsTlsHandshake(buf, start, end) && (st.set.protocols.rule('tls.sni') || st.set.tls.size > 0 || st.pool)) {
      d.mode = Mode.Tls;
    } else if (!flow.sawSyn) {
      // Picked up mid-stream: the first bytes may be the tail of a line. Resync at a newline.
      d.mode = Mode.Lines;
      d.skipLine = true;
    } else d.mode = Mode.Off;
  }

  private feedLines(
    flow: Flow,
    st: FlowInspection,
    d: DirectionState,
    dir: Direction,
    buf: Buffer,
    start: number,
    end: number,
    ts: number,
  ): void {
    let pos = start;
    while (pos < end && d.mode === Mode.Lines) {
      const nl = indexOfByte(buf, 0x0a, pos, end);
      if (nl < 0) {
        if (d.skipLine) return;
        if (!d.carry.append(buf, pos, end, this.opts.maxLineBytes)) {
          this.stats.oversizeLines++;
          d.skipLine = true;
        }
        return;
      }
      if (d.skipLine) {
        d.skipLine = false;
        d.carry.clear();
      } else if (d.carry.length > 0) {
        if (d.carry.append(buf, pos, nl, this.opts.maxLineBytes)) this.processLine(flow, st, d, dir, d.carry.buffer, 0, d.carry.length, ts);
        else this.stats.oversizeLines++;
        d.carry.clear();
      } else {
        this.processLine(flow, st, d, dir, buf, pos, nl, ts);
      }
      pos = nl + 1;
    }
  }

  private processLine(
    flow: Flow,
    st: FlowInspection,
    d: DirectionState,
    dir: Direction,
    buf: Buffer,
    start: number,
    end: number,
    ts: number,
    overWebSocket = false,
  ): void {
    start = skipSpace(buf, start, end);
    end = trimEnd(buf, start, end);
    if (start >= end) return;
    if (buf[start] !== 0x7b || buf[end - 1] !== 0x7d) {
      // Text protocols (SMTP banners, NATS verbs) are not JSON lines: give up on them fast.
      if (!st.confirmed && ++d.nonJsonLines > MAX_NON_JSON_LINES) d.mode = Mode.Off;
      return;
    }
    st.readable = true;
    // Once a flow is confirmed every line is parsed: share replies such as
    // {"id":2,"error":{…}} or ES2's bare {"id":40} carry neither gate key.
    if (!st.confirmed && !hasGateKey(buf, start, end) && !(overWebSocket && hasBrowserMinerKey(buf, start, end))) return;
    const obj = this.parse(buf, start, end);
    st.parsed++;
    if (obj) this.offer(flow, st, dir, toMessage(obj, false), ts, overWebSocket);
  }

  private parse(buf: Buffer, start: number, end: number): Record<string, unknown> | null {
    this.stats.messagesParsed++;
    try {
      const v: unknown = JSON.parse(buf.toString('utf8', start, end));
      if (v !== null && typeof v === 'object') {
        const o = Array.isArray(v) ? v[0] : v; // a JSON-RPC batch: its first call
        if (o !== null && typeof o === 'object' && !Array.isArray(o)) return o as Record<string, unknown>;
      }
    } catch {
      this.stats.jsonErrors++;
    }
    return null;
  }

  private offer(flow: Flow, st: FlowInspection, dir: Direction, msg: JsonMessage, ts: number, overWebSocket = false): void {
    const ctx: MessageContext = { dir, facts: st.facts, rules: st.set.protocols };
    for (const det of JSON_DETECTORS) {
      const f = det.inspect(msg, ctx);
      if (f) {
        if (overWebSocket) f.detail = f.detail === undefined ? OVER_WEBSOCKET : `${f.detail}; ${OVER_WEBSOCKET}`;
        this.accept(flow, st, dir, f, ts);
        break;
      }
    }
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

  private feedHttp(
    flow: Flow,
    st: FlowInspection,
    d: DirectionState,
    dir: Direction,
    buf: Buffer,
    start: number,
    end: number,
    ts: number,
  ): void {
    let pos = start;
    while (pos < end && d.mode === Mode.Http) {
      if (d.httpPhase === HttpPhase.Head) {
        const before = d.carry.length;
        if (!d.carry.append(buf, pos, end, this.opts.maxHttpHeadBytes + (end - pos))) {
          d.mode = Mode.Off;
          return;
        }
        const headEnd = findHeadEnd(d.carry.buffer, Math.max(0, before - 3), d.carry.length);
        if (headEnd < 0) {
          if (d.carry.length > this.opts.maxHttpHeadBytes) d.mode = Mode.Off;
          return;
        }
        pos += headEnd - before; // bytes of this segment consumed by the head
        const head = parseHttpHead(d.carry.buffer, 0, headEnd);
        d.carry.clear();
        if (!head) {
          d.mode = Mode.Off;
          return;
        }
        this.stats.httpMessages++;
        st.readable = true;
        if (head.isRequest) this.checkHost(flow, st, dir, head, ts);
        this.startHttpBody(flow, st, d, dir, head, ts);
      } else {
        const take = Math.min(d.bodyRemaining, end - pos);
        if (d.httpPhase === HttpPhase.Body && !d.carry.append(buf, pos, pos + take, this.opts.maxHttpBodyBytes)) d.httpPhase = HttpPhase.SkipBody;
        d.bodyRemaining -= take;
        pos += take;
        if (d.bodyRemaining === 0) this.finishHttpMessage(flow, st, d, dir, ts);
      }
    }
    // Frames may follow the Upgrade head in the same segment.
    if (d.mode === Mode.WebSocket && pos < end) this.feedWebSocket(flow, st, d, dir, buf, pos, end, ts);
  }

  /** After a head: decide whether the message is worth reading and how long its body is. */
  private startHttpBody(flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, head: HttpHead, ts: number): void {
    if (head.isRequest ? isWebSocketRequest(head) : isWebSocketAccept(head)) {
      d.mode = Mode.WebSocket;
      d.ws = new WebSocketReader(this.opts.maxLineBytes, this.stats);
      return;
    }
    const interesting =
      hasMiningHeaders(head) ||
      (head.isRequest && head.method === 'POST') ||
      (!head.isRequest && st.confirmed) ||
      (!head.isRequest && (head.headers.get('content-type') ?? '').includes('json'));
    if (!interesting) {
      d.mode = Mode.Off;
      return;
    }
    if ((head.headers.get('transfer-encoding') ?? '').toLowerCase().includes('chunked')) {
      // No body framing support for chunked messages: judge the head alone, then stop.
      this.inspectHttp(flow, st, dir, head, null, ts);
      d.mode = Mode.Off;
      return;
    }
    const length = Number(head.headers.get('content-length') ?? '0');
    d.httpHead = head;
    d.bodyRemaining = Number.isFinite(length) && length > 0 ? Math.floor(length) : 0;
    d.httpPhase = d.bodyRemaining > this.opts.maxHttpBodyBytes ? HttpPhase.SkipBody : HttpPhase.Body;
    if (d.bodyRemaining === 0) this.finishHttpMessage(flow, st, d, dir, ts);
  }

  private finishHttpMessage(flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, ts: number): void {
    const head = d.httpHead!;
    let body: JsonMessage | null = null;
    if (d.httpPhase === HttpPhase.Body && d.carry.length > 0) {
      const b = d.carry.buffer;
      const s = skipSpace(b, 0, d.carry.length);
      const e = trimEnd(b, s, d.carry.length);
      if (s < e && (b[s] === 0x7b || b[s] === 0x5b)) {
        const obj = this.parse(b, s, e);
        st.parsed++;
        if (obj) body = toMessage(obj, true);
      }
    }
    d.carry.clear();
    d.httpHead = null;
    d.httpPhase = HttpPhase.Head;
    this.inspectHttp(flow, st, dir, head, body, ts);
    if (body) this.offer(flow, st, dir, body, ts);
  }

  /** WebSocket frames: each complete text message is read as JSON lines. */
  private feedWebSocket(flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
    const ws = d.ws!;
    let pos = start;
    while (pos < end && d.mode === Mode.WebSocket) {
      pos = ws.read(buf, pos, end);
      if (ws.event === WsEvent.Message) this.webSocketMessage(flow, st, d, dir, ws.message, ws.messageStart, ws.messageEnd, ts);
      else if (ws.event !== WsEvent.NeedMore) d.mode = Mode.Off; // close or violation: the direction is over
    }
    if (d.mode !== Mode.WebSocket) d.ws = null;
  }

  /** One text message: a JSON object, or several newline-separated JSON lines. */
  private webSocketMessage(flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
    let pos = start;
    while (pos < end && d.mode === Mode.WebSocket) {
      const nl = indexOfByte(buf, 0x0a, pos, end);
      const lineEnd = nl < 0 ? end : nl;
      this.processLine(flow, st, d, dir, buf, pos, lineEnd, ts, true);
      pos = lineEnd + 1;
    }
  }

  private inspectHttp(flow: Flow, st: FlowInspection, dir: Direction, head: HttpHead, body: JsonMessage | null, ts: number): void {
    const ctx: MessageContext = { dir, facts: st.facts, rules: st.set.protocols };
    for (const det of HTTP_DETECTORS) {
      const f = det.inspect(head, body, ctx);
      if (f) this.accept(flow, st, dir, f, ts);
    }
  }

  /**
   * Weak findings wait for a strong one on the same flow; strong ones confirm the flow.
   * Confirmed findings are held until the flow settles (a few messages or seconds later,
   * or its end), so they carry the dialect and algorithm the later messages reveal (the
   * Kaspa or ES1 subscribe result, a Grin job) rather than the generic family name.
   */
  private accept(flow: Flow, st: FlowInspection, dir: Direction, f: Finding, ts: number): void {
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

  /** Emits the held findings of a confirmed flow with what the flow has revealed since. */
  private settle(flow: Flow, st: FlowInspection): void {
    st.settled = true;
    this.unsettled.delete(flow);
    for (const p of st.pending) this.emit(flow, st, p.finding, p.tsMicros);
    st.pending = [];
  }

  private emit(flow: Flow, st: FlowInspection, f: Finding, ts: number): void {
    const refined = st.facts.dialect;
    const dialect = refined !== undefined && REFINABLE.get(f.dialect)?.has(refined) ? refined : f.dialect;
    const algo = f.algo ?? st.facts.algo;
    const key = `${dialect}|${f.kind}|${f.agent ?? ''}|${f.login ?? ''}|${f.worker ?? ''}|${f.poolHost ?? ''}`;
    if (st.emitted.has(key)) return;
    if (st.evidence >= this.opts.maxEvidencePerFlow) {
      this.stats.evidenceCapped++;
      return;
    }
    st.emitted.add(key);
    st.evidence++;
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
    const poolHost = f.poolHost ?? pool?.learned?.name;
    if (poolHost !== undefined) e.poolHost = poolHost;
    if (f.detail !== undefined) e.detail = f.detail;
    this.sink(e);
  }

  /** A weak finding whose agent is a known miner's counts, at the rule's confidence. */
  private knownMinerAgent(st: FlowInspection, f: Finding): Finding {
    const rule = st.set.protocols.rule('agent.known-miner');
    const agent = rule && f.agent !== undefined ? st.set.agents.match(f.agent) : null;
    if (!rule || !agent) return f;
    return { ...f, strong: true, confidence: rule.confidence, provenance: joinProvenance(f.provenance, `${originText(rule.origin)} rule ${rule.name}`) };
  }

  /** Evidence from beyond the payload; `st` is null for flows already released. */
  private emitIntel(flow: Flow, st: FlowInspection | null, minerSide: Direction, f: IntelFinding, ts: number, pool?: PoolSide): void {
    if (st) {
      const key = `intel|${f.kind}|${f.poolHost ?? ''}`;
      if (st.emitted.has(key)) return;
      if (st.evidence >= this.opts.maxEvidencePerFlow) {
        this.stats.evidenceCapped++;
        return;
      }
      st.emitted.add(key);
      st.evidence++;
    }
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
      transport: flow.protocol === 17 ? 'udp' : 'tcp',
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

  /** HTTP request to a listed pool host. */
  private checkHost(flow: Flow, st: FlowInspection, dir: Direction, head: HttpHead, ts: number): void {
    const f = httpHostEvidence(st.set, head, flow.port[1 - dir]!);
    if (f) this.emitIntel(flow, st, dir, f, ts);
  }

  /**
   * Collects a direction's first TLS handshake message. The ClientHello is judged at once
   * (SNI, fingerprints); the ServerHello is kept for the details. Then the direction is off:
   * the rest is encrypted.
   */
  private feedTls(flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
    let src = buf;
    let s = start;
    let e = end;
    if (d.carry.length > 0) {
      if (!d.carry.append(buf, start, end, MAX_HELLO_BYTES)) {
        d.mode = Mode.Off;
        return;
      }
      src = d.carry.buffer;
      s = 0;
      e = d.carry.length;
    }
    const hs = firstHandshake(src, s, e);
    if (hs === 'more') {
      if (d.carry.length === 0 && !d.carry.append(buf, start, end, MAX_HELLO_BYTES)) d.mode = Mode.Off;
      return;
    }
    d.mode = Mode.Off;
    if (hs !== null) {
      if (hs.buf[hs.start] === HANDSHAKE_CLIENT_HELLO) this.clientHello(flow, st, dir, hs.buf, hs.start, hs.end, ts);
      else if (st.tls) st.tls.server = parseServerHello(hs.buf, hs.start, hs.end);
    }
    d.carry.clear();
  }

  private clientHello(flow: Flow, st: FlowInspection, dir: Direction, buf: Buffer, start: number, end: number, ts: number): void {
    const hello = parseClientHello(buf, start, end);
    if (!hello) return;
    this.stats.tlsHellos++;
    st.tls = tlsFacts(st.set, hello);
    const f = tlsClientEvidence(st.set, st.tls, flow.port[1 - dir]!);
    if (f && !st.flowHit) {
      this.emitIntel(flow, st, dir, f, ts);
      st.flowHit = true;
    }
  }

  /** Stops inspecting a flow that has shown nothing within its budget, or whose both directions are off. */
  private maybeBypass(flow: Flow, st: FlowInspection): void {
    if (st.confirmed || st.flights !== null) return; // the SV2 shape needs the first flights
    const [a, b] = st.dirs;
    const bothOff = a.mode === Mode.Off && b.mode === Mode.Off;
    const overBudget =
      a.inspected + b.inspected > 2 * this.opts.probeBytes || st.parsed > this.opts.probeMessages;
    if (bothOff || overBudget) {
      this.stats.flowsBypassed++;
      // Unreadable payload to a pool endpoint: keep counting until the sustained rule decides.
      if (!st.readable && st.pool && !st.flowHit && st.set.protocols.rule('endpoint.sustained')) {
        st.watch = true;
        a.carry.clear();
        b.carry.clear();
        st.pending = [];
        return;
      }
      flow.inspect = false;
      flow.app = undefined;
    }
  }
}
