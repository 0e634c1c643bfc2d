/**
 * The detection engine: consumes reassembled TCP streams, frames each direction as JSON
 * lines or HTTP messages, offers every message to the detectors, decides which side is
 * the miner from what they find, and emits Evidence.
 *
 * Cost control: a direction whose first byte is neither '{' nor an HTTP token is dropped at
 * once; a line is parsed only when it carries a "method"/"result" key; a flow that shows no
 * mining within its probe budget stops being inspected (flow.inspect = false), so the flow
 * table stops reassembling it.
 */
import type { Direction, Flow, FlowEndReason, StreamHandler } from '../flow/types.js';
import { beamDetector } from './beam.js';
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

export const JSON_DETECTORS: readonly JsonDetector[] = [
  stratumDetector,
  cryptonoteDetector,
  ethproxyDetector,
  beamDetector,
  getworkBodyDetector,
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

export interface DetectStats {
  flowsInspected: number;
  flowsConfirmed: number;
  /** Flows dropped from inspection after showing no mining. */
  flowsBypassed: number;
  messagesParsed: number;
  jsonErrors: number;
  oversizeLines: number;
  httpMessages: number;
  evidence: number;
  /** Evidence not emitted because a flow hit maxEvidencePerFlow. */
  evidenceCapped: number;
}

const enum Mode {
  Probe,
  Lines,
  Http,
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
  readonly facts: FlowFacts = {};
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

export class DetectionEngine implements StreamHandler {
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
  };
  /** Written into every Evidence.source; the sensor sets it per input. */
  source = '';
  private readonly opts: EngineOptions;

  constructor(
    private readonly sink: EvidenceSink,
    opts: Partial<EngineOptions> = {},
    private readonly observers: readonly MessageObserver[] = [],
  ) {
    this.opts = { ...DEFAULT_ENGINE_OPTIONS, ...opts };
  }

  onData(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number, tsMicros: number): void {
    let st = flow.app as FlowInspection | undefined;
    if (st === undefined) {
      st = new FlowInspection();
      flow.app = st;
      this.stats.flowsInspected++;
    }
    const d = st.dirs[dir];
    if (d.mode === Mode.Off) return;
    d.inspected += length;
    const end = offset + length;
    if (d.mode === Mode.Probe) this.probe(flow, d, buf, offset, end);
    if (d.mode === Mode.Lines) this.feedLines(flow, st, d, dir, buf, offset, end, tsMicros);
    else if (d.mode === Mode.Http) this.feedHttp(flow, st, d, dir, buf, offset, end, tsMicros);
    this.maybeBypass(flow, st);
  }

  onGap(flow: Flow, dir: Direction): void {
    const st = flow.app as FlowInspection | undefined;
    if (!st) return;
    const d = st.dirs[dir];
    d.carry.clear();
    if (d.mode === Mode.Lines) d.skipLine = true;
    else if (d.mode === Mode.Http) d.mode = Mode.Off; // HTTP framing cannot be recovered reliably
  }

  onFlowEnd(flow: Flow, _reason: FlowEndReason): void {
    const st = flow.app as FlowInspection | undefined;
    if (st?.confirmed) {
      if (!st.settled) this.settle(flow, st);
      for (const o of this.observers) o.onFlowEnd(flow, _reason);
    }
    flow.app = undefined;
  }

  /** Decides how to frame a direction from its first payload bytes. */
  private probe(flow: Flow, d: DirectionState, buf: Buffer, start: number, end: number): void {
    const i = skipSpace(buf, start, end);
    if (i >= end) return;
    if (buf[i] === 0x7b /* { */) d.mode = Mode.Lines;
    else if (startsHttp(buf, i, end)) d.mode = Mode.Http;
    else if (!flow.sawSyn) {
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
  ): void {
    start = skipSpace(buf, start, end);
    end = trimEnd(buf, start, end);
    if (start >= end) return;
    if (buf[start] !== 0x7b || buf[end - 1] !== 0x7d) {
      // Text protocols (SMTP banners, NATS verbs) are not JSON lines: give up on them fast.
      if (!st.confirmed && ++d.nonJsonLines > MAX_NON_JSON_LINES) d.mode = Mode.Off;
      return;
    }
    if (!hasGateKey(buf, start, end)) return;
    const obj = this.parse(buf, start, end);
    st.parsed++;
    if (obj) this.offer(flow, st, dir, toMessage(obj, false), ts);
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

  private offer(flow: Flow, st: FlowInspection, dir: Direction, msg: JsonMessage, ts: number): void {
    const ctx: MessageContext = { dir, facts: st.facts };
    for (const det of JSON_DETECTORS) {
      const f = det.inspect(msg, ctx);
      if (f) {
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
        this.startHttpBody(flow, st, d, dir, head, ts);
      } else {
        const take = Math.min(d.bodyRemaining, end - pos);
        if (d.httpPhase === HttpPhase.Body && !d.carry.append(buf, pos, pos + take, this.opts.maxHttpBodyBytes)) d.httpPhase = HttpPhase.SkipBody;
        d.bodyRemaining -= take;
        pos += take;
        if (d.bodyRemaining === 0) this.finishHttpMessage(flow, st, d, dir, ts);
      }
    }
  }

  /** After a head: decide whether the message is worth reading and how long its body is. */
  private startHttpBody(flow: Flow, st: FlowInspection, d: DirectionState, dir: Direction, head: HttpHead, ts: number): void {
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

  private inspectHttp(flow: Flow, st: FlowInspection, dir: Direction, head: HttpHead, body: JsonMessage | null, ts: number): void {
    const ctx: MessageContext = { dir, facts: st.facts };
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
      if (!f.strong) {
        if (st.pending.length < MAX_PENDING) st.pending.push({ finding: f, dir, tsMicros: ts });
        return;
      }
      st.confirmed = true;
      st.confirmedAt = ts;
      st.minerSide = (f.sender === 'miner' ? dir : 1 - dir) as Direction;
      this.stats.flowsConfirmed++;
    }
    if (st.settled) {
      this.emit(flow, st, f, ts);
      return;
    }
    if (st.pending.length < MAX_HELD) st.pending.push({ finding: f, dir, tsMicros: ts });
    if (st.pending.length >= SETTLE_MESSAGES || ts - st.confirmedAt >= SETTLE_MICROS) this.settle(flow, st);
  }

  /** Emits the held findings of a confirmed flow with what the flow has revealed since. */
  private settle(flow: Flow, st: FlowInspection): void {
    st.settled = true;
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
    const e: Evidence = {
      tsMicros: ts,
      minerIp: flow.addr[m],
      minerPort: flow.port[m],
      poolIp: flow.addr[p],
      poolPort: flow.port[p],
      transport: 'tcp',
      dialect,
      kind: f.kind,
      confidence: 'high',
      detector: f.detector,
      source: this.source,
    };
    if (f.agent !== undefined) e.agent = f.agent;
    if (f.worker !== undefined) e.worker = f.worker;
    if (f.login !== undefined) e.login = f.login;
    if (f.wallet !== undefined) e.wallet = f.wallet;
    if (algo !== undefined) e.algo = algo;
    if (f.poolHost !== undefined) e.poolHost = f.poolHost;
    if (f.detail !== undefined) e.detail = f.detail;
    this.sink(e);
  }

  /** Stops inspecting a flow that has shown nothing within its budget, or whose both directions are off. */
  private maybeBypass(flow: Flow, st: FlowInspection): void {
    if (st.confirmed) return;
    const [a, b] = st.dirs;
    const bothOff = a.mode === Mode.Off && b.mode === Mode.Off;
    const overBudget =
      a.inspected + b.inspected > 2 * this.opts.probeBytes || st.parsed > this.opts.probeMessages;
    if (bothOff || overBudget) {
      flow.inspect = false;
      flow.app = undefined;
      this.stats.flowsBypassed++;
    }
  }
}
