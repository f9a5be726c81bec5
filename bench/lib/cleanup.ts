/**
 * Cleanup registry for a benchmark run: everything the bench starts (processes,
 * temp dirs) registers how to undo itself here, so a normal end, an error and
 * Ctrl-C all leave the machine as it was.
 *
 * Two paths: the async one (run on normal end, on error, on the first signal)
 * stops processes gracefully; the sync one runs from process 'exit' as a last
 * resort (SIGKILL, rmSync) for anything the async path did not reach.
 */
import { errorMessage } from '../../src/core/errors.ts';

export interface CleanupEntry {
  /** Shown when the cleanup step itself fails. */
  label: string;
  /** Graceful undo (SIGTERM and wait, rm -r...). */
  run: () => Promise<void>;
  /** Last-resort undo from the 'exit' handler: must be synchronous. */
  runSync: () => void;
}

const entries: CleanupEntry[] = [];
let running: Promise<void> | undefined;
let installed = false;
let stopping = false;

/** True once a signal asked the bench to stop: errors from the processes it is tearing down are expected. */
export function isStopping(): boolean {
  return stopping;
}

/** Registers an undo step; returns a function that removes it (once the resource is gone). */
export function registerCleanup(entry: CleanupEntry): () => void {
  entries.push(entry);
  return () => {
    const index = entries.indexOf(entry);
    if (index >= 0) entries.splice(index, 1);
  };
}

/** Runs every registered step, newest first (later resources may depend on earlier ones). Idempotent. */
export function runCleanup(): Promise<void> {
  running ??= (async () => {
    while (entries.length > 0) {
      const entry = entries.pop()!;
      try {
        await entry.run();
      } catch (err) {
        process.stderr.write(`bench: cleanup of ${entry.label} failed: ${errorMessage(err)}\n`);
        try {
          entry.runSync();
        } catch {
          // Nothing more we can do; the message above names what is left.
        }
      }
    }
  })().finally(() => {
    running = undefined;
  });
  return running;
}

function runCleanupSync(): void {
  while (entries.length > 0) {
    const entry = entries.pop()!;
    try {
      entry.runSync();
    } catch {
      // Best effort at exit.
    }
  }
}

/**
 * Installs handlers so Ctrl-C, SIGTERM, an uncaught error and a plain exit all
 * clean up. A second Ctrl-C skips the graceful path.
 */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (signalled) {
      runCleanupSync();
      process.exit(code);
    }
    signalled = true;
    stopping = true;
    process.stderr.write(`\nbench: ${signal}: stopping everything the bench started...\n`);
    runCleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const onFatal = (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    runCleanup().finally(() => process.exit(1));
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  process.on('exit', runCleanupSync);
}
