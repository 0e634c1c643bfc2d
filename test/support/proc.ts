/** A child process whose output lines the tests can wait for, with bounded waits. */
import type { ChildProcess } from 'node:child_process';

export class Proc {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    this.collect(child.stdout, this.stdout);
    this.collect(child.stderr, this.stderr);
    child.on('exit', () => this.wake());
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line (stdout or stderr) matching, waiting up to timeoutMs. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const found = (): string | undefined => [...this.stdout, ...this.stderr].find((l) => pattern.test(l));
    return this.until(found, timeoutMs, () => `no line matching ${pattern} within ${timeoutMs} ms; stderr:\n${this.stderr.slice(-20).join('\n')}`);
  }

  /** The exit code, waiting up to timeoutMs (null when it was killed by a signal). */
  async exited(timeoutMs = 15_000): Promise<number | null> {
    await this.until(() => (this.running ? undefined : true), timeoutMs, () => `still running after ${timeoutMs} ms`);
    return this.child.exitCode;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }

  private until<T>(check: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): void => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(attempt);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(attempt);
        reject(new Error(describe()));
      }, timeoutMs);
      this.waiters.add(attempt);
      attempt();
    });
  }

  private collect(stream: NodeJS.ReadableStream | null, into: string[]): void {
    if (!stream) return;
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      into.push(...parts);
      this.wake();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Polls check() every 100 ms until it returns a value or timeoutMs passes. */
export async function eventually<T>(check: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
