import { errorCode, errorMessage } from '../core/errors.ts';
import type { ProbeResult } from './types.ts';

export const CODE_TIMEOUT = 'HASTACK_CHECK_TIMEOUT';
export const CODE_ABORTED = 'HASTACK_CHECK_ABORTED';
export const CODE_INVALID = 'HASTACK_CHECK_INVALID';

/** What a probe body uses to report its outcome; only the first report counts. */
export interface Attempt {
  /** Aborted as soon as the attempt settles (success, failure, timeout or outer abort). */
  readonly signal: AbortSignal;
  /** Where the probe is ("connect", "read banner"...): named in the timeout message. */
  stage: string;
  readonly settled: boolean;
  ok(message: string, weight?: number): void;
  fail(code: string, message: string): void;
  /** Fails with the code/message of any error (Node's ECONNREFUSED, ours...). */
  failWith(err: unknown, context?: string): void;
  /** Runs when the attempt settles, in reverse order of registration. */
  defer(cleanup: () => void): void;
}

/**
 * Runs one probe attempt bounded by `timeoutMs` and the caller's signal. The body
 * registers its sockets with `defer`, so every way out (timeout, abort, error)
 * closes them. Never rejects.
 */
export function runAttempt(
  timeoutMs: number,
  outer: AbortSignal,
  body: (attempt: Attempt) => void | Promise<void>,
): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const controller = new AbortController();
    const cleanups: (() => void)[] = [];
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const finish = (ok: boolean, message: string, code?: string, weight?: number) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
      controller.abort();
      for (let i = cleanups.length - 1; i >= 0; i--) {
        try {
          cleanups[i]!();
        } catch {
          // a failing cleanup must not hide the outcome
        }
      }
      resolve({
        ok,
        message,
        durationMs: performance.now() - started,
        ...(code !== undefined && { code }),
        ...(weight !== undefined && { weight }),
      });
    };

    const attempt: Attempt = {
      signal: controller.signal,
      stage: 'start',
      get settled() {
        return settled;
      },
      ok: (message, weight) => finish(true, message, undefined, weight),
      fail: (code, message) => finish(false, message, code),
      failWith: (err, context) => {
        const text = errorMessage(err);
        finish(false, context === undefined ? text : `${context}: ${text}`, errorCode(err));
      },
      defer: (cleanup) => {
        if (settled) cleanup();
        else cleanups.push(cleanup);
      },
    };

    const onAbort = () => finish(false, 'probe aborted', CODE_ABORTED);
    if (outer.aborted) {
      onAbort();
      return;
    }
    outer.addEventListener('abort', onAbort, { once: true });
    const limit = Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 1;
    timer = setTimeout(
      () => finish(false, `timed out after ${limit}ms (${attempt.stage})`, CODE_TIMEOUT),
      limit,
    );

    try {
      const pending = body(attempt);
      if (pending !== undefined) pending.catch((err: unknown) => attempt.failWith(err));
    } catch (err) {
      attempt.failWith(err);
    }
  });
}
