/**
 * Bench option values: a command-line flag wins over an environment variable,
 * which wins over the default. Bad values fail with a message naming the flag.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/core/duration.ts';
import { HastackError } from '../../src/core/errors.ts';
import { resultsPath } from './results.ts';

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

/** Flags of the method itself, which every bench takes (besides its own and -h/--help). */
export const METHOD_FLAGS = ['duration', 'warmup', 'runs', 'load-cpu', 'server-cpu', 'out'] as const;
export type MethodFlag = (typeof METHOD_FLAGS)[number];

/** Raw flag values by flag name (undefined when not given). */
export type FlagValues<F extends string> = Partial<Record<MethodFlag | F, string>>;

/**
 * Parses a bench's argv: the method's flags plus `extra` (all take a value) and
 * -h/--help. Returns undefined when help was asked for; unknown flags and
 * positional arguments throw (node:util parseArgs, strict).
 */
export function parseBenchArgs<const F extends string>(
  argv: readonly string[],
  extra: readonly F[],
): FlagValues<F> | undefined {
  const options: Record<string, { type: 'string' } | { type: 'boolean'; short: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const flag of [...METHOD_FLAGS, ...extra]) options[flag] = { type: 'string' };
  const { values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options });
  if (values.help === true) return undefined;
  return values as FlagValues<F>;
}

/** The method's settings, shared by every bench (docs/benchmarks.md, "Method"). */
export interface MethodOptions {
  /** Measured seconds of one run (--duration, $BENCH_DURATION). */
  durationSec: number;
  /** Unmeasured seconds before each measured run, 0 = none (--warmup, $BENCH_WARMUP, default 2). */
  warmupSec: number;
  /** Runs per target; the median is reported (--runs, $BENCH_RUNS, default 3). */
  runs: number;
  /** CPU of the load generator (--load-cpu, default 0). */
  loadCpu: number;
  /** CPU of every server process (--server-cpu, default 1). */
  serverCpu: number;
  /** Raw results JSON (--out, default bench/results/<benchmark>-<UTC time>.json). */
  out: string;
}

/** Reads the method's flags (see MethodOptions for their environment variables and defaults). */
export function methodOptions(
  values: FlagValues<never>,
  benchmark: string,
  defaultDurationSec: number,
): MethodOptions {
  return {
    durationSec: secondsOption('duration', values.duration, 'BENCH_DURATION', defaultDurationSec),
    warmupSec: secondsOption('warmup', values.warmup, 'BENCH_WARMUP', 2, 0),
    runs: intOption('runs', values.runs, 'BENCH_RUNS', 3),
    loadCpu: intOption('load-cpu', values['load-cpu'], undefined, 0, 0),
    serverCpu: intOption('server-cpu', values['server-cpu'], undefined, 1, 0),
    out: values.out ?? resultsPath(benchmark),
  };
}
