/**
 * Merges the output of shard workers back into one stream in capture order. Every record
 * carries the ordinal of the packet whose processing produced it (all workers count every
 * packet, so ordinals agree), and every batch says through which ordinal its worker is
 * complete. A record is released once all workers are complete through its ordinal; ties
 * go to the lower worker index. The order is therefore a function of the input alone, not
 * of thread timing, and matches a single worker's except among records of one packet.
 */

export interface OrderedRecord<T> {
  ordinal: number;
  value: T;
}

export class OrderedMerge<T> {
  private readonly queues: OrderedRecord<T>[][];
  /** Index of the first unreleased record per queue (queues are compacted when drained). */
  private readonly heads: number[];
  private readonly through: number[];

  constructor(
    sources: number,
    private readonly deliver: (value: T, source: number, ordinal: number) => void,
  ) {
    this.queues = Array.from({ length: sources }, () => []);
    this.heads = new Array<number>(sources).fill(0);
    this.through = new Array<number>(sources).fill(0);
  }

  /** Records held back, waiting for a slower worker. */
  get pending(): number {
    let n = 0;
    for (let s = 0; s < this.queues.length; s++) n += this.queues[s]!.length - this.heads[s]!;
    return n;
  }

  /**
   * Adds a batch from `source` (ordinals not decreasing, none at or below an earlier
   * batch's `through`) and releases everything that is now final.
   */
  push(source: number, records: readonly OrderedRecord<T>[], through: number): void {
    const queue = this.queues[source]!;
    for (const r of records) queue.push(r);
    if (through > this.through[source]!) this.through[source] = through;
    this.release(Math.min(...this.through));
  }

  /** Releases every record held, in order (the end of the run, or an interrupt). */
  drain(): void {
    this.release(Infinity);
  }

  private release(frontier: number): void {
    for (;;) {
      let best = -1;
      let bestOrdinal = Infinity;
      for (let s = 0; s < this.queues.length; s++) {
        const queue = this.queues[s]!;
        const head = this.heads[s]!;
        if (head >= queue.length) continue;
        const ordinal = queue[head]!.ordinal;
        if (ordinal <= frontier && ordinal < bestOrdinal) {
          best = s;
          bestOrdinal = ordinal;
        }
      }
      if (best < 0) break;
      const queue = this.queues[best]!;
      const head = this.heads[best]!;
      this.heads[best] = head + 1;
      this.deliver(queue[head]!.value, best, queue[head]!.ordinal);
      if (head + 1 === queue.length) {
        queue.length = 0;
        this.heads[best] = 0;
      }
    }
  }
}
