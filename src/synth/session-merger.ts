/**
 * Interleaves many conversations into one time-ordered capture while streaming it to disk:
 * only the conversations still in progress are held in memory, so a generated file can be
 * far larger than RAM. Ties (equal timestamps) go to the conversation added first, so the
 * output is a pure function of the order of add() calls.
 */
import type { Link } from './link.js';
import type { TimedPacket } from './tcp-session.js';
import type { PcapFileWriter } from './writer.js';

interface Cursor {
  packets: TimedPacket[];
  next: number;
  /** Order of add(): breaks timestamp ties deterministically. */
  order: number;
}

const RECORD_HEADER_BYTES = 16;

export class SessionMerger {
  /** Binary min-heap on (next packet time, order). */
  private readonly heap: Cursor[] = [];
  private added = 0;
  /** Bytes written to the file so far (record headers included). */
  bytesWritten = 0;
  packetsWritten = 0;

  constructor(
    private readonly writer: PcapFileWriter,
    private readonly link: Link,
  ) {}

  /** Number of conversations still being written. */
  get active(): number {
    return this.heap.length;
  }

  add(packets: TimedPacket[]): void {
    if (packets.length === 0) return;
    this.heap.push({ packets, next: 0, order: this.added++ });
    this.siftUp(this.heap.length - 1);
  }

  /** Writes every held packet stamped before `tsMicros`, in time order. */
  async writeBefore(tsMicros: number): Promise<void> {
    const heap = this.heap;
    while (heap.length > 0) {
      const top = heap[0]!;
      const packet = top.packets[top.next]!;
      if (packet.tsMicros >= tsMicros) return;
      const frame = this.link.frame(packet.ip);
      this.bytesWritten += RECORD_HEADER_BYTES + frame.length;
      this.packetsWritten++;
      const wait = this.writer.write(packet.tsMicros, frame);
      if (wait) await wait;
      top.next++;
      if (top.next < top.packets.length) {
        this.siftDown(0);
      } else {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          this.siftDown(0);
        }
      }
    }
  }

  /** Writes everything still held. */
  async drain(): Promise<void> {
    await this.writeBefore(Infinity);
  }

  private before(a: Cursor, b: Cursor): boolean {
    const ta = a.packets[a.next]!.tsMicros;
    const tb = b.packets[b.next]!.tsMicros;
    return ta < tb || (ta === tb && a.order < b.order);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) return;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}
