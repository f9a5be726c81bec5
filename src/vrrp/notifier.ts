import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, statSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { HastackError } from '../core/errors.ts';
import { runScript } from '../core/run-script.ts';
import type { NotifyScripts } from './config-schema.ts';
import { fifoLine, type NotifyKind, type NotifyState, notifyCommands } from './notify-format.ts';

/*
 * Notifications of state changes: notify_* scripts (run in the background, never
 * blocking a transition) and keepalived's notify FIFO, which hastack creates
 * like keepalived (mkfifo, opened read-write and non-blocking so a missing reader
 * never stalls us). A full FIFO drops the line and counts it.
 */

export const CODE_FIFO = 'HASTACK_VRRP_FIFO';
const SCRIPT_TIMEOUT_MS = 30_000;

export class Notifier {
  readonly #logger: Logger;
  #fifoFd: number | undefined;
  #fifoPath: string | undefined;
  #fifoScript: ChildProcess | undefined;
  readonly #pending = new Set<Promise<unknown>>();
  fifoDropped = 0;
  scriptsRun = 0;
  scriptFailures = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Opens (creating if needed) the FIFO and starts its reader script. */
  openFifo(path: string, script?: string): void {
    if (this.#fifoPath === path) return;
    this.closeFifo();
    if (!existsSync(path)) {
      const made = spawnSync('mkfifo', ['-m', '600', path], { encoding: 'utf8' });
      if (made.status !== 0) {
        throw new HastackError(
          CODE_FIFO,
          `cannot create notify FIFO ${path}: ${made.stderr?.trim() || made.error?.message}`,
        );
      }
    } else if (!statSync(path).isFIFO()) {
      throw new HastackError(CODE_FIFO, `notify_fifo ${path} exists and is not a FIFO`);
    }
    this.#fifoFd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    this.#fifoPath = path;
    if (script !== undefined) {
      // keepalived passes the FIFO's name as the script's argument.
      this.#fifoScript = spawn('/bin/sh', ['-c', `${script} "$1"`, 'notify_fifo_script', path], {
        stdio: 'ignore',
        detached: true,
      });
      this.#fifoScript.on('error', (err) => this.#logger.warn({ err }, 'notify_fifo_script failed to start'));
    }
  }

  closeFifo(): void {
    if (this.#fifoScript?.pid !== undefined && this.#fifoScript.exitCode === null) {
      try {
        process.kill(-this.#fifoScript.pid, 'SIGTERM');
      } catch {
        this.#fifoScript.kill('SIGTERM');
      }
    }
    this.#fifoScript = undefined;
    if (this.#fifoFd !== undefined) closeSync(this.#fifoFd);
    this.#fifoFd = undefined;
    this.#fifoPath = undefined;
  }

  notify(scripts: NotifyScripts, kind: NotifyKind, name: string, state: NotifyState, priority: number): void {
    if (this.#fifoFd !== undefined) {
      // A synchronous write keeps the lines in order (thread-pool writes may run in any order);
      // the FIFO is non-blocking and a line is far below PIPE_BUF, so it is written whole at once,
      // or dropped (EAGAIN: nobody reads and the pipe is full) and counted.
      try {
        writeSync(this.#fifoFd, fifoLine(kind, name, state, priority));
      } catch {
        this.fifoDropped++;
      }
    }
    for (const command of notifyCommands(scripts, kind, name, state, priority)) {
      this.scriptsRun++;
      // Started after the current event (setImmediate, in order): spawning takes milliseconds and a
      // transition's GARPs must not wait for it.
      const run = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => runScript(command, { timeoutMs: SCRIPT_TIMEOUT_MS, maxOutputBytes: 4096 }))
        .then((result) => {
          if (result.exitCode !== 0) {
            this.scriptFailures++;
            this.#logger.warn(
              {
                command,
                exitCode: result.exitCode,
                error: result.spawnError,
                stderr: result.stderr.slice(0, 500),
              },
              'notify script failed',
            );
          }
        });
      this.#pending.add(run);
      void run.finally(() => this.#pending.delete(run));
    }
  }

  /** Waits (at most `ms`) for running notify scripts, e.g. notify_stop at shutdown. */
  async settle(ms: number): Promise<void> {
    if (this.#pending.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }
}
