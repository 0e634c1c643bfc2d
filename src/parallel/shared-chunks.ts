/**
 * The read chunks of a parallel replay, in shared memory: the reader reads the capture file
 * straight into them and the shard workers read packet payload where it lies (a ring record
 * names the offset), so a payload byte is never copied between threads. A chunk is read
 * into again only once every worker has processed the last record that points into it.
 */
import { READ_CHUNK_BYTES, type ChunkSource } from '../capture/reader.js';
import type { PacketRingWriter } from './packet-ring.js';

export class SharedChunks implements ChunkSource {
  readonly memory: SharedArrayBuffer;
  private readonly views: Buffer[];
  /** Per chunk and ring: ring position just after the last record pointing into the chunk. */
  private readonly lastUse: Int32Array;
  private readonly pointed: Uint8Array;
  private turn = 0;
  private lastBuf: Buffer | null = null;
  private lastBase = -1;

  constructor(
    readonly count: number,
    private readonly rings: readonly PacketRingWriter[],
  ) {
    this.memory = new SharedArrayBuffer(count * READ_CHUNK_BYTES);
    this.views = Array.from({ length: count }, (_, i) => Buffer.from(this.memory, i * READ_CHUNK_BYTES, READ_CHUNK_BYTES));
    this.lastUse = new Int32Array(count * rings.length);
    this.pointed = new Uint8Array(count * rings.length);
  }

  /** The next chunk to read into, once the workers are done with what it held. */
  next(): Buffer {
    const chunk = this.turn;
    this.turn = (this.turn + 1) % this.count;
    for (let r = 0; r < this.rings.length; r++) {
      const k = chunk * this.rings.length + r;
      if (this.pointed[k]) this.rings[r]!.waitUntilRead(this.lastUse[k]!);
      this.pointed[k] = 0;
    }
    return this.views[chunk]!;
  }

  /** Offset in `memory` of byte `offset` of `buf`, or -1 when buf is not one of the chunks. */
  offsetOf(buf: Buffer, offset: number): number {
    // Consecutive packets mostly share their buffer: check the last one first.
    if (buf !== this.lastBuf) {
      this.lastBuf = buf;
      this.lastBase = buf.buffer === this.memory ? buf.byteOffset : -1;
    }
    return this.lastBase < 0 ? -1 : this.lastBase + offset;
  }

  /** Ring `ring` now has a record (ending at its current position) pointing at `at`. */
  pointedAt(at: number, ring: number): void {
    const k = Math.floor(at / READ_CHUNK_BYTES) * this.rings.length + ring;
    this.lastUse[k] = this.rings[ring]!.position;
    this.pointed[k] = 1;
  }
}
