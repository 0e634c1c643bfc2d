/**
 * One shard of a parallel replay (a worker thread). It reads every input itself (reading
 * and decoding are a small part of the work, and page-cached reads need no coordination),
 * decodes every packet, and hands to its flow table only the flows of its shard. Hits and
 * sessions go to the main thread, the only SQLite writer, tagged with packet ordinals.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readCaptureFile, type ReadProgress } from '../capture/reader.js';
import type { InputResult } from '../cli/summary.js';
import { createReplaySensor } from '../cli/replay-pipeline.js';
import { loadSignatureDir } from '../signatures/signature-set.js';
import type { ReplayRecord, StopMessage, WorkerMessage, WorkerStart } from './messages.js';
import type { OrderedRecord } from './ordered-merge.js';

/** How often finished work is reported (the reader yields to the event loop between chunks). */
const REPORT_EVERY_MS = 50;

/** Thrown from the packet handler to leave the reader when the main thread says stop. */
class Stopped extends Error {}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('shard-worker runs as a worker thread');
  const start = workerData as WorkerStart;
  const loaded = loadSignatureDir(start.signatureDir);
  if (!loaded.set) throw new Error(`signatures in ${start.signatureDir} cannot be loaded`);

  let records: OrderedRecord<ReplayRecord>[] = [];
  // Output of packet n carries ordinal n; what the end-of-input flush emits comes after all.
  let finishing = false;
  const ordinal = (): number => (finishing ? sensor.packets + 1 : sensor.packets);
  const sensor = createReplaySensor(
    {
      evidence: (evidence) => records.push({ ordinal: ordinal(), value: { kind: 'evidence', evidence } }),
      session: (session) => records.push({ ordinal: ordinal(), value: { kind: 'session', session } }),
    },
    { maxFlows: start.maxFlows, signatures: loaded.set, shard: { index: start.index, count: start.count } },
  );

  let fileIndex = 0;
  let read: ReadProgress = { bytesRead: 0 };
  const report = (): void => {
    const message: WorkerMessage = { type: 'batch', records, through: sensor.packets, file: fileIndex, bytesRead: read.bytesRead };
    records = [];
    port.postMessage(message);
  };
  const timer = setInterval(report, REPORT_EVERY_MS);
  // Ctrl-C: the reader is left at its next turn of the event loop, and the flows open then
  // are finished below, as a single-worker replay does when interrupted.
  let stopping = false;
  port.on('message', (m: StopMessage) => (stopping = m.type === 'stop'));
  const handlePacket = sensor.handlePacket;
  const onPacket: typeof handlePacket = (pkt) => {
    if (stopping) throw new Stopped();
    handlePacket(pkt);
  };

  const inputs: InputResult[] = [];
  for (; fileIndex < start.files.length && !stopping; fileIndex++) {
    const file = start.files[fileIndex]!;
    sensor.setSource(file);
    const before = sensor.packets;
    read = { bytesRead: 0 };
    try {
      const stats = await readCaptureFile(file, onPacket, { progress: read });
      inputs.push({ file, stats, packets: sensor.packets - before });
    } catch (err) {
      if (err instanceof Stopped) break;
      inputs.push({ file, error: (err as Error).message, packets: sensor.packets - before });
    }
  }
  clearInterval(timer);
  finishing = true;
  sensor.finish();
  const done: WorkerMessage = {
    type: 'done',
    records,
    totals: {
      inputs,
      packets: sensor.packets,
      bytes: sensor.bytes,
      flows: sensor.flows.stats,
      sharedFlowsCreated: sensor.sharedFlowsCreated,
      decode: sensor.decoder.stats,
      detect: sensor.engine.stats,
    },
  };
  port.postMessage(done);
}

// An exception reaches the main thread as the worker's 'error' event.
await main();
