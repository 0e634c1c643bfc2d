import { seqAdd, seqDiff } from './seq.js';

/** Approximate memory of one held segment beyond its payload (Buffer object, backing
 *  store, array slots). Caps count it so that many tiny segments cannot hide behind a small
 *  byte count. */
export const SEGMENT_OVERHEAD_BYTES = 128;

/**
 * Out-of-order bytes of one TCP direction. Segments are copies (the capture buffer is reused
 * once the packet callback returns), kept sorted by sequence number and never overlapping,
 * so delivery only ever looks at the front.
 *
 * Positions are compared as distances from `base`, the next expected sequence number of the
 * direction: everything held lies ahead of it, which keeps the order right across the 2^32
 * wraparound.
 */
export class ReorderBuffer {
  private readonly seqs: number[] = [];
  private readonly chunks: Buffer[] = [];
  /** Payload bytes held. */
  bytes = 0;

  get segmentCount(): number {
    return this.seqs.length;
  }

  /** Memory charged against the buffer caps: payload plus per-segment overhead. */
  get cost(): number {
    return this.bytes + this.seqs.length * SEGMENT_OVERHEAD_BYTES;
  }

  /** Sequence number of the first held segment (only when segmentCount > 0). */
  firstSeq(): number {
    return this.seqs[0]!;
  }

  /** Removes the first held segment and returns its bytes. */
  shift(): Buffer {
    this.seqs.shift();
    const chunk = this.chunks.shift()!;
    this.bytes -= chunk.length;
    return chunk;
  }

  /**
   * Copies the parts of [seq, seq + length) that are not held yet (bytes already held win)
   * and returns how many bytes were stored. `seq` must lie ahead of `base`.
   */
  insert(base: number, seq: number, src: Buffer, offset: number, length: number): number {
    const start = seqDiff(seq, base);
    const end = start + length;
    let index = this.firstEndingAfter(base, start);
    let cursor = start;
    let stored = 0;
    while (cursor < end) {
      const heldStart = index < this.seqs.length ? seqDiff(this.seqs[index]!, base) : end;
      if (heldStart > cursor) {
        const pieceEnd = Math.min(heldStart, end);
        const piece = Buffer.allocUnsafeSlow(pieceEnd - cursor);
        src.copy(piece, 0, offset + (cursor - start), offset + (pieceEnd - start));
        this.seqs.splice(index, 0, seqAdd(base, cursor));
        this.chunks.splice(index, 0, piece);
        stored += piece.length;
        cursor = pieceEnd;
      } else {
        cursor = Math.max(cursor, heldStart + this.chunks[index]!.length);
      }
      index++;
    }
    this.bytes += stored;
    return stored;
  }

  /** Index of the first held segment whose end lies after `position` (binary search: held
   *  segments do not overlap, so their ends are sorted too). */
  private firstEndingAfter(base: number, position: number): number {
    let low = 0;
    let high = this.seqs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (seqDiff(this.seqs[mid]!, base) + this.chunks[mid]!.length > position) high = mid;
      else low = mid + 1;
    }
    return low;
  }
}
