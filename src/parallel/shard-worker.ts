/**
 * One shard of a parallel replay (a worker thread). It takes the decoded packets of its
 * flows from its ring (parallel/packet-ring.ts), which the reading thread fills, runs them
 * through its own flow table and detection, and sends hits and sessions to the main thread,
 * the only SQLite writer, tagged with packet ordinals. The loop is synchronous: it blocks
 * on the ring when it is empty, after sending what it has.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createReplaySensor } from '../cli/replay-pipeline.js';
import { DecodedPacket } from '../decode/types.js';
import { loadSignatureDir } from '../signatures/signature-set.js';
import type { ReplayRecord, WorkerMessage, WorkerStart } from './messages.js';
import type { OrderedRecord } from './ordered-merge.js';
import { PacketRingReader, RECORD_END, RECORD_PACKET, RECORD_SOURCE, RECORD_SWEEP, RECORD_TICK } from './packet-ring.js';

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

  let records: OrderedRecord<ReplayRecord>[] = [];
  let ordinal = 0;
  const sensor = createReplaySensor(
    {
      evidence: (evidence) => records.push({ ordinal, value: { kind: 'evidence', evidence } }),
      session: (session) => records.push({ ordinal, value: { kind: 'session', session } }),
    },
    { maxFlows: start.maxFlows, signatures: loaded.set, externalSweeps: true },
  );
  const ring = new PacketRingReader(start.ring, start.chunks);
  const pkt = new DecodedPacket();
  const flows = sensor.flows;
  /** Every record up to this ordinal is fully processed. */
  let through = 0;
  let sharedFlowsCreated = 0;
  const detect = sensor.engine.stats;
  /** DNS figures of copies of other shards' datagrams (their owner counts them too). */
  const sharedDetect = { dnsMessages: 0, dnsLearned: 0 };
  let sinceReport = 0;
  let reportedAt = performance.now();
  const report = (): void => {
    const message: WorkerMessage = { type: 'batch', records, through };
    records = [];
    sinceReport = 0;
    reportedAt = performance.now();
    port.postMessage(message);
  };
  const dryWithNews = (): boolean =>
    sinceReport > 0 && !ring.hasRecord() && (records.length > 0 || performance.now() - reportedAt >= REPORT_IDLE_MS);

  for (;;) {
    if (sinceReport >= REPORT_EVERY_RECORDS || dryWithNews()) report();
    const r = ring.next(pkt);
    sinceReport++;
    ordinal = r.ordinal;
    if (r.kind === RECORD_PACKET) {
      if (r.shared) {
        const before = flows.stats.created;
        const messages = detect.dnsMessages;
        const learned = detect.dnsLearned;
        flows.processPacket(pkt);
        sharedFlowsCreated += flows.stats.created - before;
        sharedDetect.dnsMessages += detect.dnsMessages - messages;
        sharedDetect.dnsLearned += detect.dnsLearned - learned;
      } else {
        flows.processPacket(pkt);
      }
      through = ordinal;
    } else if (r.kind === RECORD_SWEEP) {
      flows.sweep(r.value);
      through = ordinal - 1;
    } else if (r.kind === RECORD_TICK) {
      through = ordinal - 1;
    } else if (r.kind === RECORD_SOURCE) {
      sensor.setSource(start.files[r.value] ?? '');
      through = ordinal;
    } else if (r.kind === RECORD_END) {
      break;
    }
  }
  ring.release();
  sensor.finish();
  const done: WorkerMessage = {
    type: 'done',
    records,
    totals: { flows: sensor.flows.stats, sharedFlowsCreated, detect, sharedDetect },
  };
  port.postMessage(done);
}

// An exception reaches the main thread as the worker's 'error' event.
main();
