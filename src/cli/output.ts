import { writeSync } from 'node:fs';

/**
 * Standard output for the commands. process.stdout is a stream: its first use loads Node's
 * stream modules and, for a pipe, a socket (2-3 ms, which a replay printing one summary
 * spent at every start), so the stream is made only when a command asks for it.
 */

/** `minewatch export | head` closes the pipe early: that is the reader's choice, not an error. */
function endOnEpipe(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
}

let stream: NodeJS.WriteStream | null = null;

/** process.stdout, with the closed-pipe handler on. */
export function stdout(): NodeJS.WriteStream {
  if (stream === null) {
    stream = process.stdout;
    stream.on('error', endOnEpipe);
  }
  return stream;
}

/**
 * Writes a command's result with write(2) on descriptor 1, without making the stream. A
 * descriptor that would block (a non-blocking pipe another process set up) gets the rest
 * through the stream; to a closed pipe the rest is dropped, and the command ends with its
 * own status.
 */
export function writeResult(text: string): void {
  if (stream !== null) {
    stream.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(1, bytes, done);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EAGAIN') {
        stdout().write(bytes.subarray(done));
        return;
      }
      if (e.code === 'EPIPE') return;
      throw e;
    }
  }
}
