import { type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Write somewhere other than stdout (tests pass a stream). */
  destination?: NodeJS.WritableStream;
}

/** Structured JSON logs, one line per event; every component takes a child with `component`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? process.env.HASTACK_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
  };
  return options.destination === undefined ? pino(base) : pino(base, options.destination);
}

/** A logger that drops everything: the default inside unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
