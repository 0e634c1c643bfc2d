/**
 * The one small interface every payload detector implements. The engine frames the
 * stream (JSON lines or HTTP messages), parses JSON once, and offers each message to every
 * detector; a detector answers with a Finding or null. Detectors keep no per-flow state
 * of their own beyond what they put in FlowFacts.
 */
import type { Direction, Flow, FlowEndReason } from '../flow/types.js';
import type { ProtocolRules } from '../signatures/protocols.js';
import type { Confidence } from './types.js';

/** A JSON-RPC-ish message as seen on a mining stream. */
export interface JsonMessage {
  readonly obj: Record<string, unknown>;
  readonly method: string | undefined;
  readonly id: unknown;
  readonly params: unknown;
  readonly result: unknown;
  readonly error: unknown;
  /** Message came in an HTTP body rather than a raw TCP line stream. */
  readonly overHttp: boolean;
}

/** The sender of the message is the miner (client side) or the pool (server side). */
export type SenderRole = 'miner' | 'pool';

export interface Finding {
  dialect: string;
  kind: string;
  sender: SenderRole;
  /** Strong findings identify mining alone; weak ones need a strong one on the same flow. */
  strong: boolean;
  detector: string;
  agent?: string;
  worker?: string;
  login?: string;
  wallet?: string;
  algo?: string;
  poolHost?: string;
  detail?: string;
  /** Default 'high' (the protocol itself was seen). */
  confidence?: Confidence;
  /** Signature lines behind the finding ('protocols/stratum.txt:12'), besides the detector. */
  provenance?: string;
}

/** Facts a detector learned about the flow that later messages need (dialect refinement). */
export interface FlowFacts {
  /** Dialect refinement learned so far ('ethstratum1' after the ES1 marker, ...). */
  dialect?: string;
  algo?: string;
}

export interface MessageContext {
  readonly dir: Direction;
  readonly facts: FlowFacts;
  /** Method and marker rules of the flow's signature set. */
  readonly rules: ProtocolRules;
}

export interface JsonDetector {
  readonly name: string;
  inspect(msg: JsonMessage, ctx: MessageContext): Finding | null;
}

/** A parsed HTTP request or response head (header names lower-cased). */
export interface HttpHead {
  readonly isRequest: boolean;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
}

export interface HttpDetector {
  readonly name: string;
  /** One HTTP message: its head and, when it had a JSON body, the body's message (which
   *  also goes through the JsonDetectors with overHttp set). */
  inspect(head: HttpHead, body: JsonMessage | null, ctx: MessageContext): Finding | null;
}

export function isHex(value: unknown, minLen: number, maxLen = minLen): value is string {
  if (typeof value !== 'string') return false;
  const s = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
  if (s.length < minLen || s.length > maxLen) return false;
  return /^[0-9a-fA-F]+$/.test(s);
}

/** Where a message sits in its flow, for observers. */
export interface ObservedMessage {
  readonly dir: Direction;
  /** The miner's side of the flow (the flow is confirmed as mining). */
  readonly minerSide: Direction;
  readonly facts: FlowFacts;
  readonly tsMicros: number;
  /** Input the packets came from (Evidence.source). */
  readonly source: string;
}

/**
 * Sees every parsed message of a flow confirmed as mining, in stream order, including those
 * that came before the confirmation and those no detector claimed (share replies). For
 * per-session accounting (shares, difficulty, hashrate); it produces no Evidence itself.
 */
export interface MessageObserver {
  onMessage(flow: Flow, msg: JsonMessage, at: ObservedMessage): void;
  /** The flow left the table; called only for flows that were confirmed as mining. */
  onFlowEnd(flow: Flow, reason: FlowEndReason): void;
}
