/** Command line of `npm run bench` (scripts/bench.ts), and of bench:warmup and bench:threads. */
import { availableParallelism } from 'node:os';
import type { CaptureSpec } from './inputs.js';

export interface BenchOptions {
  /** Size of the generated mixed capture in bytes. */
  sizeBytes: number;
  seed: number;
  /** Timed runs per tool; the median is quoted. */
  runs: number;
  /** Workers of the parallel minewatch run (1: no parallel run). */
  workers: number;
  /** Only replay once per worker count and check the detections (CI). */
  checkOnly: boolean;
  /** Replay the flood capture (2 million flows by default) instead of the mix. */
  flood: boolean;
  floodFlows: number;
  /** Run minewatch from src/ with tsx instead of the built dist/. */
  fromSource: boolean;
  /** Skip ndpiReader even when installed. */
  noPeer: boolean;
  outDir: string;
}

const UNITS: Record<string, number> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 };

/** "400MB", "4GB", "1.5GiB", "20000000" → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a size: ${text} (examples: 400MB, 4GB)`);
  return Math.round(Number(m[1]) * unit);
}

const USAGE = `usage: npm run bench -- [options]
  --size SIZE       mixed capture to generate (default 400MB; e.g. 20MB, 4GB)
  --seed N          generator seed (default 1)
  --runs N          timed runs per tool, median quoted (default 5)
  --workers N       workers of the parallel run (default: all cores, ${availableParallelism()} here)
  --check-only      replay once with 1 and N workers and check the detections only (CI)
  --flood [FLOWS]   replay the flood capture (default 2000000 distinct flows) instead
  --from-source     run minewatch from src/ with tsx instead of dist/
  --no-peer         skip ndpiReader
  --out DIR         where generated captures are cached (default bench-out)`;

export function parseBenchArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    sizeBytes: 400e6,
    seed: 1,
    runs: 5,
    workers: Math.max(2, availableParallelism()),
    checkOnly: false,
    flood: false,
    floodFlows: 2_000_000,
    fromSource: false,
    noPeer: false,
    outDir: 'bench-out',
  };
  const value = (i: number): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${argv[i]} needs a value\n${USAGE}`);
    return v;
  };
  const count = (i: number, min: number): number => {
    const n = Number(value(i));
    if (!Number.isInteger(n) || n < min) throw new Error(`${argv[i]} must be an integer of at least ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--size':
        o.sizeBytes = parseSize(value(i++));
        break;
      case '--seed':
        o.seed = count(i++, 0);
        break;
      case '--runs':
        o.runs = count(i++, 1);
        break;
      case '--workers':
        o.workers = count(i++, 1);
        break;
      case '--check-only':
        o.checkOnly = true;
        break;
      case '--flood':
        o.flood = true;
        if (argv[i + 1] !== undefined && /^\d/.test(argv[i + 1]!)) o.floodFlows = count(i++, 1);
        break;
      case '--from-source':
        o.fromSource = true;
        break;
      case '--no-peer':
        o.noPeer = true;
        break;
      case '--out':
        o.outDir = value(i++);
        break;
      case '-h':
      case '--help':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    }
  }
  if (o.sizeBytes < 1e6) throw new Error('--size must be at least 1MB');
  return o;
}

/** The options, or null after printing why they are wrong (the script then exits 2). */
export function benchArgs(argv: string[]): BenchOptions | null {
  try {
    return parseBenchArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return null;
  }
}

/** The capture the options name: the flood, or the mix of --size. */
export function captureSpec(o: BenchOptions): CaptureSpec {
  return o.flood ? { kind: 'flood', seed: o.seed, flows: o.floodFlows } : { kind: 'mix', seed: o.seed, sizeBytes: o.sizeBytes };
}
