import { describe, expect, it } from 'vitest';
import type { DecodedPacket } from '../src/decode/types.js';
import { FlowTable, type FlowTableOptions } from '../src/flow/flow-table.js';
import type { Direction, Flow, StreamHandler } from '../src/flow/types.js';
import { seededRandom } from '../src/synth/rng.js';
import { CLIENT, POOL, TcpConversation } from './support/flow-packets.js';

/** Logs data and gaps of both directions in the order they happen. */
class StreamLog implements StreamHandler {
  readonly log: { dir: Direction; data?: Buffer; gap?: number }[] = [];
  ended = 0;
  onData(_flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number): void {
    this.log.push({ dir, data: Buffer.from(buf.subarray(offset, offset + length)) });
  }
  onGap(_flow: Flow, dir: Direction, lost: number): void {
    this.log.push({ dir, gap: lost });
  }
  onFlowEnd(): void {
    this.ended++;
  }
}

interface Piece {
  dir: Direction;
  offset: number;
  length: number;
}

function randomStream(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (random() * 256) | 0;
  return bytes;
}

/** Cuts [0, length) into segments, adds overlapping re-sent ranges and exact duplicates. */
function segmentsFor(random: () => number, dir: Direction, length: number): Piece[] {
  const pieces: Piece[] = [];
  for (let offset = 0; offset < length; ) {
    const size = Math.min(length - offset, 1 + ((random() * 700) | 0));
    pieces.push({ dir, offset, length: size });
    offset += size;
  }
  const extras = (random() * pieces.length) | 0;
  for (let i = 0; i < extras; i++) {
    if (random() < 0.5) {
      pieces.push({ ...pieces[(random() * pieces.length) | 0]! });
    } else {
      const offset = (random() * length) | 0;
      pieces.push({ dir, offset, length: Math.min(length - offset, 1 + ((random() * 900) | 0)) });
    }
  }
  return pieces;
}

function shuffle<T>(random: () => number, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = (random() * (i + 1)) | 0;
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Either a full shuffle or in-order with local swaps, as real reordering mostly is. */
function reorder(random: () => number, pieces: Piece[]): Piece[] {
  if (random() < 0.5) return shuffle(random, pieces);
  pieces.sort((a, b) => a.offset - b.offset);
  for (let i = 0; i + 1 < pieces.length; i++) {
    if (random() < 0.3) [pieces[i], pieces[i + 1]] = [pieces[i + 1]!, pieces[i]!];
  }
  return pieces;
}

function randomIsn(random: () => number): number {
  // a third of the cases start just below 2^32 so the stream wraps
  return random() < 0.33 ? (0x100000000 - 1 - ((random() * 20000) | 0)) >>> 0 : (random() * 0x100000000) >>> 0;
}

function run(seed: number, options: Partial<FlowTableOptions>, lossRate: number) {
  const random = seededRandom(seed);
  const conv = new TcpConversation(CLIENT, POOL, [randomIsn(random), randomIsn(random)]);
  const streams = [randomStream(random, 1 + ((random() * 12000) | 0)), randomStream(random, (random() * 6000) | 0)] as const;
  let pieces = reorder(random, [...segmentsFor(random, 0, streams[0].length), ...segmentsFor(random, 1, streams[1].length)]);
  pieces = pieces.filter(() => random() >= lossRate);

  const log = new StreamLog();
  const table = new FlowTable(log, options);
  let ts = 1_700_000_000_000_000;
  const feed = (pkt: DecodedPacket) => table.process(pkt, (ts += 7));
  feed(conv.syn());
  feed(conv.synAck());
  let fedBytes = 0;
  let peakBuffered = 0;
  const fedEnd = [0, 0];
  for (const piece of pieces) {
    const payload = streams[piece.dir].subarray(piece.offset, piece.offset + piece.length);
    feed(conv.data(piece.dir, piece.offset, payload));
    fedBytes += piece.length;
    peakBuffered = Math.max(peakBuffered, table.stats.bufferedBytes);
    fedEnd[piece.dir] = Math.max(fedEnd[piece.dir]!, piece.offset + piece.length);
  }
  feed(conv.fin(0, streams[0].length));
  feed(conv.fin(1, streams[1].length));
  return { table, log, streams, fedBytes, fedEnd, peakBuffered };
}

/** Replays the log per direction: every delivered byte must sit where the gaps put it. */
function replay(log: StreamLog, streams: readonly [Buffer, Buffer]) {
  const position = [0, 0];
  for (const entry of log.log) {
    if (entry.gap !== undefined) {
      position[entry.dir] += entry.gap;
      continue;
    }
    const at = position[entry.dir]!;
    expect(entry.data!.equals(streams[entry.dir].subarray(at, at + entry.data!.length))).toBe(true);
    position[entry.dir] = at + entry.data!.length;
  }
  return position;
}

describe('TCP reassembly (randomised, seeded)', () => {
  it('rebuilds both byte streams exactly under any permutation with duplicates and overlaps', () => {
    let bufferedCases = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const { table, log, streams, fedBytes, peakBuffered } = run(seed, {}, 0);
      if (peakBuffered > 0) bufferedCases++;
      const delivered = [0, 1].map((dir) => Buffer.concat(log.log.filter((e) => e.dir === dir && e.data).map((e) => e.data!)));
      expect(delivered[0]!.equals(streams[0]), `seed ${seed} direction 0`).toBe(true);
      expect(delivered[1]!.equals(streams[1]), `seed ${seed} direction 1`).toBe(true);
      expect(log.log.some((e) => e.gap !== undefined)).toBe(false);
      expect(table.stats.retransmittedBytes).toBe(fedBytes - streams[0].length - streams[1].length);
      expect(table.stats.bufferedBytes).toBe(0);
      expect(log.ended).toBe(1);
    }
    expect(bufferedCases).toBeGreaterThan(300);
  });

  it('keeps every delivered byte in place when segments are lost and buffers are small', () => {
    let overflowCases = 0;
    let gapCases = 0;
    for (let seed = 1000; seed < 1300; seed++) {
      const { table, log, streams, fedEnd } = run(seed, { maxOutOfOrderBytesPerDirection: 2048, maxBufferedBytesTotal: 3000 }, 0.15);
      const position = replay(log, streams);
      // closing skips the remaining holes, so each direction ends where its data ended
      expect(position, `seed ${seed}`).toEqual(fedEnd);
      expect(table.stats.bufferedBytes).toBe(0);
      expect(table.stats.gapBytes).toBe(log.log.reduce((sum, e) => sum + (e.gap ?? 0), 0));
      expect(log.ended).toBe(1);
      if (table.stats.bufferOverflowBytes > 0) overflowCases++;
      if (table.stats.gapBytes > 0) gapCases++;
    }
    // the scenario really exercised both ways of skipping
    expect(overflowCases).toBeGreaterThan(20);
    expect(gapCases).toBeGreaterThan(150);
  });
});
