/**
 * CPU time of each thread of a child process (Linux): a command runs while its threads'
 * user + system times are sampled from /proc/<pid>/task/<tid>/stat; a thread's last sample
 * stands for its total. Threads that end between two samples lose at most one sampling
 * interval. This is what splits "cores busy" into the packet thread, a replay's worker
 * threads and V8's helper (README, Parallel replay).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadCpu {
  tid: number;
  /** The kernel's name for the thread (Node leaves most of them "node"). */
  name: string;
  /** The process's first thread (its tid is the pid): where Node runs JavaScript. */
  main: boolean;
  cpuSeconds: number;
}

export interface ThreadRun {
  wallSeconds: number;
  exitCode: number | null;
  /** Threads that used any CPU time, the main thread first, then by CPU time. */
  threads: ThreadCpu[];
}

/** Clock ticks a second of /proc's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** One thread's stat line: its name and user + system ticks. */
export function parseTaskStat(stat: string): { name: string; ticks: number } {
  // The name is in parentheses and may itself hold spaces or parentheses.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  // Fields after the name, from 0: state (field 3 of stat), ... utime is field 14, stime 15.
  return { name: stat.slice(open + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
}

function sample(pid: number, into: Map<number, { name: string; ticks: number }>): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // the process has ended
  }
  for (const tid of tids) {
    try {
      into.set(Number(tid), parseTaskStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // the thread ended between the listing and the read
    }
  }
}

/** Runs `command` to completion (its output discarded), sampling its threads every `everyMs`. */
export function threadCpu(command: string, args: string[], everyMs = 10): Promise<ThreadRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const seen = new Map<number, { name: string; ticks: number }>();
    const timer = setInterval(() => sample(child.pid!, seen), everyMs);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      const threads = [...seen]
        .map(([tid, s]) => ({ tid, name: s.name, main: tid === child.pid, cpuSeconds: s.ticks / TICKS_PER_SECOND }))
        .filter((t) => t.cpuSeconds > 0 || t.main)
        .sort((a, b) => Number(b.main) - Number(a.main) || b.cpuSeconds - a.cpuSeconds);
      resolve({ wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, exitCode: code, threads });
    });
  });
}
