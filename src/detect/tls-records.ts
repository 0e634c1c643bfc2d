/**
 * The first handshake message of a TLS direction, from its record layer (RFC 8446 section
 * 5.1): the ClientHello or ServerHello, which may be split over TCP segments and, rarely,
 * over several handshake records.
 */

const RECORD_HANDSHAKE = 0x16;
const RECORD_HEADER = 5;
/** A hello is at most 2^16 + 4 bytes; anything larger is not one. */
export const MAX_HELLO_BYTES = 65_540 + 4 * RECORD_HEADER;

/** The stream at `i` starts a TLS handshake record (0x16, version 3.x). */
export function startsTlsHandshake(buf: Buffer, i: number, end: number): boolean {
  return end - i >= 3 && buf[i] === RECORD_HANDSHAKE && buf[i + 1] === 0x03 && buf[i + 2]! <= 0x04;
}

export interface HandshakeView {
  buf: Buffer;
  start: number;
  end: number;
}

/**
 * The first handshake message in the records at [start, end): a view (copied only when it
 * spans records), 'more' when more bytes are needed, or null when this is not TLS.
 */
export function firstHandshake(buf: Buffer, start: number, end: number): HandshakeView | 'more' | null {
  let pos = start;
  let need = -1;
  const pieces: [number, number][] = [];
  let have = 0;
  while (pos + RECORD_HEADER <= end) {
    if (buf[pos] !== RECORD_HANDSHAKE || buf[pos + 1] !== 0x03) return null;
    const len = buf.readUInt16BE(pos + 3);
    const body = pos + RECORD_HEADER;
    // A record cut short may already hold the whole message (a ServerHello ahead of the
    // certificates in the same record): no need to wait for, or carry, the rest.
    const cut = body + len > end;
    const got = cut ? end - body : len;
    pieces.push([body, body + got]);
    have += got;
    if (need < 0 && have >= 4) {
      const s = pieces[0]![0];
      // The 4-byte handshake header may itself straddle records only in pathological streams.
      if (pieces[0]![1] - s < 4) return null;
      need = 4 + ((buf[s + 1]! << 16) | (buf[s + 2]! << 8) | buf[s + 3]!);
      if (need > MAX_HELLO_BYTES) return null;
    }
    if (need >= 0 && have >= need) {
      if (pieces.length === 1) return { buf, start: pieces[0]![0], end: pieces[0]![0] + need };
      const out = Buffer.allocUnsafe(need);
      let at = 0;
      for (const [s, e] of pieces) {
        const n = Math.min(e - s, need - at);
        buf.copy(out, at, s, s + n);
        at += n;
        if (at === need) break;
      }
      return { buf: out, start: 0, end: need };
    }
    if (cut) return 'more';
    pos = body + len;
  }
  return 'more';
}
