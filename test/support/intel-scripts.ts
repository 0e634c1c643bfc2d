/**
 * Scripted share sessions for the intelligence tests: a dialect's setup messages, then
 * shares submitted at chosen times (seconds after the start) with the pool's replies,
 * then a last keep-alive at the end of the observation window and a FIN. Built with the
 * synth toolkit, so they go through the real reader, decoder, flow table and detectors.
 */
import type { Endpoint } from '../../src/synth/packets.js';
import { seededRandom } from '../../src/synth/rng.js';
import type { TimedPacket, Turn } from '../../src/synth/tcp-session.js';
import { conversation } from './pipeline.js';

export const T0 = 1_780_000_000_000_000;

export interface ShareScript {
  setup: Turn[];
  /** Share times in seconds after the start (the setup takes a few milliseconds). */
  shareTimes: number[];
  submit: (i: number) => unknown;
  /** The pool's reply to share i (null for none); an array sends several lines. */
  reply: (i: number) => unknown;
  /** Pool messages at given second offsets (difficulty changes, new jobs). */
  pushes?: { at: number; message: unknown }[];
  /** Observation window end: a final client line at this offset, then the close. */
  endAt: number;
  endLine?: unknown;
  serverPort: number;
  client?: Endpoint;
  serverIp?: string;
}

const line = (o: unknown): string => `${JSON.stringify(o)}\n`;

/** The conversation's packets; turns are spaced to land at the scripted offsets. */
export function shareSession(s: ShareScript): TimedPacket[] {
  type Timed = { at: number; turn: Omit<Turn, 'gapMicros'> };
  const timed: Timed[] = [];
  s.shareTimes.forEach((t, i) => {
    timed.push({ at: t, turn: { from: 'client', data: line(s.submit(i)) } });
    const r = s.reply(i);
    const replies = r === null ? [] : Array.isArray(r) && isReplyList(r) ? r : [r];
    for (const one of replies) timed.push({ at: t + 0.05, turn: { from: 'server', data: line(one) } });
  });
  for (const p of s.pushes ?? []) timed.push({ at: p.at, turn: { from: 'server', data: line(p.message) } });
  timed.push({ at: s.endAt, turn: { from: 'client', data: line(s.endLine ?? { id: 999, method: 'mining.noop' }) } });
  timed.sort((a, b) => a.at - b.at);

  const turns: Turn[] = [...s.setup];
  // The setup turns take 1 ms each by default; offsets count from the session start.
  let clock = s.setup.length * 1000 + 3 * 1000;
  for (const t of timed) {
    const atMicros = Math.round(t.at * 1e6);
    const gap = Math.max(1000, atMicros - clock);
    turns.push({ ...t.turn, gapMicros: gap });
    clock += gap;
  }
  return conversation({ turns, serverPort: s.serverPort, client: s.client, serverIp: s.serverIp, startMicros: T0 });
}

/** Marks a reply that is several lines (a pool that answers twice). */
export function replyLines(...lines: unknown[]): unknown[] {
  return Object.assign(lines, { [REPLY_LIST]: true });
}

const REPLY_LIST = Symbol('reply-list');

function isReplyList(r: unknown[]): boolean {
  return (r as unknown as Record<symbol, unknown>)[REPLY_LIST] === true;
}

/** `n` share times over (0, seconds), sorted, from a seeded uniform draw (a Poisson
 *  process conditioned on its count). */
export function uniformTimes(n: number, seconds: number, seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => 0.5 + rand() * (seconds - 1)).sort((a, b) => a - b);
}

/** Arrival times of a Poisson process with `rate` per second over (0, seconds). */
export function poissonTimes(rate: number, seconds: number, seed: number): number[] {
  const rand = seededRandom(seed);
  const out: number[] = [];
  for (let t = -Math.log(1 - rand()) / rate; t < seconds - 0.5; t += -Math.log(1 - rand()) / rate) out.push(t);
  return out;
}
