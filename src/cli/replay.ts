/**
 * `minewatch replay FILE... | -`: runs captures through the sensor into SQLite and prints
 * a summary. A bad input gets a one-line error and a non-zero exit; the others still run,
 * and every hit found before a failure is stored.
 */
import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { openCaptureInput, readCapture } from '../capture/reader.js';
import type { ReaderStats } from '../capture/types.js';
import { HitStore } from '../store/hit-store.js';
import { Sensor } from '../sensor.js';
import { createLogger } from './logger.js';
import { formatSummary, type InputResult, type ReplaySummary } from './summary.js';

interface ReplayOptions {
  db: string;
  quiet?: boolean;
  json?: boolean;
  maxFlows?: string;
}

const FLUSH_EVERY = 1000;

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay pcap/pcapng captures (plain or gzip, "-" for stdin) and record mining hits')
    .argument('<files...>', 'capture files, or - for standard input')
    .option('--db <path>', 'SQLite database to write', './minewatch.db')
    .option('--max-flows <n>', 'flow table capacity (oldest idle flows are evicted beyond it)')
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'no progress bar and only warnings in the log')
    .action(async (files: string[], opts: ReplayOptions) => {
      process.exitCode = await runReplay(files, opts);
    });
}

export async function runReplay(files: string[], opts: ReplayOptions): Promise<number> {
  const log = createLogger(opts.quiet ? 'warn' : 'info');
  const maxFlows = opts.maxFlows === undefined ? undefined : Number(opts.maxFlows);
  if (maxFlows !== undefined && (!Number.isInteger(maxFlows) || maxFlows < 1)) {
    process.stderr.write(`minewatch: --max-flows must be a positive integer\n`);
    return 2;
  }
  let store: HitStore;
  try {
    store = HitStore.open(opts.db);
  } catch (err) {
    process.stderr.write(`minewatch: ${(err as Error).message}\n`);
    return 2;
  }
  const started = Date.now();
  let hitsInserted = 0;
  const sensor = new Sensor(
    (e) => {
      store.add(e);
      if (store.pending() >= FLUSH_EVERY) hitsInserted += store.flush();
    },
    maxFlows ? { flow: { maxFlows } } : {},
  );
  const inputs: InputResult[] = [];
  let failed = false;
  const stopSignals = interruptHandler(() => {
    // Keep what was found: flush before leaving on Ctrl-C / TERM.
    sensor.finish();
    hitsInserted += store.flush();
    store.close();
    process.stderr.write('minewatch: interrupted; hits found so far are stored\n');
    process.exit(130);
  });
  try {
    for (const file of files) {
      const result = await replayOne(file, sensor, !opts.quiet && process.stderr.isTTY === true);
      inputs.push(result);
      if (result.error) {
        failed = true;
        process.stderr.write(`minewatch: ${result.error}\n`);
      }
      for (const w of result.stats?.warnings ?? []) log.warn({ file }, w);
    }
    sensor.finish();
    hitsInserted += store.flush();
  } finally {
    stopSignals();
  }
  const finished = Date.now();
  const summary: ReplaySummary = {
    inputs,
    packets: sensor.packets,
    bytes: sensor.bytes,
    flows: sensor.flows.stats.created,
    flowsEvicted: sensor.flows.stats.evicted,
    decode: sensor.decoder.stats,
    detect: sensor.engine.stats,
    miners: [...sensor.miners.values()],
    moreMiners: sensor.minerIpsBeyondDigest,
    hitsInserted,
    evidence: sensor.engine.stats.evidence,
    seconds: (finished - started) / 1000,
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
  store.close();
  process.stdout.write(opts.json ? `${JSON.stringify(summary, jsonSets, 2)}\n` : formatSummary(summary));
  return failed ? 1 : 0;
}

/** JSON.stringify replacer: Sets as arrays. */
function jsonSets(_key: string, value: unknown): unknown {
  return value instanceof Set ? [...value] : value;
}

async function replayOne(file: string, sensor: Sensor, progress: boolean): Promise<InputResult> {
  sensor.setSource(file);
  const packetsBefore = sensor.packets;
  let input: Readable;
  try {
    input = openCaptureInput(file);
  } catch (err) {
    return { file, error: (err as Error).message, packets: 0 };
  }
  const stopProgress = progress && file !== '-' ? showProgress(file, input) : () => {};
  try {
    const stats: ReaderStats = await readCapture(input, sensor.handlePacket);
    return { file, stats, packets: sensor.packets - packetsBefore };
  } catch (err) {
    return { file, error: (err as Error).message, packets: sensor.packets - packetsBefore };
  } finally {
    stopProgress();
  }
}

/** A one-line progress bar on stderr, from the file stream's byte count. */
function showProgress(file: string, input: Readable): () => void {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    return () => {};
  }
  if (size < 8 * 1024 * 1024) return () => {};
  const timer = setInterval(() => {
    const read = (input as Readable & { bytesRead?: number }).bytesRead ?? 0;
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
