import pino, { type Logger } from 'pino';

/** pino on stderr (fd 2), synchronous so nothing is lost on exit; stdout stays for results. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'minewatch' } }, pino.destination({ dest: 2, sync: true }));
}
