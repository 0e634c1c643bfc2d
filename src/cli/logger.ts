import pino, { type Logger } from 'pino';

/** pino on stderr (fd 2), synchronous so nothing is lost on exit; stdout stays for results. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'minewatch' } }, pino.destination({ dest: 2, sync: true }));
}

/** The two levels a replay logs at. */
export interface ReplayLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * A logger made on its first line at or above `level` ('info' or 'warn'): a replay logs only
 * notes and a damaged capture's warnings, and the bundle loads pino, with what it loads, on
 * first use (3 ms of every start otherwise; scripts/bundle.ts).
 */
export function lazyLogger(level: 'info' | 'warn'): ReplayLog {
  let logger: Logger | undefined;
  const get = (): Logger => (logger ??= createLogger(level));
  return {
    info: (fields, message) => {
      if (level === 'info') get().info(fields, message);
    },
    warn: (fields, message) => get().warn(fields, message),
  };
}
