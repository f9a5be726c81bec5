import { closeSync, openSync, writeSync } from 'node:fs';
import { type AccessLogEntry, formatCombined, formatJson } from './access-log.ts';
import type { AccessLogConfig } from './model.ts';

/**
 * Appends access log lines to stdout or a file. Lines are gathered and written
 * once per event-loop turn (or at 64 KiB), so a busy proxy makes one write
 * system call per batch instead of one per request.
 */
export class AccessLogWriter {
  readonly #format: (e: AccessLogEntry) => string;
  readonly #fd: number;
  readonly #ownsFd: boolean;
  #batch = '';
  #scheduled = false;

  constructor(config: AccessLogConfig) {
    this.#format = config.format === 'json' ? formatJson : formatCombined;
    if (config.path === undefined || config.path === 'stdout') {
      this.#fd = 1;
      this.#ownsFd = false;
    } else {
      this.#fd = openSync(config.path, 'a', 0o640);
      this.#ownsFd = true;
    }
  }

  write(entry: AccessLogEntry): void {
    this.#batch += this.#format(entry);
    if (this.#batch.length >= 65536) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#batch === '') return;
    const data = this.#batch;
    this.#batch = '';
    try {
      writeSync(this.#fd, data);
    } catch {
      // A full disk or a closed stdout must not take the proxy down.
    }
  }

  close(): void {
    this.flush();
    if (this.#ownsFd) {
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
    }
  }
}
