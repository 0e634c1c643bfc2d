/**
 * A shard of a parallel replay in a worker thread. It takes the decoded packets of its
 * flows from its ring (packet-ring.ts), which the reading thread fills, runs them through
 * its own flow table and detection (shard-processor.ts), and sends hits and sessions to the
 * main thread, the only SQLite writer, tagged with packet ordinals. The loop is
 * synchronous: it blocks on the ring when it is empty, after sending what it has.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DecodedPacket } from '../decode/types.js';
import { loadSignatureDir } from '../signatures/signature-set.js';
import type { WorkerMessage, WorkerStart } from './messages.js';
import { PacketRingReader, RECORD_END, RECORD_PACKET, RECORD_SOURCE, RECORD_SWEEP, RECORD_TICK } from './packet-ring.js';
import { ShardProcessor } from './shard-processor.js';

/** Output is sent at least every this many records, and when the ring runs dry with
 *  output waiting or progress not reported for a while. */
const REPORT_EVERY_RECORDS = 8192;
const REPORT_IDLE_MS = 20;

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('shard-worker runs as a worker thread');
  const start = workerData as WorkerStart;
  const loaded = loadSignatureDir(start.signatureDir);
  if (!loaded.set) throw new Error(`signatures in ${start.signatureDir} cannot be loaded`);
  const shard = new ShardProcessor(loaded.set, start.maxFlows);
  const ring = new PacketRingReader(start.ring, start.chunks);
  const pkt = new DecodedPacket();
  let sinceReport = 0;
  let reportedAt = performance.now();
  const report = (): void => {
    const message: WorkerMessage = { type: 'batch', records: shard.take(), through: shard.through };
    sinceReport = 0;
    reportedAt = performance.now();
    port.postMessage(message);
  };
  const dryWithNews = (): boolean =>
    sinceReport > 0 && !ring.hasRecord() && (shard.records.length > 0 || performance.now() - reportedAt >= REPORT_IDLE_MS);

  for (;;) {
    if (sinceReport >= REPORT_EVERY_RECORDS || dryWithNews()) report();
    const r = ring.next(pkt);
    sinceReport++;
    if (r.kind === RECORD_PACKET) shard.packet(pkt, r.ordinal, r.shared);
    else if (r.kind === RECORD_SWEEP) shard.sweep(r.value, r.ordinal);
    else if (r.kind === RECORD_TICK) shard.tick(r.ordinal);
    else if (r.kind === RECORD_SOURCE) shard.setSource(start.files[r.value] ?? '', r.ordinal);
    else if (r.kind === RECORD_END) {
      ring.release();
      shard.finish(r.ordinal);
      break;
    }
  }
  const done: WorkerMessage = { type: 'done', records: shard.take(), totals: shard.totals() };
  port.postMessage(done);
}

// An exception reaches the main thread as the worker's 'error' event; the ring's flag wakes
// the reader first if it is waiting for this worker.
try {
  main();
} catch (err) {
  new PacketRingReader((workerData as WorkerStart).ring, (workerData as WorkerStart).chunks).fail();
  throw err;
}
