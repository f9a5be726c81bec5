import { type ChildProcess, fork } from 'node:child_process';

export interface BackendProcess {
  name: string;
  port: number;
  child: ChildProcess;
  /** kill -9, and wait for the exit. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

const BACKEND_MAIN = new URL('../../src/demo/backend-main.ts', import.meta.url);

/** Starts a demo web server as a real child process (so tests can kill -9 it). */
export function startBackendProcess(name: string, port = 0): Promise<BackendProcess> {
  const child = fork(BACKEND_MAIN, ['--name', name, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`backend ${name} did not start`));
    }, 10_000);
    child.once('message', (msg: { type?: string; port?: number }) => {
      clearTimeout(timer);
      if (msg.type !== 'ready' || typeof msg.port !== 'number') return reject(new Error('bad ready message'));
      resolve({ name, port: msg.port, child, crash: () => kill('SIGKILL'), stop: () => kill('SIGTERM') });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`backend ${name} exited early with ${code}`));
    });
  });
}
