import { closeSync, type FSWatcher, openSync, readSync, statSync, watch, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { errorCode, errorMessage, HastackError } from '../core/errors.ts';
import type { TrackFileConfig } from './config-schema.ts';
import { parseTrackFileValue, TRACK_FILE_READ_BYTES } from './track-file-value.ts';

/*
 * A track_file: the number in a file, re-read when the file changes. keepalived
 * watches the directory with inotify and reads on close-after-write; Node's
 * fs.watch (inotify too) reports every write, so a read waits `debounceMs` after
 * the last event, which skips the empty moment of `echo 5 > file` (truncate,
 * then write). A slow poll re-reads anyway in case an event was lost. A missing
 * or unreadable file reads 0, as in keepalived.
 */

export const CODE_TRACK_FILE = 'HASTACK_VRRP_TRACK_FILE';

const NO_SUCH_FILE = 'no such file (reads 0)';

export interface TrackFileStatus {
  name: string;
  path: string;
  value: number;
  reads: number;
  /** Why the last read found no number (missing file, permissions, a number out of range). */
  lastError?: string;
}

export interface FileTrackerOptions {
  logger: Logger;
  debounceMs?: number;
  pollMs?: number;
  /** false: poll only (file systems without inotify, such as NFS). */
  watch?: boolean;
}

export class FileTracker {
  readonly config: TrackFileConfig;
  readonly #path: string;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  readonly #watch: boolean;
  readonly #listeners = new Set<(value: number) => void>();
  readonly #buffer = Buffer.alloc(TRACK_FILE_READ_BYTES);
  #value = 0;
  #reads = 0;
  #lastError: string | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  #reading = false;
  #again = false;
  #stopped = false;

  constructor(config: TrackFileConfig, options: FileTrackerOptions) {
    this.config = config;
    this.#path = resolve(config.path);
    this.#logger = options.logger;
    this.#debounceMs = options.debounceMs ?? 10;
    this.#pollMs = options.pollMs ?? 1_000;
    this.#watch = options.watch ?? true;
  }

  get value(): number {
    return this.#value;
  }

  subscribe(listener: (value: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Throws HASTACK_VRRP_TRACK_FILE when the file's directory is missing (the file itself may come and go). */
  static check(config: TrackFileConfig): void {
    const dir = dirname(resolve(config.path));
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {}
    if (!isDir)
      throw new HastackError(
        CODE_TRACK_FILE,
        `track_file ${config.name}: directory ${dir} does not exist (the file may come and go; its directory must be there)`,
      );
  }

  /** Writes init_file when asked, reads the value (synchronously: instances start with it) and starts watching. */
  start(): void {
    FileTracker.check(this.config);
    const dir = dirname(this.#path);
    const init = this.config.init;
    if (init !== undefined) {
      try {
        writeFileSync(this.#path, `${init.value}\n`, { flag: init.overwrite ? 'w' : 'wx' });
      } catch (err) {
        if (errorCode(err) !== 'EEXIST')
          throw new HastackError(
            CODE_TRACK_FILE,
            `track_file ${this.config.name}: cannot initialise ${this.#path}: ${errorMessage(err)}`,
            { cause: err },
          );
      }
    }
    this.#apply(this.#readSync(), false);
    if (this.#watch) this.#watchDirectory(dir);
    this.#poll = setInterval(() => this.#schedule(), this.#pollMs);
    this.#poll.unref();
  }

  #watchDirectory(dir: string): void {
    const name = basename(this.#path);
    try {
      this.#watcher = watch(dir, { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) this.#schedule();
      });
      this.#watcher.on('error', (err) => {
        this.#logger.warn(
          { file: this.#path, err: errorMessage(err) },
          'track_file: the directory watch failed; polling only',
        );
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (err) {
      this.#logger.warn(
        { file: this.#path, err: errorMessage(err) },
        'track_file: cannot watch; polling only',
      );
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    if (this.#poll !== undefined) clearInterval(this.#poll);
    this.#listeners.clear();
  }

  status(): TrackFileStatus {
    return {
      name: this.config.name,
      path: this.#path,
      value: this.#value,
      reads: this.#reads,
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
    };
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.#readAsync();
    }, this.#debounceMs);
    this.#debounce.unref();
  }

  /** Never two reads at once; a change during a read is read again after it. */
  async #readAsync(): Promise<void> {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    try {
      do {
        this.#again = false;
        const text = await this.#readText();
        if (this.#stopped) return;
        this.#apply(text, true);
      } while (this.#again && !this.#stopped);
    } finally {
      this.#reading = false;
    }
  }

  async #readText(): Promise<string | { error: string }> {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(this.#path, 'r');
      const { bytesRead } = await handle.read(this.#buffer, 0, TRACK_FILE_READ_BYTES, 0);
      return this.#buffer.toString('latin1', 0, bytesRead);
    } catch (err) {
      return readFailure(err);
    } finally {
      await handle?.close();
    }
  }

  #readSync(): string | { error: string } {
    let fd: number | undefined;
    try {
      fd = openSync(this.#path, 'r');
      const bytesRead = readSync(fd, this.#buffer, 0, TRACK_FILE_READ_BYTES, 0);
      return this.#buffer.toString('latin1', 0, bytesRead);
    } catch (err) {
      return readFailure(err);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  #apply(text: string | { error: string }, announce: boolean): void {
    this.#reads++;
    let value: number | undefined;
    if (typeof text === 'string') {
      value = parseTrackFileValue(text);
      if (value === undefined) {
        // As keepalived: a number that does not fit keeps the previous value.
        const error = `"${text.trim().slice(0, 40)}" is not a 32-bit number; keeping ${this.#value}`;
        if (this.#lastError !== error)
          this.#logger.warn({ trackFile: this.config.name, file: this.#path }, `track_file: ${error}`);
        this.#lastError = error;
        return;
      }
      this.#lastError = undefined;
    } else {
      if (this.#lastError !== text.error && text.error !== NO_SUCH_FILE)
        this.#logger.warn({ trackFile: this.config.name, file: this.#path }, `track_file: ${text.error}`);
      this.#lastError = text.error;
      value = 0;
    }
    if (value === this.#value) return;
    this.#value = value;
    this.#logger.info(
      { trackFile: this.config.name, file: this.#path, value },
      `track_file ${this.config.name} now reads ${value}`,
    );
    if (announce) for (const listener of this.#listeners) listener(value);
  }
}

/** Why a read found no text; a missing file is ordinary (it reads 0). */
function readFailure(err: unknown): { error: string } {
  return { error: errorCode(err) === 'ENOENT' ? NO_SUCH_FILE : errorMessage(err) };
}
