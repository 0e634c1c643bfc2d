/**
 * Per-flow state of the detection engine (kept in Flow.app): what each direction is framed
 * as, what the flow has shown so far, and when the flow stops being inspected (its probe
 * budget, or the end of a watched flow).
 */
import type { Direction, Flow } from '../flow/types.js';
import type { SignatureSet } from '../signatures/signature-set.js';
import type { Finding, FlowFacts, HttpHead, JsonMessage } from './dialect.js';
import type { PoolEndpointMatch } from './endpoint.js';
import type { EngineContext } from './engine-context.js';
import { Carry, type CarryBudget } from './framing.js';
import type { FlightCounter } from './sv2.js';
import type { DnsFlowState } from './dns.js';
import type { TlsFacts } from './tls.js';
import type { WebSocketReader } from './websocket.js';

export const enum Mode {
  Probe,
  Lines,
  Http,
  /** Collecting the first TLS handshake message (ClientHello / ServerHello). */
  Tls,
  /** RFC 6455 frames after an Upgrade handshake; text messages are read as JSON lines. */
  WebSocket,
  /** DNS over TCP: length-prefixed messages (frame-dns-stream.ts). */
  DnsStream,
  Off,
}

export const enum HttpPhase {
  Head,
  Body,
  SkipBody,
}

export class DirectionState {
  constructor(budget: CarryBudget | null) {
    this.carry = new Carry(budget);
  }

  mode = Mode.Probe;
  /** Skip bytes until the next newline (after a gap, an oversize line, or a mid-stream start). */
  skipLine = false;
  inspected = 0;
  nonJsonLines = 0;
  readonly carry: Carry;
  httpPhase = HttpPhase.Head;
  httpHead: HttpHead | null = null;
  bodyRemaining = 0;
  /** Frame reader, once the direction has switched to WebSocket. */
  ws: WebSocketReader | null = null;
}

export interface HeldMessage {
  msg: JsonMessage;
  dir: Direction;
  tsMicros: number;
}

export interface PendingFinding {
  finding: Finding;
  dir: Direction;
  tsMicros: number;
}

export class FlowInspection {
  constructor(
    /** The signature set in force when the flow started; the flow keeps it to its end. */
    readonly set: SignatureSet,
    budget: CarryBudget | null = null,
  ) {
    this.dirs = [new DirectionState(budget), new DirectionState(budget)];
  }

  readonly facts: FlowFacts = {};
  /** The listed or DNS-learned pool endpoint the flow talks to, looked up once at its start. */
  pool: PoolEndpointMatch | null = null;
  /** Some message of the flow could be read (a JSON line or an HTTP head). */
  readable = false;
  /** host:port of an HTTP CONNECT through a proxy: the flow then carries a tunnel to it. */
  proxyTarget: string | null = null;
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
  /** Evidence keys already emitted; made on the first emission (most flows never emit). */
  emitted: Set<string> | null = null;
  /** DNS over TCP: the queries waiting for answers, once a message may name a pool. */
  dns: DnsFlowState | null = null;

  readonly dirs: [DirectionState, DirectionState];
}

/** Gives back what a flow's carries hold (its partial lines, heads, messages). */
export function clearCarries(st: FlowInspection): void {
  for (let i = 0; i < 2; i++) {
    const d = st.dirs[i]!;
    d.carry.clear();
    d.ws?.dropCarry();
  }
}

/** Forgets a flow's inspection state: no more payload, and its carries given back. */
export function dropInspection(flow: Flow, st: FlowInspection): void {
  clearCarries(st);
  flow.inspect = false;
  flow.app = undefined;
}

/** Stops inspecting a flow that has shown nothing within its budget, or whose both directions are off. */
export function maybeBypass(cx: EngineContext, flow: Flow, st: FlowInspection): void {
  if (st.confirmed || st.flights !== null) return; // the SV2 shape needs the first flights
  // Indexed, not destructured: destructuring runs the array iterator until V8 optimises
  // this function, and every flow's first packets pass here before it does.
  const a = st.dirs[0];
  const b = st.dirs[1];
  const bothOff = a.mode === Mode.Off && b.mode === Mode.Off;
  const overBudget =
    a.inspected + b.inspected > 2 * cx.opts.probeBytes || st.parsed > cx.opts.probeMessages;
  if (bothOff || overBudget) {
    cx.stats.flowsBypassed++;
    // Unreadable payload to a pool endpoint: keep counting until the sustained rule decides.
    if (!st.readable && st.pool && !st.flowHit && st.set.protocols.rule('endpoint.sustained')) {
      st.watch = true;
      clearCarries(st);
      st.pending = [];
      return;
    }
    dropInspection(flow, st);
  }
}

/** Stops delivering payload for a flow that needs nothing more. */
export function release(flow: Flow, st: FlowInspection): void {
  st.watch = false;
  if (st.confirmed) return;
  dropInspection(flow, st);
}
