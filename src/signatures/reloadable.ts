/**
 * Reloading signatures while the sensor runs. The detection engine holds the set in force
 * and reads it once per new flow, so a reload swaps the whole set atomically: flows already
 * open finish with the set they started with. A reload that finds any problem keeps the set
 * in force and says why (file:line for each problem).
 *
 * The primitive is DetectionEngine.reloadSignatures(dir) (the live daemon's SIGHUP handler
 * calls it); installSignatureReload() adds SIGHUP and file-change triggers around it.
 */
import { watch, type FSWatcher } from 'node:fs';
import { loadSignatureDir, type LoadOptions, type SignatureSet } from './signature-set.js';
import { problemText, type SignatureCounts, type SignatureProblem } from './types.js';

/** Where the detectors get the signature set from. */
export interface SignatureSource {
  readonly current: SignatureSet;
}

/** A fixed set as a source. */
export function fixedSignatures(set: SignatureSet): SignatureSource {
  return { current: set };
}

export class SignatureLoadError extends Error {
  override name = 'SignatureLoadError';
  constructor(
    readonly dir: string,
    readonly problems: readonly SignatureProblem[],
  ) {
    super(`signatures in ${dir} have ${problems.length} problem(s); the previous set stays in force:\n${problems.map((p) => `  ${problemText(p)}`).join('\n')}`);
  }
}

export interface FolderReloadOutcome {
  /** The new set is in force. */
  ok: boolean;
  problems: SignatureProblem[];
  notes: string[];
  counts: SignatureCounts;
  /** Successful reloads so far, this one included. */
  generation: number;
}

/**
 * A signature folder as a source: open() loads it (throwing SignatureLoadError when it has
 * problems: there is nothing to fall back to), reload() re-reads it and swaps the new set in
 * only when it loaded cleanly.
 */
export class ReloadableSignatures implements SignatureSource {
  private set: SignatureSet;
  private generationCount = 0;

  private constructor(
    readonly dir: string,
    initial: SignatureSet,
    private readonly opts: LoadOptions,
  ) {
    this.set = initial;
  }

  static open(dir: string, opts: LoadOptions = {}): ReloadableSignatures {
    const result = loadSignatureDir(dir, opts);
    if (!result.set) throw new SignatureLoadError(dir, result.problems);
    return new ReloadableSignatures(dir, result.set, opts);
  }

  get current(): SignatureSet {
    return this.set;
  }

  get generation(): number {
    return this.generationCount;
  }

  reload(): FolderReloadOutcome {
    const result = loadSignatureDir(this.dir, this.opts);
    if (result.set) {
      this.set = result.set;
      this.generationCount++;
    }
    return { ok: result.set !== null, problems: result.problems, notes: result.notes, counts: result.counts, generation: this.generationCount };
  }
}

/** What can reload (DetectionEngine): returns a one-line summary, throws SignatureLoadError. */
export interface SignatureReloadTarget {
  reloadSignatures(dir?: string | null): string;
  readonly signatureSet: SignatureSet;
}

export interface ReloadOutcome {
  ok: boolean;
  /** The summary on success, the error message on failure. */
  message: string;
  problems: readonly SignatureProblem[];
}

/** Reloads and reports instead of throwing. */
export function tryReload(target: SignatureReloadTarget, dir: string | null = null): ReloadOutcome {
  try {
    return { ok: true, message: target.reloadSignatures(dir), problems: [] };
  } catch (err) {
    if (err instanceof SignatureLoadError) return { ok: false, message: err.message, problems: err.problems };
    return { ok: false, message: err instanceof Error ? err.message : String(err), problems: [] };
  }
}

/** The logging a reload needs (pino's Logger fits). */
export interface ReloadLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ReloadTriggers {
  /** Reload on this signal (default 'SIGHUP'; null when the caller handles signals itself). */
  signal?: NodeJS.Signals | null;
  /** Reload when a file under the folder changes (default true). */
  watchFiles?: boolean;
  /** Quiet time after the last change before reloading, so an editor's burst of writes is
   *  one reload (default 300 ms). */
  debounceMs?: number;
  /** Called after every reload attempt. */
  onReload?: (outcome: ReloadOutcome) => void;
}

/**
 * Reloads `target` from `dir` on SIGHUP and whenever a file under `dir` changes, and logs
 * each outcome. Returns a function that removes the handlers.
 */
export function installSignatureReload(target: SignatureReloadTarget, dir: string, log: ReloadLog, triggers: ReloadTriggers = {}): () => void {
  const run = (why: string): void => {
    const outcome = tryReload(target, dir);
    if (outcome.ok) log.info({ dir, why }, outcome.message);
    else log.warn({ dir, why, problems: outcome.problems.map(problemText) }, 'signature reload refused; the previous set stays in force');
    triggers.onReload?.(outcome);
  };
  const signal = triggers.signal === undefined ? 'SIGHUP' : triggers.signal;
  const onSignal = (): void => run(signal ?? 'signal');
  if (signal) process.on(signal, onSignal);

  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;
  if (triggers.watchFiles ?? true) {
    try {
      watcher = watch(dir, { recursive: true, persistent: false }, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = null;
          run('file change');
        }, triggers.debounceMs ?? 300);
      });
      watcher.on('error', (err) => log.warn({ dir, err: err.message }, 'signature folder watch stopped; SIGHUP still reloads'));
    } catch (err) {
      log.warn({ dir, err: (err as Error).message }, 'cannot watch the signature folder; SIGHUP still reloads');
    }
  }
  return () => {
    if (signal) process.off(signal, onSignal);
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}
