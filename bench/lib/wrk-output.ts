/**
 * Parser for wrk 4.x's text report (run with --latency). Pure: text in, numbers
 * out; times are converted to milliseconds, sizes to bytes.
 */
import { HastackError } from '../../src/core/errors.ts';

export interface WrkLatency {
  avgMs: number;
  stdevMs: number;
  maxMs: number;
  /** Percentile → ms, from the "Latency Distribution" block (50, 75, 90, 99). */
  percentilesMs: Record<number, number>;
  p50Ms: number;
  p99Ms: number;
}

export interface WrkSocketErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
}

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  elapsedSec: number;
  bytesRead: number;
  transferPerSec: number;
  latency: WrkLatency;
  socketErrors: WrkSocketErrors;
  /** Responses whose status was not 2xx/3xx. */
  non2xx3xx: number;
}

const TIME_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_BYTES: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
  PB: 1024 ** 5,
};

const TIME = String.raw`(\d+(?:\.\d+)?)(us|ms|s|m|h)`;
const SIZE = String.raw`(\d+(?:\.\d+)?)(B|KB|MB|GB|TB|PB)`;

function time(value: string, unit: string): number {
  return Number(value) * TIME_MS[unit]!;
}

function size(value: string, unit: string): number {
  return Number(value) * SIZE_BYTES[unit]!;
}

function invalid(what: string, text: string): HastackError {
  return new HastackError(
    'HASTACK_BENCH_WRK_OUTPUT',
    `cannot read ${what} from wrk's output:\n${text.trimEnd()}`,
  );
}

export function parseWrkOutput(text: string): WrkResult {
  const rps = /^Requests\/sec:\s+(\d+(?:\.\d+)?)\s*$/m.exec(text);
  if (rps === null) throw invalid('Requests/sec', text);

  const totals = new RegExp(String.raw`^\s*(\d+) requests in ${TIME}, ${SIZE} read\s*$`, 'm').exec(text);
  if (totals === null) throw invalid('the request count', text);

  const transfer = new RegExp(String.raw`^Transfer\/sec:\s+${SIZE}\s*$`, 'm').exec(text);

  // "Latency   655.23us  123.45us   5.00ms   90.00%" (the thread-stats line).
  const stats = new RegExp(String.raw`^\s*Latency\s+${TIME}\s+${TIME}\s+${TIME}\s`, 'm').exec(text);
  if (stats === null) throw invalid('latency statistics', text);

  const percentilesMs: Record<number, number> = {};
  const block = /Latency Distribution\s*\n((?:[ \t]+\d+(?:\.\d+)?%[ \t]+\S+[ \t]*\n?)+)/.exec(text);
  if (block === null) throw invalid('the latency distribution (was wrk run with --latency?)', text);
  for (const m of block[1]!.matchAll(new RegExp(String.raw`(\d+(?:\.\d+)?)%\s+${TIME}`, 'g'))) {
    percentilesMs[Number(m[1])] = time(m[2]!, m[3]!);
  }
  if (percentilesMs[50] === undefined || percentilesMs[99] === undefined)
    throw invalid('the 50th/99th percentile', text);

  const socketErrors: WrkSocketErrors = { connect: 0, read: 0, write: 0, timeout: 0 };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (errors !== null) {
    socketErrors.connect = Number(errors[1]);
    socketErrors.read = Number(errors[2]);
    socketErrors.write = Number(errors[3]);
    socketErrors.timeout = Number(errors[4]);
  }
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);

  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(totals[1]),
    elapsedSec: time(totals[2]!, totals[3]!) / 1000,
    bytesRead: size(totals[4]!, totals[5]!),
    transferPerSec: transfer === null ? 0 : size(transfer[1]!, transfer[2]!),
    latency: {
      avgMs: time(stats[1]!, stats[2]!),
      stdevMs: time(stats[3]!, stats[4]!),
      maxMs: time(stats[5]!, stats[6]!),
      percentilesMs,
      p50Ms: percentilesMs[50],
      p99Ms: percentilesMs[99],
    },
    socketErrors,
    non2xx3xx: non2xx === null ? 0 : Number(non2xx[1]),
  };
}

/** Total socket errors of a run (connect + read + write + timeout). */
export function totalSocketErrors(errors: WrkSocketErrors): number {
  return errors.connect + errors.read + errors.write + errors.timeout;
}
