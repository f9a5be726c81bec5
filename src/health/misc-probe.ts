import type { CheckSpec } from '../config/model.ts';
import { runScript } from '../core/run-script.ts';
import { CODE_ABORTED, CODE_TIMEOUT } from './probe-attempt.ts';
import type { ProbeResult, ProbeTarget } from './types.ts';

export type MiscCheckSpec = Extract<CheckSpec, { type: 'misc' }>;

export const CODE_MISC_EXIT = 'HASTACK_CHECK_MISC_EXIT';
export const CODE_MISC_SIGNAL = 'HASTACK_CHECK_MISC_SIGNAL';
export const CODE_MISC_SPAWN = 'HASTACK_CHECK_MISC_SPAWN';

/**
 * MISC_CHECK: run the command through /bin/sh -c, killed (with its process
 * group) after `timeoutMs`. Exit 0 is up, anything else down. With `dynamic`
 * (misc_dynamic): 0 up, 1 down, 2..255 up with weight = code − 2. A timeout or
 * a signal is down. The target is passed as HASTACK_CHECK_HOST/PORT.
 */
export async function miscProbe(
  spec: MiscCheckSpec,
  target: ProbeTarget,
  signal: AbortSignal,
): Promise<ProbeResult> {
  if (signal.aborted) return { ok: false, code: CODE_ABORTED, message: 'probe aborted', durationMs: 0 };
  const result = await runScript(spec.command, {
    timeoutMs: spec.timeoutMs,
    signal,
    env: {
      ...process.env,
      HASTACK_CHECK_HOST: spec.connectHost ?? target.host,
      HASTACK_CHECK_PORT: String(spec.connectPort ?? target.port),
    },
    maxOutputBytes: 4096,
  });
  const durationMs = result.durationMs;
  if (signal.aborted) return { ok: false, code: CODE_ABORTED, message: 'probe aborted', durationMs };
  if (result.spawnError !== undefined) {
    return {
      ok: false,
      code: CODE_MISC_SPAWN,
      message: `cannot run command: ${result.spawnError}`,
      durationMs,
    };
  }
  if (result.timedOut) {
    return { ok: false, code: CODE_TIMEOUT, message: `command killed after ${spec.timeoutMs}ms`, durationMs };
  }
  const code = result.exitCode;
  if (code === null) {
    return {
      ok: false,
      code: CODE_MISC_SIGNAL,
      message: `command killed by ${result.signal ?? 'a signal'}`,
      durationMs,
    };
  }
  if (code === 0) return { ok: true, message: 'exit 0', durationMs };
  if (spec.dynamic && code >= 2 && code <= 255) {
    return { ok: true, weight: code - 2, message: `exit ${code}: weight ${code - 2}`, durationMs };
  }
  const detail = firstLine(result.stderr) ?? firstLine(result.stdout);
  return {
    ok: false,
    code: CODE_MISC_EXIT,
    message: detail === undefined ? `exit ${code}` : `exit ${code}: ${detail}`,
    durationMs,
  };
}

function firstLine(text: string): string | undefined {
  const line = text.trim().split('\n', 1)[0]?.trim();
  return line === undefined || line === '' ? undefined : line.slice(0, 200);
}
