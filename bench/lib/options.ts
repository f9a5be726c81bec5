/**
 * Bench option values: a command-line flag wins over an environment variable,
 * which wins over the default. Bad values fail with a message naming the flag.
 */
import { availableParallelism } from 'node:os';
import { parseDuration } from '../../src/core/duration.ts';
import { HastackError } from '../../src/core/errors.ts';

function invalid(flag: string, env: string | undefined, value: string, expected: string): HastackError {
  const source = env === undefined ? `--${flag}` : `--${flag} / ${env}`;
  return new HastackError('HASTACK_BENCH_OPTION_INVALID', `${source}: "${value}" is not ${expected}`);
}

function pick(flagValue: string | undefined, env: string | undefined): string | undefined {
  if (flagValue !== undefined) return flagValue;
  if (env === undefined) return undefined;
  const value = process.env[env];
  return value === undefined || value === '' ? undefined : value;
}

/** An integer ≥ min from --flag, then $env, then fallback. */
export function intOption(
  flag: string,
  flagValue: string | undefined,
  env: string | undefined,
  fallback: number,
  min = 1,
): number {
  const text = pick(flagValue, env);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw invalid(flag, env, text, `an integer ≥ ${min}`);
  return value;
}

/** Whole seconds (≥ min) from "10", "10s", "1m"... via --flag, then $env, then fallback. */
export function secondsOption(
  flag: string,
  flagValue: string | undefined,
  env: string | undefined,
  fallback: number,
  min = 1,
): number {
  const text = pick(flagValue, env);
  if (text === undefined) return fallback;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw invalid(flag, env, text, 'a duration (10, 10s, 1m)');
  }
  if (ms % 1000 !== 0 || ms / 1000 < min)
    throw invalid(flag, env, text, `a whole number of seconds ≥ ${min}`);
  return ms / 1000;
}

/** A comma-separated subset of allowed (all of them by default), in the order of allowed. */
export function listOption<const T extends string>(
  flag: string,
  flagValue: string | undefined,
  env: string | undefined,
  allowed: readonly T[],
): T[] {
  const text = pick(flagValue, env);
  if (text === undefined) return [...allowed];
  const wanted = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of wanted) {
    if (!(allowed as readonly string[]).includes(name))
      throw invalid(flag, env, name, `one of ${allowed.join(', ')}`);
  }
  if (wanted.length === 0) throw invalid(flag, env, text, `a list of ${allowed.join(', ')}`);
  return allowed.filter((name) => wanted.includes(name));
}

/** Fails unless the CPUs the bench pins to exist for this process (taskset would fail less clearly). */
export function assertCpusAvailable(cpus: readonly number[]): void {
  const count = availableParallelism();
  const missing = cpus.filter((cpu) => cpu >= count);
  if (missing.length > 0) {
    throw new HastackError(
      'HASTACK_BENCH_CPU_MISSING',
      `this machine has ${count} usable CPU(s); cannot pin to CPU ${missing.join(', ')} ` +
        '(the method needs 2: load generator on one, servers on the other; see --load-cpu/--server-cpu)',
    );
  }
}
