import { spawn } from 'node:child_process';

export interface ScriptResult {
  /** Exit code, or null when killed by a signal (timeout). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Set when the script could not be started at all. */
  spawnError?: string;
}

export interface RunScriptOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Cap captured output so a chatty script cannot grow memory. */
  maxOutputBytes?: number;
}

/**
 * Runs a notify/check command line through /bin/sh -c, as operators write them in
 * keepalived (`notify_up "/usr/local/bin/rs-up.sh web1"`). Never throws: the result
 * says what happened. The process group is killed on timeout so children die too.
 */
export function runScript(command: string, options: RunScriptOptions = {}): Promise<ScriptResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxOutput = options.maxOutputBytes ?? 64 * 1024;
  return new Promise((resolve) => {
    let timedOut = false;
    let spawnError: string | undefined;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    // detached: the script leads its own process group, so a timeout kills its children too.
    const child = spawn('/bin/sh', ['-c', command], {
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (outBytes < maxOutput) out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes < maxOutput) err.push(chunk);
      errBytes += chunk.length;
    });
    const kill = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    const onAbort = () => kill();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: Buffer.concat(out).subarray(0, maxOutput).toString('utf8'),
        stderr: Buffer.concat(err).subarray(0, maxOutput).toString('utf8'),
        durationMs: performance.now() - started,
        ...(spawnError !== undefined && { spawnError }),
      });
    });
  });
}
