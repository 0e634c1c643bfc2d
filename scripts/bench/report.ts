/** Figures and the table `npm run bench` prints (Markdown, so the README can quote it). */
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CPU model, core count, Node and kernel: what a reader needs to compare figures. */
export function machineLine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) model = line.split(':')[1]!.trim();
  } catch {
    // not Linux: os.cpus() will do
  }
  return `${model}, ${cpus().length} cores (nproc), Node ${process.version}, Linux ${release()}`;
}

export interface Row {
  tool: string;
  /** Median wall-clock seconds of the whole process. */
  seconds: number;
  /** Median of minewatch's own replay time (start-up excluded), when it reports one. */
  replaySeconds?: number;
  maxRssBytes: number | null;
  /** Median CPU seconds (all threads), when measured. */
  cpuSeconds?: number | null;
}

const fixed = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * The results table: throughput by wall clock, peak RSS, the cores the process kept busy
 * (CPU time of all its threads over wall time), and ratios to the peer and cat.
 */
export function resultTable(rows: readonly Row[], bytes: number, packets: number, peer: string | null): string {
  const peerRow = peer ? rows.find((r) => r.tool === peer) : undefined;
  const catRow = rows.find((r) => r.tool === 'cat');
  const lines = [
    '| tool | MB/s | packets/s | peak RSS | cores busy | × ndpiReader | × cat | replay only, MB/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ratio = (base: Row | undefined): string => (base && base !== r ? `${(base.seconds / r.seconds).toFixed(2)}` : '—');
    lines.push(
      `| ${r.tool} | ${fixed(bytes / 1e6 / r.seconds)} | ${fixed(packets / r.seconds)} | ${r.maxRssBytes === null ? 'n/a' : `${fixed(r.maxRssBytes / 1e6)} MB`}` +
        ` | ${r.cpuSeconds == null ? 'n/a' : fixed(r.cpuSeconds / r.seconds, 2)} | ${ratio(peerRow)} | ${ratio(catRow)} | ${r.replaySeconds === undefined ? '' : fixed(bytes / 1e6 / r.replaySeconds)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The most an N-core run could gain over a single run that took `wallSingle` seconds, if it
 * had `cpu` CPU seconds of work (all threads) to do: N cores give at most N CPU seconds per
 * second. With the single run's own CPU time it is the ceiling for a split with no
 * overhead; with the parallel run's, the ceiling at the overhead it has.
 */
export function parallelCeiling(cores: number, wallSingle: number, cpu: number): number {
  return (wallSingle * cores) / cpu;
}
