import { describe, expect, it } from 'vitest';
import { OrderedMerge, type OrderedRecord } from '../src/parallel/ordered-merge.js';

const rec = (ordinal: number, value: string): OrderedRecord<string> => ({ ordinal, value });

function merge(sources: number): { m: OrderedMerge<string>; out: string[] } {
  const out: string[] = [];
  return { m: new OrderedMerge<string>(sources, (v, source, ordinal) => out.push(`${v}@${ordinal}/${source}`)), out };
}

describe('OrderedMerge', () => {
  it('holds records until every source is complete through their ordinal', () => {
    const { m, out } = merge(2);
    m.push(0, [rec(3, 'a'), rec(9, 'b')], 10);
    expect(out).toEqual([]); // source 1 has said nothing yet
    expect(m.pending).toBe(2);
    m.push(1, [rec(5, 'c')], 6);
    expect(out).toEqual(['a@3/0', 'c@5/1']);
    m.push(1, [], 12);
    expect(out).toEqual(['a@3/0', 'c@5/1', 'b@9/0']);
    expect(m.pending).toBe(0);
  });

  it('orders by ordinal, then by source, then as sent', () => {
    const { m, out } = merge(3);
    m.push(2, [rec(4, 'x'), rec(4, 'y')], 4);
    m.push(0, [rec(4, 'p'), rec(7, 'q')], 8);
    m.push(1, [rec(1, 'k'), rec(4, 'l')], 8);
    m.push(2, [], Infinity);
    expect(out).toEqual(['k@1/1', 'p@4/0', 'l@4/1', 'x@4/2', 'y@4/2', 'q@7/0']);
  });

  it('gives the same order however the batches interleave in time', () => {
    const batches: [number, OrderedRecord<string>[], number][] = [
      [0, [rec(2, 'a0')], 5],
      [1, [rec(1, 'b0'), rec(5, 'b1')], 5],
      [0, [rec(6, 'a1'), rec(9, 'a2')], 10],
      [1, [rec(9, 'b2')], 12],
      [0, [], Infinity],
      [1, [rec(13, 'b3')], Infinity],
    ];
    const orders = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      // Keep each source's own batches in order, shuffle how the two sources interleave.
      const queues = [batches.filter((b) => b[0] === 0), batches.filter((b) => b[0] === 1)];
      const { m, out } = merge(2);
      let x = seed;
      while (queues[0]!.length + queues[1]!.length > 0) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        const pick = queues[0]!.length === 0 ? 1 : queues[1]!.length === 0 ? 0 : x & 1;
        const [source, records, through] = queues[pick]!.shift()!;
        m.push(source, records, through);
      }
      orders.add(out.join(' '));
    }
    expect([...orders]).toEqual(['b0@1/1 a0@2/0 b1@5/1 a1@6/0 a2@9/0 b2@9/1 b3@13/1']);
  });

  it('drain releases everything held, in order (an interrupt)', () => {
    const { m, out } = merge(2);
    m.push(0, [rec(8, 'late')], 8);
    m.push(1, [rec(2, 'early')], 2);
    expect(out).toEqual(['early@2/1']);
    m.drain();
    expect(out).toEqual(['early@2/1', 'late@8/0']);
  });
});
