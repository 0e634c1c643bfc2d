/**
 * Parallel replay with N threads: the calling thread reads and decodes every packet once,
 * processes the share of the flows the cost model below gives it (none by default) and
 * hands every other packet to the worker thread (N - 1 of them) of its flow's shard through
 * a shared-memory ring (dispatcher.ts, packet-ring.ts). The calling thread merges all hits
 * and sessions in capture order (OrderedMerge) and is the only one that writes SQLite.
 * Flows are sharded by the symmetric flow hash, so both directions of a connection meet,
 * and idle sweeps run at the same packets in every shard: the stored result is the one a
 * single thread stores.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readCaptureFile, type ReadProgress } from '../capture/reader.js';
import type { InputResult } from '../cli/summary.js';
import type { ReplaySinks, ReplayTotals } from '../cli/replay-pipeline.js';
import type { DetectStats } from '../detect/engine.js';
import { MinerDigests } from '../miner-digests.js';
import type { SignatureSet } from '../signatures/signature-set.js';
import { PacketDispatcher } from './dispatcher.js';
import type { ReplayRecord, WorkerMessage, WorkerStart, WorkerTotals } from './messages.js';
import { OrderedMerge } from './ordered-merge.js';
import { createRingMemory, PacketRingWriter } from './packet-ring.js';
import { SharedChunks } from './shared-chunks.js';
import { ShardProcessor } from './shard-processor.js';

export interface ShardedReplayOptions {
  /** Threads in all: this one and workers - 1 worker threads. */
  workers: number;
  /**
   * Flow table capacity of each shard. Not divided among them: a shard holds its own flows
   * plus the shared DNS flows of all, and must never have to evict where one table over all
   * flows would not, or the results would differ.
   */
  maxFlows: number;
  signatureDir: string;
  /** Share of the flows (0 to 1) the reading thread processes itself; by default the share
   *  that evens out the threads' work (localShare). */
  readerShare?: number;
}

/** Bytes of each worker's ring: room for some 40,000 records pointing into the chunks (or
 *  fewer with their payload inside), so that a shard busy with a burst of its flows does
 *  not hold up the reader at once. */
const RING_BYTES = 4 * 1024 * 1024;
/**
 * Reading, decoding and dispatching a packet cost about this multiple of what its flow
 * table and detection cost: one-thread CPU profiles of the 4 GB bench input give ~1.2 s to
 * read(), record parsing, decoding, hashing and the DNS screen against ~0.8 s for the
 * rest. The reading thread takes the share of the flows that evens the threads' work out,
 * (1 + r) / N - r: none, from two threads on. (With 0.75, as first estimated, it took an
 * eighth of the flows with two threads and was 10-18 % slower: README, Parallel replay.)
 */
const READ_TO_FLOW_WORK = 1.5;

export function localShare(threads: number): number {
  return Math.max(0, (1 + READ_TO_FLOW_WORK) / threads - READ_TO_FLOW_WORK);
}

/** Read chunks (1 MiB each) the reader may be ahead of the slowest worker. */
const SHARED_CHUNKS = 24;

/** Thrown from the packet handler to leave the reader on Ctrl-C. */
class Stopped extends Error {}

/** Called as the reader moves through the inputs (for a progress bar). */
export type ProgressListener = (file: number, progress: ReadProgress) => void;

/**
 * Starts a shard worker: from the command's bundle (dist/bundle/minewatch.cjs) the worker's
 * bundle through the code-cache loader (dist/bundle/loader.cjs); from tsc's dist/ the
 * compiled shard-worker.js; from source under tsx, shard-worker.ts behind tsx's loader
 * (worker threads do not inherit the --import tsx hooks of the main thread).
 */
function startWorker(workerData: WorkerStart): Worker {
  if (import.meta.url.endsWith('.cjs')) {
    const loader = fileURLToPath(new URL('./loader.cjs', import.meta.url));
    const boot = `require(${JSON.stringify(loader)}).runBundle('shard-worker');`;
    return new Worker(boot, { eval: true, workerData });
  }
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./shard-worker.js', import.meta.url), { workerData });
  const entry = new URL('./shard-worker.ts', import.meta.url).href;
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

export class ShardedReplay {
  readonly digests = new MinerDigests();
  /** Flows each shard created (its own, not copies of shared DNS), the reading thread's
   *  first; filled when run() settles. */
  readonly flowsPerShard: number[] = [];
  private readonly merge: OrderedMerge<ReplayRecord>;
  private readonly workers: Worker[] = [];
  private readonly doneWorkers = new WeakSet<Worker>();
  private readonly chunks: SharedChunks;
  private readonly writers: PacketRingWriter[];
  /** Records released at ordinal copiesAt, by the worker that sent them (firstCopy). */
  private readonly copies = new Map<string, number>();
  private copiesAt = -1;
  /** Evidence from shared flows that another worker had already sent. */
  private evidenceCopies = 0;
  private interrupted = false;
  /** Settles when every worker has sent its totals. */
  private readonly finished: Promise<WorkerTotals[]>;
  private sinks: ReplaySinks | null = null;
  /** Records merged before run() gave the sinks. */
  private readonly held: ReplayRecord[] = [];

  /** Starts the workers at once: they load while the caller prepares the store. */
  constructor(
    private readonly files: string[],
    private readonly opts: ShardedReplayOptions,
  ) {
    this.merge = new OrderedMerge<ReplayRecord>(opts.workers, (r, source, ordinal) => {
      if (this.firstCopy(r, source, ordinal)) this.deliver(r);
      else if (r.kind === 'evidence') this.evidenceCopies++;
    });
    const rings = Array.from({ length: opts.workers - 1 }, () => createRingMemory(RING_BYTES));
    this.writers = rings.map((memory) => new PacketRingWriter(memory));
    this.chunks = new SharedChunks(SHARED_CHUNKS, this.writers);
    this.finished = this.startWorkers(rings);
    // A worker that fails before run() must not count as an unhandled rejection.
    this.finished.catch(() => {});
  }

  /** Gives the sinks, reads the inputs into the workers and waits for them to finish; the
   *  totals are those a single sensor would give. */
  async run(sinks: ReplaySinks, signatures: SignatureSet, onProgress?: ProgressListener): Promise<ReplayTotals> {
    this.sinks = sinks;
    // The shard processed on this thread is merge source 0; the workers are 1..N-1.
    const local = new ShardProcessor(signatures, this.opts.maxFlows);
    const handOn = (): void => this.merge.push(0, local.take(), local.through);
    const share = this.opts.readerShare ?? localShare(this.opts.workers);
    const d = new PacketDispatcher(this.writers, this.chunks, local, share, handOn, signatures);
    for (const r of this.held.splice(0)) this.deliver(r);
    let inputs: InputResult[];
    try {
      inputs = await this.readInputs(d, onProgress);
    } catch (err) {
      // A worker failed while the reader waited for it: end the others, report the failure.
      this.stop();
      throw await this.finished.then(() => err, (workerError: unknown) => workerError);
    }
    this.merge.push(0, local.take(), Infinity);
    const results = await this.finished.finally(() => {
      if (!this.interrupted) this.stop();
    });
    if (this.interrupted) await new Promise<never>(() => {});
    this.merge.drain();
    return this.combine(d, inputs, [local.totals(), ...results]);
  }

  private async readInputs(d: PacketDispatcher, onProgress: ProgressListener | undefined): Promise<InputResult[]> {
    const handlePacket = d.handlePacket;
    const onPacket: typeof handlePacket = (pkt) => {
      if (this.interrupted) throw new Stopped();
      handlePacket(pkt);
    };
    const inputs: InputResult[] = [];
    try {
      for (let index = 0; index < this.files.length && !this.interrupted; index++) {
        const file = this.files[index]!;
        const read: ReadProgress = { bytesRead: 0 };
        onProgress?.(index, read);
        d.startInput(index, file);
        const before = d.packets;
        try {
          const stats = await readCaptureFile(file, onPacket, { progress: read, chunks: this.chunks });
          inputs.push({ file, stats, packets: d.packets - before });
        } catch (err) {
          if (err instanceof Stopped) break;
          inputs.push({ file, error: (err as Error).message, packets: d.packets - before });
        }
      }
    } finally {
      d.end();
    }
    return inputs;
  }

  private deliver(r: ReplayRecord): void {
    if (this.sinks === null) {
      this.held.push(r);
    } else if (r.kind === 'evidence') {
      this.digests.add(r.evidence);
      this.sinks.evidence(r.evidence);
    } else {
      this.sinks.session(r.session);
    }
  }

  private startWorkers(rings: SharedArrayBuffer[]): Promise<WorkerTotals[]> {
    return Promise.all(
      rings.map((ring, ringIndex) => {
        const index = ringIndex + 1; // merge source; 0 is the reading thread's own shard
        const start: WorkerStart = { files: this.files, maxFlows: this.opts.maxFlows, signatureDir: this.opts.signatureDir, ring, chunks: this.chunks.memory };
        const worker = startWorker(start);
        this.workers.push(worker);
        return new Promise<WorkerTotals>((resolve, reject) => {
          worker.on('message', (m: WorkerMessage) => {
            if (m.type === 'batch') {
              this.merge.push(index, m.records, m.through);
            } else {
              this.merge.push(index, m.records, Infinity);
              this.doneWorkers.add(worker);
              resolve(m.totals);
            }
          });
          worker.on('error', reject);
          worker.on('exit', (code) => reject(new Error(`replay worker ${index} stopped (exit code ${code})`)));
        });
      }),
    );
  }

  /**
   * DNS datagrams that may name a pool go to every shard (dispatcher.ts) and give the same
   * record at the same packet in each; only the first copy counts. Records of one shard are
   * never dropped, and records of different flows are never equal (they name their endpoints).
   */
  private firstCopy(r: ReplayRecord, source: number, ordinal: number): boolean {
    if (this.opts.workers === 1) return true;
    if (ordinal !== this.copiesAt) {
      this.copiesAt = ordinal;
      this.copies.clear();
    }
    const key = JSON.stringify(r);
    const from = this.copies.get(key);
    if (from !== undefined && from !== source) return false;
    this.copies.set(key, source);
    return true;
  }

  /**
   * Ctrl-C: the workers finish the flows open now and report them (waiting at most
   * `graceMs`), then everything received is delivered. run() never settles after this:
   * the caller stores what was delivered and exits.
   */
  async interrupt(graceMs = 3000): Promise<void> {
    // The reader stops at its next packet and tells the workers the input has ended.
    this.interrupted = true;
    await Promise.race([this.finished, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]).catch(() => {});
    this.stop();
  }

  /** Ends the workers still running and delivers every record received. A worker that
   *  sent its totals ends by itself, as soon as its last statement has run. */
  stop(): void {
    for (const w of this.workers.splice(0)) if (!this.doneWorkers.has(w)) void w.terminate();
    this.merge.drain();
  }

  private combine(d: PacketDispatcher, inputs: InputResult[], results: WorkerTotals[]): ReplayTotals {
    this.flowsPerShard.push(...results.map((r) => r.flows.created - r.sharedFlowsCreated));
    const detect = { ...results[0]!.detect };
    for (const r of results.slice(1)) {
      for (const key of Object.keys(detect) as (keyof DetectStats)[]) detect[key] += r.detect[key];
    }
    // Packets every shard read (DNS, see dispatcher.ts) count once: in their flow's own shard.
    for (const r of results) {
      for (const key of Object.keys(detect) as (keyof DetectStats)[]) detect[key] -= r.sharedDetect[key];
    }
    // Shared DNS gives intel evidence in every shard; only the first copy is kept.
    detect.evidence -= this.evidenceCopies;
    detect.intelEvidence -= this.evidenceCopies;
    return {
      inputs,
      packets: d.packets,
      bytes: d.bytes,
      flowsCreated: results.reduce((n, r) => n + r.flows.created - r.sharedFlowsCreated, 0),
      flowsEvicted: results.reduce((n, r) => n + r.flows.evicted, 0),
      decode: d.decoder.stats,
      detect,
      digests: this.digests,
    };
  }
}
