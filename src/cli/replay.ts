/**
 * `minewatch replay FILE... | -`: runs captures through the sensor into SQLite and prints
 * a summary. A bad input gets a one-line error and a non-zero exit; the others still run,
 * and every hit found before a failure is stored.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { readCaptureFile, type ReadProgress } from '../capture/reader.js';
import type { ReaderStats } from '../capture/types.js';
import { DEFAULT_FLOW_TABLE_OPTIONS } from '../flow/flow-table.js';
import { ShardedReplay } from '../parallel/sharded-replay.js';
import { HitStore } from '../store/hit-store.js';
import type { Sensor } from '../sensor.js';
import { loadSignatureDir, shippedSignatureDir, type SignatureSet } from '../signatures/signature-set.js';
import { problemText } from '../signatures/types.js';
import type { AssetMap } from '../store/asset-map.js';
import { loadAssets, ownersToRecord, type AssetsOption } from './intel-options.js';
import { lazyLogger } from './logger.js';
import { writeResult } from './output.js';
import { createReplaySensor, type ReplaySinks, type ReplayTotals, type RunningReplay } from './replay-pipeline.js';
import { formatSummary, type InputResult, type ReplaySummary } from './summary.js';

interface ReplayOptions extends AssetsOption {
  db: string;
  quiet?: boolean;
  json?: boolean;
  maxFlows?: string;
  signatures?: string;
  workers?: string;
}

const FLUSH_EVERY = 1000;
const MAX_WORKERS = 64;

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay pcap/pcapng captures (plain or gzip, "-" for stdin) and record mining hits')
    .argument('<files...>', 'capture files, or - for standard input')
    .option('--db <path>', 'SQLite database to write', './minewatch.db')
    .option('--max-flows <n>', 'flow table capacity (oldest idle flows are evicted beyond it)')
    .option('--workers <n>', 'threads: this one reads, decodes and stores, the flows are sharded among the other n - 1; the hits are the same (default 1)')
    .option('--signatures <dir>', 'signature folder: pool lists, fingerprints, protocol rules (default: the shipped signatures/)')
    .option('--assets <file>', "CSV mapping IPs/CIDRs to owners; miner IPs' owners are recorded")
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'no progress bar and only warnings in the log')
    .action(async (files: string[], opts: ReplayOptions) => {
      process.exitCode = await runReplay(files, opts);
    });
}

export async function runReplay(files: string[], opts: ReplayOptions): Promise<number> {
  const log = lazyLogger(opts.quiet ? 'warn' : 'info');
  const maxFlows = opts.maxFlows === undefined ? undefined : Number(opts.maxFlows);
  if (maxFlows !== undefined && (!Number.isInteger(maxFlows) || maxFlows < 1)) {
    process.stderr.write(`minewatch: --max-flows must be a positive integer\n`);
    return 2;
  }
  const workers = opts.workers === undefined ? 1 : Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    process.stderr.write(`minewatch: --workers must be an integer from 1 to ${MAX_WORKERS}\n`);
    return 2;
  }
  const signatureDir = opts.signatures ?? shippedSignatureDir();
  // Workers start now: they load modules and signatures while this thread does the same.
  const sharded = workers > 1 ? new ShardedReplay(files, { workers, maxFlows: maxFlows ?? DEFAULT_FLOW_TABLE_OPTIONS.maxFlows, signatureDir }) : null;
  // A signature folder with any problem stops the replay before it starts: file:line each.
  const loaded = loadSignatureDir(signatureDir);
  if (!loaded.set) {
    sharded?.stop();
    for (const p of loaded.problems) process.stderr.write(`minewatch: ${problemText(p)}\n`);
    process.stderr.write(`minewatch: signatures in ${signatureDir} have ${loaded.problems.length} problem(s)\n`);
    return 2;
  }
  for (const note of loaded.notes) log.info({ dir: signatureDir }, note);
  const signatures: SignatureSet = loaded.set;
  let store: HitStore;
  let assets: AssetMap | null;
  try {
    assets = loadAssets(opts);
    store = HitStore.open(opts.db, { bulk: true });
  } catch (err) {
    sharded?.stop();
    process.stderr.write(`minewatch: ${(err as Error).message}\n`);
    return 2;
  }
  const started = Date.now();
  let hitsInserted = 0;
  // Sessions (shares, difficulty, estimates) are accounted per mining flow beside the hits.
  const sessionsBefore = store.sessions.count();
  const sessionMiners = new Set<string>();
  const sinks: ReplaySinks = {
    evidence: (e) => {
      store.add(e);
      if (store.pending() >= FLUSH_EVERY) hitsInserted += store.flush();
    },
    session: (session) => {
      sessionMiners.add(session.minerIp);
      store.sessions.add(session);
    },
  };
  let failed = false;
  const onInput = (result: InputResult): void => {
    if (result.error) {
      failed = true;
      process.stderr.write(`minewatch: ${result.error}\n`);
    }
    for (const w of result.stats?.warnings ?? []) log.warn({ file: result.file }, w);
  };
  const progress = !opts.quiet && process.stderr.isTTY === true;
  const replay = sharded ? replayInWorkers(sharded, files, signatures, progress, sinks, onInput) : replayInProcess(files, { maxFlows, signatures, progress }, sinks, onInput);
  const stopSignals = interruptHandler(() => {
    // Keep what was found: flush before leaving on Ctrl-C / TERM.
    void Promise.resolve(replay.stop()).then(() => {
      hitsInserted += store.flush();
      store.close();
      process.stderr.write('minewatch: interrupted; hits found so far are stored\n');
      process.exit(130);
    });
  });
  let totals: ReplayTotals;
  try {
    totals = await replay.done;
    hitsInserted += store.flush();
    store.sessions.flush();
    if (assets) store.sessions.recordOwners(ownersToRecord(assets, sessionMiners));
  } finally {
    stopSignals();
  }
  const finished = Date.now();
  const inputs = totals.inputs;
  const summary: ReplaySummary = {
    inputs,
    packets: totals.packets,
    bytes: totals.bytes,
    flows: totals.flowsCreated,
    flowsEvicted: totals.flowsEvicted,
    decode: totals.decode,
    detect: totals.detect,
    miners: [...totals.digests.miners.values()],
    moreMiners: totals.digests.beyondDigest,
    hitsInserted,
    evidence: totals.detect.evidence,
    seconds: (finished - started) / 1000,
    workers,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  store.recordRun({
    source: files.join(' '),
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    packets: summary.packets,
    bytes: summary.bytes,
    flows: summary.flows,
    hitsInserted,
    warnings: inputs.flatMap((i) => (i.error ? [i.error] : i.stats?.warnings ?? [])),
  });
  const sessionsStored = store.sessions.count() - sessionsBefore;
  const owned = assets ? [...sessionMiners].filter((ip) => assets.lookup(ip) !== null).length : null;
  store.close();
  const intel = { sessionsStored, minerIpsWithSessions: sessionMiners.size, minerIpsWithOwner: owned };
  writeResult(opts.json ? `${JSON.stringify({ ...summary, ...intel }, jsonSets, 2)}\n` : formatSummary(summary) + intelLine(intel, assets));
  return failed ? 1 : 0;
}

function intelLine(i: { sessionsStored: number; minerIpsWithSessions: number; minerIpsWithOwner: number | null }, assets: AssetMap | null): string {
  const owners = assets ? `; owners: ${i.minerIpsWithOwner} of ${i.minerIpsWithSessions} miner IP(s) matched in ${assets.name}` : '';
  return `sessions stored: ${i.sessionsStored} (estimates: minewatch report)${owners}\n`;
}

/** JSON.stringify replacer: Sets as arrays. */
function jsonSets(_key: string, value: unknown): unknown {
  return value instanceof Set ? [...value] : value;
}

/** The inputs through one sensor on this thread, one after another. */
function replayInProcess(
  files: string[],
  o: { maxFlows: number | undefined; signatures: SignatureSet; progress: boolean },
  sinks: ReplaySinks,
  onInput: (result: InputResult) => void,
): RunningReplay {
  const sensor = createReplaySensor(sinks, { maxFlows: o.maxFlows, signatures: o.signatures });
  const run = async (): Promise<ReplayTotals> => {
    const inputs: InputResult[] = [];
    for (const file of files) {
      const result = await replayOne(file, sensor, o.progress);
      inputs.push(result);
      onInput(result);
    }
    sensor.finish();
    return {
      inputs,
      packets: sensor.packets,
      bytes: sensor.bytes,
      flowsCreated: sensor.flows.stats.created,
      flowsEvicted: sensor.flows.stats.evicted,
      decode: sensor.decoder.stats,
      detect: sensor.engine.stats,
      digests: sensor.digests,
    };
  };
  return { done: run(), stop: () => sensor.finish() };
}

/** The inputs through shard workers (see parallel/sharded-replay.ts). */
function replayInWorkers(
  sharded: ShardedReplay,
  files: string[],
  signatures: SignatureSet,
  progress: boolean,
  sinks: ReplaySinks,
  onInput: (result: InputResult) => void,
): RunningReplay {
  let stopProgress = (): void => {};
  let progressFile = -1;
  const onProgress = (index: number, read: ReadProgress): void => {
    if (!progress || index === progressFile || files[index] === '-') return;
    stopProgress();
    progressFile = index;
    stopProgress = showProgress(files[index]!, read);
  };
  const run = async (): Promise<ReplayTotals> => {
    try {
      const totals = await sharded.run(sinks, signatures, onProgress);
      totals.inputs.forEach(onInput);
      return totals;
    } finally {
      stopProgress();
    }
  };
  return { done: run(), stop: () => sharded.interrupt() };
}

async function replayOne(file: string, sensor: Sensor, progress: boolean): Promise<InputResult> {
  sensor.setSource(file);
  const packetsBefore = sensor.packets;
  const read: ReadProgress = { bytesRead: 0 };
  const stopProgress = progress && file !== '-' ? showProgress(file, read) : () => {};
  try {
    const stats: ReaderStats = await readCaptureFile(file, sensor.handlePacket, { progress: read });
    return { file, stats, packets: sensor.packets - packetsBefore };
  } catch (err) {
    return { file, error: (err as Error).message, packets: sensor.packets - packetsBefore };
  } finally {
    stopProgress();
  }
}

/** A one-line progress bar on stderr, from the reader's byte count. */
export function showProgress(file: string, input: ReadProgress): () => void {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    return () => {};
  }
  if (size < 8 * 1024 * 1024) return () => {};
  const timer = setInterval(() => {
    const read = input.bytesRead;
    const pct = Math.min(100, (read / size) * 100);
    const bar = '#'.repeat(Math.round(pct / 5)).padEnd(20, '.');
    process.stderr.write(`\r${file} [${bar}] ${pct.toFixed(0)}% ${(read / 1e6).toFixed(0)}/${(size / 1e6).toFixed(0)} MB`);
  }, 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    process.stderr.write('\r\x1b[K');
  };
}

function interruptHandler(onStop: () => void): () => void {
  const handler = (): void => onStop();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
