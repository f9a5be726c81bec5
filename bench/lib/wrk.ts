import { HastackError } from '../../src/core/errors.ts';
import { describeExit, formatTail, runPinned } from './pinned-process.ts';
import { parseWrkOutput, type WrkResult } from './wrk-output.ts';

export interface WrkOptions {
  url: string;
  /** CPU list for taskset (the load generator's core). */
  cpu: number | string;
  durationSec: number;
  connections: number;
  /** wrk threads (default 1: one pinned core). */
  threads?: number;
  /** Extra request headers, e.g. "Connection: close". */
  headers?: readonly string[];
  /** wrk --timeout in seconds: a response slower than this counts as a timeout error (default 5). */
  timeoutSec?: number;
  /** Path of the wrk binary (default "wrk" from PATH). */
  wrk?: string;
}

export interface WrkRun extends WrkResult {
  /** wrk's full report, kept for the JSON results. */
  raw: string;
}

/** wrk's argument list for these options (always with --latency, which the parser needs). */
export function wrkArgs(options: WrkOptions): string[] {
  const args = [
    `-t${options.threads ?? 1}`,
    `-c${options.connections}`,
    `-d${options.durationSec}s`,
    `--timeout`,
    `${options.timeoutSec ?? 5}s`,
    '--latency',
  ];
  for (const header of options.headers ?? []) args.push('-H', header);
  args.push(options.url);
  return args;
}

/** Runs wrk pinned to options.cpu and parses its report. */
export async function runWrk(options: WrkOptions): Promise<WrkRun> {
  const result = await runPinned({
    name: 'wrk',
    command: options.wrk ?? 'wrk',
    args: wrkArgs(options),
    cpu: options.cpu,
    timeoutMs: (options.durationSec + 30) * 1000,
  });
  if (result.code !== 0) {
    throw new HastackError(
      'HASTACK_BENCH_WRK_FAILED',
      `wrk ${options.url} failed (${describeExit(result)})${formatTail(result.output)}`,
    );
  }
  return { ...parseWrkOutput(result.output), raw: result.output };
}
