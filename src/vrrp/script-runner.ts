import { runScript } from '../core/run-script.ts';
import type { VrrpScriptConfig } from './config-schema.ts';
import { ScriptDamper } from './tracking.ts';

/*
 * A vrrp_script: runs the command every `interval` (never two at once), exit 0 =
 * success, a timeout = failure; rise/fall damping decides the state trackers see.
 */

export interface ScriptStatus {
  name: string;
  ok: boolean;
  consecutiveOk: number;
  consecutiveFail: number;
  runs: number;
  failures: number;
  lastExitCode?: number | null;
  lastError?: string;
}

export class VrrpScriptRunner {
  readonly config: VrrpScriptConfig;
  readonly #damper: ScriptDamper;
  readonly #listeners = new Set<(ok: boolean) => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abort = new AbortController();
  #stopped = false;
  #runs = 0;
  #failures = 0;
  #lastExitCode: number | null | undefined;
  #lastError: string | undefined;

  constructor(config: VrrpScriptConfig) {
    this.config = config;
    this.#damper = new ScriptDamper(config.rise, config.fall, config.initFail);
  }

  get ok(): boolean {
    return this.#damper.ok;
  }

  subscribe(listener: (ok: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#abort.abort();
    this.#listeners.clear();
  }

  status(): ScriptStatus {
    return {
      name: this.config.name,
      ok: this.#damper.ok,
      consecutiveOk: this.#damper.consecutiveOk,
      consecutiveFail: this.#damper.consecutiveFail,
      runs: this.#runs,
      failures: this.#failures,
      ...(this.#lastExitCode !== undefined && { lastExitCode: this.#lastExitCode }),
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
    };
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#run(), delayMs);
  }

  async #run(): Promise<void> {
    const started = performance.now();
    const result = await runScript(this.config.command, {
      timeoutMs: this.config.timeoutMs,
      signal: this.#abort.signal,
      maxOutputBytes: 4096,
    });
    if (this.#stopped) return;
    this.#runs++;
    const success = result.exitCode === 0 && !result.timedOut;
    if (!success) this.#failures++;
    this.#lastExitCode = result.exitCode;
    this.#lastError =
      result.spawnError ?? (result.timedOut ? `timed out after ${this.config.timeoutMs}ms` : undefined);
    if (this.#damper.record(success)) {
      for (const listener of this.#listeners) listener(this.#damper.ok);
    }
    this.#schedule(Math.max(0, this.config.intervalMs - (performance.now() - started)));
  }
}
