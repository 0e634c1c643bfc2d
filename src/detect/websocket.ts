/**
 * WebSocket (RFC 6455) for the detection engine: recognising the HTTP Upgrade handshake,
 * and a per-direction frame reader that turns a byte stream cut at arbitrary segment
 * boundaries back into complete text messages.
 *
 * What the reader does with each frame:
 * - text messages (one frame, or a first frame and its continuations) are unmasked into a
 *   bounded Carry and handed out whole; a message over the cap is skipped and counted;
 * - binary messages and messages with RSV1 (permessage-deflate, RFC 7692: compressed) are
 *   skipped and counted: a sensor without inflate state cannot read them;
 * - ping/pong are skipped (they may sit between the fragments of a message); close ends
 *   the direction;
 * - a protocol violation (reserved opcode or RSV bits, a fragmented or oversized control
 *   frame, a continuation with no message open, a new message inside an open one, a 64-bit
 *   length with its top bit set or beyond 2^53) stops the direction: what follows is no
 *   longer trustworthy framing.
 * Masking is accepted on either side: a sensor reads what the peers exchanged, whether or
 * not a lax server insisted on masked client frames. Non-minimal length encodings are read
 * as they are (some clients send them and servers accept them).
 */
import { Carry, type CarryBudget } from './framing.js';
import type { HttpHead } from './dialect.js';

/** Does the comma-separated header value hold `token` (case-insensitive)? */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of value.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

/** A client's opening handshake: GET with Upgrade: websocket and Connection: Upgrade. */
export function isWebSocketRequest(head: HttpHead): boolean {
  return head.isRequest && head.method === 'GET' && hasToken(head.headers.get('upgrade'), 'websocket') && hasToken(head.headers.get('connection'), 'upgrade');
}

/** A server's answer accepting it: 101 with Upgrade: websocket. */
export function isWebSocketAccept(head: HttpHead): boolean {
  return !head.isRequest && head.status === 101 && hasToken(head.headers.get('upgrade'), 'websocket');
}

/** Counters the reader adds to (the engine passes its own stats object). */
export interface WebSocketCounters {
  /** Complete text messages handed out. */
  wsTextMessages: number;
  /** Binary messages skipped. */
  wsBinaryMessages: number;
  /** Compressed (RSV1) messages skipped. */
  wsCompressedMessages: number;
  /** Text messages over the cap, skipped. */
  wsOversizeMessages: number;
  /** Directions stopped by a protocol violation. */
  wsViolations: number;
}

/** What read() stopped on. */
export const enum WsEvent {
  /** Input consumed; more is needed. */
  NeedMore,
  /** A complete text message is at message/messageStart/messageEnd until the next read(). */
  Message,
  /** A close frame: the direction is over. */
  Closed,
  /** A protocol violation: the direction is no longer framed. */
  Violation,
}

const enum Phase {
  Header,
  Payload,
  Done,
}

const enum MessageState {
  None,
  Text,
  /** Binary, compressed or oversize: its remaining frames are skipped. */
  Skip,
}

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const FIN = 0x80;
const RSV1 = 0x40;
const RSV23 = 0x30;
const MASKED = 0x80;
const MAX_CONTROL_PAYLOAD = 125;
const MAX_HEADER = 14;
/** 2^53 / 2^32: the high word of a 64-bit length must stay below this. */
const MAX_SAFE_HIGH = 0x200000;
const EMPTY = Buffer.alloc(0);

/**
 * One direction's frame reader. Feed it with read() until it reports an event; after a
 * Message, the message bytes stay valid until the next call.
 */
export class WebSocketReader {
  event: WsEvent = WsEvent.NeedMore;
  message: Buffer = EMPTY;
  messageStart = 0;
  messageEnd = 0;

  private phase = Phase.Header;
  /** Header bytes gathered so far (a header may be split across segments). */
  private readonly head = Buffer.alloc(MAX_HEADER);
  private headLen = 0;
  private opcode = 0;
  private fin = false;
  private masked = false;
  /** Payload bytes of the current frame not yet read. */
  private remaining = 0;
  /** Position in the 4-byte masking key of the next payload byte. */
  private maskPos = 0;
  /** The current frame's payload is collected (text) rather than skipped. */
  private collect = false;
  private msg = MessageState.None;
  private readonly carry: Carry;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly counters: WebSocketCounters,
    budget: CarryBudget | null = null,
  ) {
    this.carry = new Carry(budget);
  }

  /** Gives back the carry's bytes (the flow's state is being dropped). */
  dropCarry(): void {
    this.carry.clear();
  }

  /** The direction ended (close frame or violation): read() consumes nothing more. */
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  private get inPayload(): boolean {
    return this.phase === Phase.Payload;
  }

  /**
   * Consumes bytes from [pos, end) until a text message completes, the input runs out, or
   * the direction ends; returns the position reached and sets `event`.
   */
  read(buf: Buffer, pos: number, end: number): number {
    if (this.event === WsEvent.Message) this.releaseMessage();
    this.event = WsEvent.NeedMore;
    while (this.phase !== Phase.Done) {
      if (this.phase === Phase.Header) {
        if (pos >= end) return pos;
        pos = this.readHeader(buf, pos, end);
        if (!this.inPayload) return this.done ? end : pos; // header incomplete, or the direction ended
        if (this.remaining === 0) {
          if (this.endFrame()) return pos;
          continue;
        }
        if (this.handInPlace(buf, pos, end)) return this.messageEnd;
      }
      if (pos >= end) return pos;
      const take = Math.min(this.remaining, end - pos);
      if (this.collect) this.collectPayload(buf, pos, pos + take);
      this.remaining -= take;
      pos += take;
      if (this.remaining === 0 && this.endFrame()) return pos;
    }
    return end;
  }

  /** Frees the carry's bytes once the caller is done with a message. */
  private releaseMessage(): void {
    this.carry.clear();
    this.message = EMPTY;
    this.messageStart = this.messageEnd = 0;
  }

  /**
   * An unmasked, unfragmented text frame lying wholly in this segment (the usual server
   * frame) is handed out where it lies, without a copy.
   */
  private handInPlace(buf: Buffer, pos: number, end: number): boolean {
    if (!this.collect || this.masked || !this.fin || this.carry.length > 0 || end - pos < this.remaining) return false;
    this.message = buf;
    this.messageStart = pos;
    this.messageEnd = pos + this.remaining;
    this.remaining = 0;
    this.phase = Phase.Header;
    this.msg = MessageState.None;
    this.counters.wsTextMessages++;
    this.event = WsEvent.Message;
    return true;
  }

  /** Gathers header bytes; once complete, validates the frame and sets up its payload. */
  private readHeader(buf: Buffer, pos: number, end: number): number {
    const h = this.head;
    while (pos < end) {
      const need = this.headerLength();
      if (this.headLen >= need) break;
      const take = Math.min(need - this.headLen, end - pos);
      buf.copy(h, this.headLen, pos, pos + take);
      this.headLen += take;
      pos += take;
    }
    if (this.headLen < this.headerLength()) return pos;
    this.startFrame();
    return pos;
  }

  /** Header length as far as the bytes gathered tell (2 until the length byte is in). */
  private headerLength(): number {
    if (this.headLen < 2) return 2;
    const len7 = this.head[1]! & 0x7f;
    const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    return 2 + ext + (this.head[1]! & MASKED ? 4 : 0);
  }

  private startFrame(): void {
    const h = this.head;
    const b0 = h[0]!;
    const len7 = h[1]! & 0x7f;
    this.fin = (b0 & FIN) !== 0;
    this.opcode = b0 & 0x0f;
    this.masked = (h[1]! & MASKED) !== 0;
    this.maskPos = 0;
    let keyAt = 2;
    if (len7 === 126) {
      this.remaining = h.readUInt16BE(2);
      keyAt = 4;
    } else if (len7 === 127) {
      const high = h.readUInt32BE(2);
      if (high >= MAX_SAFE_HIGH) return this.violation(); // top bit set, or beyond 2^53
      this.remaining = high * 0x1_0000_0000 + h.readUInt32BE(6);
      keyAt = 10;
    } else this.remaining = len7;
    // Keep the masking key at a fixed place for collectPayload.
    if (this.masked && keyAt !== 2) h.copy(h, 2, keyAt, keyAt + 4);
    this.headLen = 0;
    this.phase = Phase.Payload;
    this.collect = false;
    if ((b0 & RSV23) !== 0) return this.violation();
    if (this.opcode >= 0x8) this.startControlFrame(b0);
    else this.startDataFrame(b0);
  }

  private startControlFrame(b0: number): void {
    if (!this.fin || (b0 & RSV1) !== 0 || this.remaining > MAX_CONTROL_PAYLOAD || this.opcode > 0xa) return this.violation();
    if (this.opcode === OP_CLOSE) {
      this.phase = Phase.Done;
      this.event = WsEvent.Closed;
    }
    // Ping and pong: their payload is skipped (collect stays false).
  }

  private startDataFrame(b0: number): void {
    if (this.opcode === OP_CONTINUATION) {
      // RFC 7692: only a message's first frame carries RSV1.
      if (this.msg === MessageState.None || (b0 & RSV1) !== 0) return this.violation();
    } else if (this.opcode === OP_TEXT || this.opcode === OP_BINARY) {
      if (this.msg !== MessageState.None) return this.violation();
      if ((b0 & RSV1) !== 0) {
        this.counters.wsCompressedMessages++;
        this.msg = MessageState.Skip;
      } else if (this.opcode === OP_BINARY) {
        this.counters.wsBinaryMessages++;
        this.msg = MessageState.Skip;
      } else this.msg = MessageState.Text;
    } else return this.violation();
    if (this.msg === MessageState.Text && this.carry.length + this.remaining > this.maxMessageBytes) {
      // Judged from the declared length, so nothing of it is copied.
      this.counters.wsOversizeMessages++;
      this.carry.clear();
      this.msg = MessageState.Skip;
    }
    this.collect = this.msg === MessageState.Text;
  }

  /** Unmasks [start, end) of the current frame's payload onto the message carry. */
  private collectPayload(buf: Buffer, start: number, end: number): void {
    const at = this.carry.length;
    // It fits the message cap (checked at the header); the engine's carry budget may still
    // refuse it (counted there): the rest of the message is then skipped, not delivered
    // with a hole in it.
    if (!this.carry.append(buf, start, end, this.maxMessageBytes)) {
      this.msg = MessageState.Skip;
      this.collect = false;
      return;
    }
    if (!this.masked) return;
    const data = this.carry.buffer;
    const h = this.head;
    let k = this.maskPos;
    for (let i = at, n = this.carry.length; i < n; i++) {
      data[i] = data[i]! ^ h[2 + k]!;
      k = (k + 1) & 3;
    }
    this.maskPos = k;
  }

  /** The current frame's payload is all read; true when that completed a text message. */
  private endFrame(): boolean {
    this.phase = Phase.Header;
    if (this.opcode >= 0x8 || !this.fin) return false;
    const wasText = this.msg === MessageState.Text;
    this.msg = MessageState.None;
    if (!wasText) return false;
    this.message = this.carry.buffer;
    this.messageStart = 0;
    this.messageEnd = this.carry.length;
    this.counters.wsTextMessages++;
    this.event = WsEvent.Message;
    return true;
  }

  private violation(): void {
    this.counters.wsViolations++;
    this.phase = Phase.Done;
    this.event = WsEvent.Violation;
    this.carry.clear();
  }
}
