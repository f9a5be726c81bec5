/**
 * Child processes pinned to CPUs with `taskset -c`. taskset execs the command,
 * so the PID we hold is the server's own. Each child leads its own process group
 * (detached) so that a SIGKILL fallback also reaches the workers a server forked
 * (nginx's master/worker), and so that Ctrl-C reaches only the bench, which then
 * stops its children in order.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { HastackError } from '../../src/core/errors.ts';
import { registerCleanup } from './cleanup.ts';

const OUTPUT_TAIL_CHARS = 16_384;

export interface PinnedProcessOptions {
  /** Short label for messages ("haproxy", "backend"...). */
  name: string;
  command: string;
  args: readonly string[];
  /** CPU list as taskset takes it: 1, "0", "2-3". */
  cpu: number | string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Signal for a graceful stop (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /** How long to wait after stopSignal before SIGKILL (default 5000 ms). */
  stopGraceMs?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PinnedProcess {
  readonly name: string;
  readonly pid: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  readonly #child: ChildProcess;
  readonly #stopSignal: NodeJS.Signals;
  readonly #stopGraceMs: number;
  #exit: ProcessExit | undefined;
  #output = '';
  #unregister: () => void = () => {};

  constructor(child: ChildProcess, options: PinnedProcessOptions) {
    this.name = options.name;
    this.pid = child.pid!;
    this.#child = child;
    this.#stopSignal = options.stopSignal ?? 'SIGTERM';
    this.#stopGraceMs = options.stopGraceMs ?? 5_000;
    const append = (chunk: Buffer) => {
      this.#output += chunk.toString('utf8');
      if (this.#output.length > OUTPUT_TAIL_CHARS * 2) this.#output = this.#output.slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    this.#unregister = registerCleanup({
      label: `${this.name} (pid ${this.pid})`,
      run: () => this.stop(),
      runSync: () => this.#killGroup('SIGKILL'),
    });
  }

  /** The exit status, or undefined while running. */
  get exitStatus(): ProcessExit | undefined {
    return this.#exit;
  }

  /** The last ~16 KiB the process wrote to stdout and stderr. */
  output(): string {
    return this.#output.length > OUTPUT_TAIL_CHARS ? this.#output.slice(-OUTPUT_TAIL_CHARS) : this.#output;
  }

  /** Throws a clear error (with the process's last output) if it is no longer running. */
  assertRunning(): void {
    if (this.#exit === undefined) return;
    throw new HastackError(
      'HASTACK_BENCH_PROCESS_EXITED',
      `${this.name} (pid ${this.pid}) exited unexpectedly (${describeExit(this.#exit)})${formatTail(this.output())}`,
    );
  }

  /** Graceful stop: stop signal to the PID, then SIGKILL to its process group after the grace period. */
  async stop(): Promise<void> {
    this.#unregister();
    if (this.#exit === undefined) {
      this.#signal(this.pid, this.#stopSignal);
      if (!(await this.#waitExit(this.#stopGraceMs))) {
        this.#killGroup('SIGKILL');
        await this.#waitExit(2_000);
      }
    }
    // A leader that died without taking its forked workers along leaves them in its group.
    this.#signal(-this.pid, 'SIGKILL');
    this.#child.stdout?.destroy();
    this.#child.stderr?.destroy();
  }

  #killGroup(signal: NodeJS.Signals): void {
    if (!this.#signal(-this.pid, signal)) this.#signal(this.pid, signal);
  }

  #signal(target: number, signal: NodeJS.Signals): boolean {
    try {
      process.kill(target, signal);
      return true;
    } catch {
      return false; // ESRCH: already gone
    }
  }

  async #waitExit(ms: number): Promise<boolean> {
    if (this.#exit !== undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const done = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return done;
  }
}

/** Starts `taskset -c CPU command args...`; resolves once the process exists. */
export async function spawnPinned(options: PinnedProcessOptions): Promise<PinnedProcess> {
  const child = spawn('taskset', ['-c', String(options.cpu), options.command, ...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  try {
    await once(child, 'spawn');
  } catch (err) {
    throw new HastackError(
      'HASTACK_BENCH_SPAWN_FAILED',
      `cannot start ${options.name} (taskset -c ${options.cpu} ${options.command}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return new PinnedProcess(child, options);
}

export interface RunResult extends ProcessExit {
  /** Everything written to stdout and stderr, in arrival order (truncated to the last ~16 KiB). */
  output: string;
}

/** Runs a pinned command to completion (killed after timeoutMs), returning its exit status and output. */
export async function runPinned(options: PinnedProcessOptions & { timeoutMs: number }): Promise<RunResult> {
  const proc = await spawnPinned(options);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.stop();
  }, options.timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  await proc.stop(); // unregisters cleanup, reaps any leftover group members
  if (timedOut) {
    throw new HastackError(
      'HASTACK_BENCH_TIMEOUT',
      `${options.name} did not finish within ${options.timeoutMs} ms${formatTail(proc.output())}`,
    );
  }
  return { ...exit, output: proc.output() };
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** Indented last lines of a process's output, for error messages. */
export function formatTail(output: string, lines = 20): string {
  const tail = output.trimEnd().split('\n').slice(-lines);
  if (tail.length === 0 || tail[0] === '') return '';
  return `; its last output:\n${tail.map((l) => `    ${l}`).join('\n')}`;
}
