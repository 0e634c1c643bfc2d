/**
 * Parallel replay: N worker threads, one per shard of the flows, each reading all inputs;
 * the calling thread merges their hits and sessions in capture order (OrderedMerge) and is
 * the only one that writes SQLite. Flows are sharded by the symmetric flow hash, so both
 * directions of a connection meet in one worker, and idle sweeps run at the same packets
 * in every worker: the stored result is the one a single worker stores.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReadProgress } from '../capture/reader.js';
import type { ReplaySinks, ReplayTotals } from '../cli/replay-pipeline.js';
import type { DetectStats } from '../detect/engine.js';
import { MinerDigests } from '../miner-digests.js';
import type { ReplayRecord, StopMessage, WorkerMessage, WorkerStart, WorkerTotals } from './messages.js';
import { OrderedMerge } from './ordered-merge.js';

export interface ShardedReplayOptions {
  workers: number;
  /**
   * Flow table capacity of each worker. Not divided among them: a worker holds its shard's
   * flows plus the shared (DNS) flows of all, and a worker must never have to evict where
   * one table over all flows would not, or the results would differ.
   */
  maxFlows: number;
  signatureDir: string;
}

/** Called as the first worker moves through the inputs (for a progress bar). */
export type ProgressListener = (file: number, progress: ReadProgress) => void;

const SHARED_FLOW_STATS: readonly (keyof DetectStats)[] = ['dnsMessages', 'dnsLearned'];

/**
 * Starts a shard worker: the built shard-worker.js, or, when running from source under
 * tsx, shard-worker.ts behind tsx's loader (worker threads do not inherit the --import tsx
 * hooks of the main thread).
 */
function startWorker(workerData: WorkerStart): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./shard-worker.js', import.meta.url), { workerData });
  const entry = new URL('./shard-worker.ts', import.meta.url).href;
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

export class ShardedReplay {
  readonly digests = new MinerDigests();
  private readonly merge: OrderedMerge<ReplayRecord>;
  private readonly workers: Worker[] = [];
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
  private onProgress: ProgressListener | undefined;

  /** Starts the workers at once: they load while the caller prepares the store. */
  constructor(
    private readonly files: string[],
    private readonly opts: ShardedReplayOptions,
  ) {
    this.merge = new OrderedMerge<ReplayRecord>(opts.workers, (r, source, ordinal) => {
      if (this.firstCopy(r, source, ordinal)) this.deliver(r);
      else if (r.kind === 'evidence') this.evidenceCopies++;
    });
    this.finished = this.startWorkers();
    // A worker that fails before run() must not count as an unhandled rejection.
    this.finished.catch(() => {});
  }

  /** Gives the sinks and runs the workers to the end; the totals are those a single sensor
   *  would give. */
  async run(sinks: ReplaySinks, onProgress?: ProgressListener): Promise<ReplayTotals> {
    this.sinks = sinks;
    this.onProgress = onProgress;
    for (const r of this.held.splice(0)) this.deliver(r);
    const results = await this.finished.finally(() => {
      if (!this.interrupted) this.stop();
    });
    if (this.interrupted) await new Promise<never>(() => {});
    this.merge.drain();
    return this.combine(results);
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

  private startWorkers(): Promise<WorkerTotals[]> {
    const count = this.opts.workers;
    const progress: ReadProgress = { bytesRead: 0 };
    return Promise.all(
      Array.from({ length: count }, (_, index) => {
        const start: WorkerStart = {
          files: this.files,
          index,
          count,
          maxFlows: this.opts.maxFlows,
          signatureDir: this.opts.signatureDir,
        };
        const worker = startWorker(start);
        this.workers.push(worker);
        return new Promise<WorkerTotals>((resolve, reject) => {
          worker.on('message', (m: WorkerMessage) => {
            if (m.type === 'batch') {
              this.merge.push(index, m.records, m.through);
              if (index === 0 && this.onProgress) {
                progress.bytesRead = m.bytesRead;
                this.onProgress(m.file, progress);
              }
            } else {
              this.merge.push(index, m.records, Infinity);
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
   * Shared flows (DNS, see Sensor.isSharedFlow) run in every worker and give the same record
   * at the same packet in each; only the first copy counts. Records of one worker are never
   * dropped, and records of different flows are never equal (they name their endpoints).
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
    this.interrupted = true;
    const stop: StopMessage = { type: 'stop' };
    for (const w of this.workers) w.postMessage(stop);
    await Promise.race([this.finished, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]).catch(() => {});
    this.stop();
  }

  /** Ends the workers and delivers every record received. */
  stop(): void {
    for (const w of this.workers.splice(0)) void w.terminate();
    this.merge.drain();
  }

  private combine(results: WorkerTotals[]): ReplayTotals {
    const first = results[0]!;
    const detect = { ...first.detect };
    for (const r of results.slice(1)) {
      for (const key of Object.keys(detect) as (keyof DetectStats)[]) {
        // Every worker reads all DNS (shared flows): those figures are whole in each.
        if (!SHARED_FLOW_STATS.includes(key)) detect[key] += r.detect[key];
      }
    }
    // Shared flows give intel evidence (DNS) in every worker; only the first copy is kept.
    detect.evidence -= this.evidenceCopies;
    detect.intelEvidence -= this.evidenceCopies;
    return {
      inputs: first.inputs,
      packets: first.packets,
      bytes: first.bytes,
      flowsCreated: results.reduce((n, r) => n + r.flows.created - r.sharedFlowsCreated, 0),
      flowsEvicted: results.reduce((n, r) => n + r.flows.evicted, 0),
      decode: first.decode,
      detect,
      digests: this.digests,
    };
  }
}
