import type { DecodeStats } from './types.js';

/**
 * IP fragment reassembly for IPv4 and IPv6, bounded in datagrams, bytes and (capture) time.
 *
 * The reassembler works on the fragmentable part only (the bytes after the IPv4 header or
 * after the IPv6 fragment header) and hands back that part as one new Buffer; the caller
 * already holds the addresses from the header of the completing fragment.
 *
 * Overlaps: IPv4 keeps the bytes that arrived first and fills only the holes (conflicting
 * rewrites are a known IDS evasion, so later data never replaces earlier data). IPv6 drops
 * the whole datagram on any overlap (RFC 5722), except that an exact duplicate fragment is
 * simply ignored (RFC 8200 section 4.5).
 */
export interface ReassemblyLimits {
  /** Datagrams in progress at once; the oldest is dropped to make room. */
  maxDatagrams: number;
  /** Memory charged for buffered fragments across all datagrams: their payload bytes plus
   *  PIECE_OVERHEAD_BYTES for each stored piece (thousands of tiny fragments cost far more
   *  than their bytes). */
  maxBytes: number;
  /** A datagram not complete this long after its first fragment (capture time) is dropped. */
  timeoutMicros: number;
}

/** Highest end offset of a fragment: an IP datagram is at most 65535 bytes long. */
const MAX_DATAGRAM_PAYLOAD = 65535;
/** What a stored piece costs beyond its bytes: its record and its Buffer object. */
export const PIECE_OVERHEAD_BYTES = 128;

interface Piece {
  start: number;
  end: number;
  data: Buffer;
}

class PendingDatagram {
  /** Sorted by start and never overlapping. */
  readonly pieces: Piece[] = [];
  fragments = 0;
  bufferedBytes = 0;
  /** bufferedBytes plus the overhead of its pieces: what counts against maxBytes. */
  chargedBytes = 0;
  /** Length of the fragmentable part, known once the last fragment arrived; -1 before. */
  totalLength = -1;
  /** Protocol (IPv4) or next header (IPv6) taken from the offset-0 fragment; -1 before. */
  firstProtocol = -1;

  constructor(
    readonly key: string,
    readonly firstSeenMicros: number,
  ) {}

  highestEnd(): number {
    const last = this.pieces[this.pieces.length - 1];
    return last === undefined ? 0 : last.end;
  }
}

/** Fragments one datagram may arrive in before it is given up. */
const MAX_FRAGMENTS_PER_DATAGRAM = 256;

export class FragmentReassembler {
  /** Insertion order is arrival order, so the first entry is the oldest. */
  private readonly pending = new Map<string, PendingDatagram>();
  private chargedBytes = 0;
  /** Capture time at which the oldest pending datagram times out; Infinity when none. */
  nextExpiryMicros = Infinity;
  /** Protocol / next header of the datagram that add() last returned. */
  completedProtocol = 0;

  constructor(
    private readonly limits: ReassemblyLimits,
    private readonly stats: DecodeStats,
  ) {}

  get pendingDatagrams(): number {
    return this.pending.size;
  }

  /** Memory charged for what is buffered (payload plus PIECE_OVERHEAD_BYTES a piece). */
  get pendingBytes(): number {
    return this.chargedBytes;
  }

  /** Drop every datagram whose time is up at `nowMicros`. */
  expire(nowMicros: number): void {
    for (const datagram of this.pending.values()) {
      if (datagram.firstSeenMicros + this.limits.timeoutMicros > nowMicros) break;
      this.drop(datagram);
    }
    this.updateNextExpiry();
  }

  /**
   * Add the fragment `buf[start, end)` found at byte `fragOffset` of datagram `key`.
   * Returns the whole fragmentable part when this fragment completes the datagram
   * (completedProtocol then says what it starts with), otherwise null.
   */
  add(
    key: string,
    tsMicros: number,
    fragOffset: number,
    moreFragments: boolean,
    protocol: number,
    strictOverlaps: boolean,
    buf: Buffer,
    start: number,
    end: number,
  ): Buffer | null {
    this.stats.fragments++;
    const length = end - start;
    const fragEnd = fragOffset + length;
    // Every fragment but the last carries a multiple of 8 bytes (offsets are in 8-byte units).
    if (fragEnd > MAX_DATAGRAM_PAYLOAD || (moreFragments && (length === 0 || (length & 7) !== 0))) {
      this.stats.malformed++;
      this.stats.fragmentsDropped++;
      return null;
    }

    let datagram = this.pending.get(key);
    if (datagram === undefined) {
      // With a limit of 0 there is nothing to push out: reassembly is off.
      if (this.pending.size >= this.limits.maxDatagrams && !this.dropOldestExcept(null)) {
        this.stats.fragmentsDropped++;
        return null;
      }
      datagram = new PendingDatagram(key, tsMicros);
      this.pending.set(key, datagram);
      this.nextExpiryMicros = Math.min(this.nextExpiryMicros, tsMicros + this.limits.timeoutMicros);
    }
    datagram.fragments++;
    // Real datagrams need at most ~120 fragments (64 KiB over a 576-byte MTU); thousands of
    // 8-byte pieces would cost far more memory and time than their bytes show.
    if (datagram.fragments > MAX_FRAGMENTS_PER_DATAGRAM) return this.spoil(datagram);

    // The last fragment fixes the length; anything contradicting it spoils the datagram.
    if (!moreFragments) {
      if ((datagram.totalLength >= 0 && datagram.totalLength !== fragEnd) || datagram.highestEnd() > fragEnd) {
        return this.spoil(datagram);
      }
      datagram.totalLength = fragEnd;
    } else if (datagram.totalLength >= 0 && fragEnd > datagram.totalLength) {
      return this.spoil(datagram);
    }

    const uncovered = this.uncoveredBytes(datagram, fragOffset, fragEnd);
    if (uncovered < length && strictOverlaps) {
      if (isExactDuplicate(datagram, fragOffset, fragEnd, buf, start)) {
        datagram.fragments--;
        this.stats.fragmentsDropped++;
        return null;
      }
      this.drop(datagram);
      this.updateNextExpiry();
      return null;
    }

    // Make room under the byte budget, oldest datagrams first.
    // A fragment usually fills one hole: charge one piece up front (fillHoles charges each).
    while (this.chargedBytes + uncovered + PIECE_OVERHEAD_BYTES > this.limits.maxBytes) {
      if (!this.dropOldestExcept(datagram)) {
        this.drop(datagram);
        this.updateNextExpiry();
        return null;
      }
    }

    if (fragOffset === 0) datagram.firstProtocol = protocol;
    this.fillHoles(datagram, fragOffset, fragEnd, buf, start);

    if (datagram.totalLength < 0 || datagram.bufferedBytes !== datagram.totalLength) return null;
    return this.complete(datagram);
  }

  /** Bytes of [from, to) that no stored piece covers yet. */
  private uncoveredBytes(datagram: PendingDatagram, from: number, to: number): number {
    let uncovered = to - from;
    for (const piece of datagram.pieces) {
      if (piece.start >= to) break;
      const overlap = Math.min(piece.end, to) - Math.max(piece.start, from);
      if (overlap > 0) uncovered -= overlap;
    }
    return uncovered;
  }

  /** Store the parts of [from, to) that are still holes, keeping pieces sorted. */
  private fillHoles(datagram: PendingDatagram, from: number, to: number, buf: Buffer, start: number): void {
    const pieces = datagram.pieces;
    let i = 0;
    while (i < pieces.length && pieces[i].end <= from) i++;
    let cursor = from;
    while (cursor < to) {
      const next = pieces[i];
      if (next !== undefined && next.start <= cursor) {
        cursor = Math.max(cursor, next.end);
        i++;
        continue;
      }
      const holeEnd = next === undefined ? to : Math.min(to, next.start);
      const data = Buffer.allocUnsafe(holeEnd - cursor);
      buf.copy(data, 0, start + (cursor - from), start + (holeEnd - from));
      pieces.splice(i, 0, { start: cursor, end: holeEnd, data });
      datagram.bufferedBytes += data.length;
      datagram.chargedBytes += data.length + PIECE_OVERHEAD_BYTES;
      this.chargedBytes += data.length + PIECE_OVERHEAD_BYTES;
      i++;
      cursor = holeEnd;
    }
  }

  private complete(datagram: PendingDatagram): Buffer {
    const whole = Buffer.allocUnsafe(datagram.totalLength);
    for (const piece of datagram.pieces) piece.data.copy(whole, piece.start);
    this.remove(datagram);
    this.updateNextExpiry();
    this.stats.reassembled++;
    this.completedProtocol = datagram.firstProtocol;
    return whole;
  }

  /** Contradictory fragments: the datagram cannot be trusted any more. */
  private spoil(datagram: PendingDatagram): null {
    this.stats.malformed++;
    this.drop(datagram);
    this.updateNextExpiry();
    return null;
  }

  /** Returns false when there was nothing but `keep` to drop. */
  private dropOldestExcept(keep: PendingDatagram | null): boolean {
    for (const datagram of this.pending.values()) {
      if (datagram === keep) continue;
      this.drop(datagram);
      this.updateNextExpiry();
      return true;
    }
    return false;
  }

  private drop(datagram: PendingDatagram): void {
    this.stats.fragmentsDropped += datagram.fragments;
    this.remove(datagram);
  }

  private remove(datagram: PendingDatagram): void {
    this.pending.delete(datagram.key);
    this.chargedBytes -= datagram.chargedBytes;
  }

  private updateNextExpiry(): void {
    const oldest = this.pending.values().next();
    this.nextExpiryMicros = oldest.done ? Infinity : oldest.value.firstSeenMicros + this.limits.timeoutMicros;
  }
}

function isExactDuplicate(datagram: PendingDatagram, from: number, to: number, buf: Buffer, start: number): boolean {
  for (const piece of datagram.pieces) {
    if (piece.start === from && piece.end === to) return buf.compare(piece.data, 0, piece.data.length, start, start + (to - from)) === 0;
  }
  return false;
}
