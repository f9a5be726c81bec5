import { setTimeout as delay } from 'node:timers/promises';
import type { CheckSpec } from '../config/model.ts';
import { dnsProbe } from './dns-probe.ts';
import { httpProbe } from './http-probe.ts';
import { icmpProbe } from './icmp-probe.ts';
import { miscProbe } from './misc-probe.ts';
import { CODE_ABORTED } from './probe-attempt.ts';
import { smtpProbe } from './smtp-probe.ts';
import { tcpProbe } from './tcp-probe.ts';
import type { ProbeResult, Prober, ProbeTarget } from './types.ts';

/** Waits `ms` or until `signal` aborts, whichever comes first; never rejects. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** One attempt of any check type. */
export const probe: Prober = (spec, target, signal) => {
  switch (spec.type) {
    case 'tcp':
      return tcpProbe(spec, target, signal);
    case 'http':
      return httpProbe(spec, target, signal);
    case 'smtp':
      return smtpProbe(spec, target, signal);
    case 'dns':
      return dnsProbe(spec, target, signal);
    case 'misc':
      return miscProbe(spec, target, signal);
    case 'icmp':
      return icmpProbe(spec, target, signal);
  }
};

export const sleepWithSignal: Sleep = (ms, signal) =>
  delay(ms, undefined, { signal }).catch(() => {
    // aborted: the caller looks at signal.aborted
  });

export interface RetryOptions {
  prober?: Prober;
  /** Overrides spec.retries (the monitor passes 0 for a check already down, as keepalived does). */
  retries?: number;
}

/**
 * One probe with keepalived's `retry` / `delay_before_retry`: up to 1 + retries
 * attempts, `retryDelayMs` apart, stopping at the first success. The result is
 * the last attempt's, with `attempts` and the total duration.
 */
export async function probeWithRetries(
  spec: CheckSpec,
  target: ProbeTarget,
  signal: AbortSignal,
  sleep: Sleep = sleepWithSignal,
  options: RetryOptions = {},
): Promise<ProbeResult> {
  const prober = options.prober ?? probe;
  const retries = Math.max(0, Math.floor(options.retries ?? spec.retries));
  const started = performance.now();
  let attempts = 0;
  let result: ProbeResult | undefined;
  while (true) {
    attempts++;
    result = await prober(spec, target, signal);
    if (result.ok || attempts > retries || signal.aborted) break;
    await sleep(spec.retryDelayMs, signal);
    if (signal.aborted) {
      result = { ok: false, code: CODE_ABORTED, message: 'probe aborted', durationMs: 0 };
      break;
    }
  }
  return { ...result, attempts, durationMs: performance.now() - started };
}
