/**
 * What the wrk-driven proxy benches (bench/l4.ts, bench/l7.ts) share: the two
 * scenarios, the target list, the measuring loop, the report tables and the
 * JSON. A bench supplies its options, its targets and how to start them.
 */
import { availableParallelism, loadavg, release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode, errorMessage } from '../../src/core/errors.ts';
import { installCleanupHandlers, isStopping, runCleanup } from './cleanup.ts';
import { formatMs, formatRate, formatRatio } from './format.ts';
import { REPO_ROOT } from './hastack.ts';
import { waitForHttpOk } from './http-probe.ts';
import { interleavedRuns, warmThenMeasure } from './interleave.ts';
import {
  assertCpusAvailable,
  type FlagValues,
  intOption,
  listOption,
  type MethodOptions,
  methodOptions,
} from './options.ts';
import type { PinnedProcess } from './pinned-process.ts';
import { freePort } from './ports.ts';
import { writeResults } from './results.ts';
import { median, ratio } from './stats.ts';
import { formatTable } from './table.ts';
import { resolveTools, type ToolSpec, toolVersion } from './tools.ts';
import { runWrk, type WrkRun } from './wrk.ts';
import { totalSocketErrors } from './wrk-output.ts';

export const HOST = '127.0.0.1';

export const WRK_SCENARIOS = ['keep-alive', 'close'] as const;
export type WrkScenario = (typeof WRK_SCENARIOS)[number];

const SCENARIO_HEADERS: Record<WrkScenario, string[]> = {
  'keep-alive': [],
  // wrk reconnects after every response when the server closes: one TCP connection per request.
  close: ['Connection: close'],
};

const SCENARIO_LABELS: Record<WrkScenario, string> = {
  'keep-alive': 'keep-alive',
  close: 'new connection per request',
};

/** The flags a wrk bench takes besides the method's (parseBenchArgs). */
export const WRK_FLAGS = ['connections', 'targets', 'scenarios'] as const;

export interface WrkBenchOptions<N extends string> extends MethodOptions {
  connections: number;
  targets: N[];
  scenarios: WrkScenario[];
}

/**
 * The options of a wrk bench: the method's, --connections, --targets (all of
 * `targets` unless `defaultTargets` is given) and --scenarios.
 */
export function wrkBenchOptions<const N extends string>(
  values: FlagValues<(typeof WRK_FLAGS)[number]>,
  spec: {
    benchmark: string;
    connections: number;
    targets: readonly N[];
    defaultTargets?: readonly N[];
  },
): WrkBenchOptions<N> {
  const method = methodOptions(values, spec.benchmark, 10);
  return {
    ...method,
    connections: intOption('connections', values.connections, 'BENCH_CONNECTIONS', spec.connections),
    targets:
      spec.defaultTargets !== undefined &&
      values.targets === undefined &&
      process.env.BENCH_TARGETS === undefined
        ? [...spec.defaultTargets]
        : listOption('targets', values.targets, 'BENCH_TARGETS', spec.targets),
    scenarios: listOption('scenarios', values.scenarios, 'BENCH_SCENARIOS', WRK_SCENARIOS),
  };
}

/** Resolves taskset, wrk, nginx (the backend) and, when selected, haproxy; the caller reports `missing`. */
export function resolveWrkTools(targets: readonly string[]): {
  paths: Partial<Record<string, string>>;
  missing: ToolSpec[];
} {
  const specs: Record<string, ToolSpec> = {
    taskset: { command: 'taskset', debianPackage: 'util-linux' },
    wrk: { command: 'wrk', debianPackage: 'wrk' },
    nginx: { command: 'nginx', debianPackage: 'nginx' },
  };
  if (targets.includes('haproxy')) specs.haproxy = { command: 'haproxy', debianPackage: 'haproxy' };
  return resolveTools(specs);
}

export interface WrkTarget<N extends string> {
  name: N;
  port: number;
  /** The proxy process (undefined for direct: that is the backend itself). */
  process: PinnedProcess | undefined;
  version: string;
  /** How the target is set up, for the JSON. */
  setup: string;
}

/** A started proxy, before it is known to reach the backend. */
export type StartedProxy = Pick<WrkTarget<string>, 'version' | 'setup'> & { process: PinnedProcess };

/**
 * Starts the selected targets one after the other: `direct` is wrk straight to
 * the backend; every other one gets a free port, is started by `start` and
 * counts as ready once GET / through it returns 200 (it listens and already
 * reaches the backend).
 */
export async function startWrkTargets<N extends string>(
  names: readonly N[],
  direct: { port: number; version: string },
  start: (name: Exclude<N, 'direct'>, port: number) => Promise<StartedProxy>,
): Promise<WrkTarget<N>[]> {
  const targets: WrkTarget<N>[] = [];
  for (const name of names) {
    if (name === 'direct') {
      targets.push({
        name,
        port: direct.port,
        process: undefined,
        version: direct.version,
        setup: 'wrk → backend',
      });
      continue;
    }
    const port = await freePort(HOST);
    const { process: proc, version, setup } = await start(name as Exclude<N, 'direct'>, port);
    await waitForHttpOk(HOST, port, {
      process: proc,
      label: `${name} to proxy GET / to the backend`,
      timeoutMs: 30_000,
    });
    targets.push({ name, port, process: proc, version, setup });
  }
  return targets;
}

export interface WrkRunRecord {
  run: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  socketErrors: WrkRun['socketErrors'];
  non2xx3xx: number;
  raw: string;
}

export interface WrkCell<N extends string> {
  scenario: WrkScenario;
  target: N;
  runs: WrkRunRecord[];
  medianRequestsPerSec: number;
  medianP99Ms: number;
}

export interface WrkRatio<N extends string> {
  scenario: WrkScenario;
  versus: N;
  /** hastack req/s ÷ theirs: > 1 means hastack is faster. */
  requestsPerSec: number;
  /** hastack p99 ÷ theirs: > 1 means hastack's tail latency is higher. */
  p99: number;
}

function toRecord(run: number, result: WrkRun): WrkRunRecord {
  return {
    run,
    requestsPerSec: result.requestsPerSec,
    p50Ms: result.latency.p50Ms,
    p99Ms: result.latency.p99Ms,
    maxMs: result.latency.maxMs,
    requests: result.requests,
    socketErrors: result.socketErrors,
    non2xx3xx: result.non2xx3xx,
    raw: result.raw,
  };
}

function errorCount(record: WrkRunRecord): number {
  return totalSocketErrors(record.socketErrors) + record.non2xx3xx;
}

/** Every scenario: the interleaved runs of every target, progress on stderr (names padded to nameWidth). */
async function measure<N extends string>(
  options: WrkBenchOptions<N>,
  targets: WrkTarget<N>[],
  backend: PinnedProcess,
  nameWidth: number,
): Promise<WrkCell<N>[]> {
  const cells: WrkCell<N>[] = [];
  for (const scenario of options.scenarios) {
    const byTarget = await interleavedRuns(targets, options.runs, async (target, run) => {
      backend.assertRunning();
      target.process?.assertRunning();
      const wrk = {
        url: `http://${HOST}:${target.port}/`,
        cpu: options.loadCpu,
        connections: options.connections,
        headers: SCENARIO_HEADERS[scenario],
      };
      const record = toRecord(
        run,
        await warmThenMeasure(options.warmupSec, options.durationSec, (durationSec) =>
          runWrk({ ...wrk, durationSec }),
        ),
      );
      const errors = errorCount(record);
      process.stderr.write(
        `[${scenario} ${run}/${options.runs}] ${target.name.padEnd(nameWidth)} ${formatRate(record.requestsPerSec).padStart(9)} req/s` +
          `  p99 ${formatMs(record.p99Ms).padStart(7)}${errors > 0 ? `  (${errors} errors)` : ''}\n`,
      );
      await sleep(500); // let the previous run's sockets close before the next one
      return record;
    });
    for (const [target, runs] of byTarget) {
      cells.push({
        scenario,
        target: target.name,
        runs,
        medianRequestsPerSec: median(runs.map((r) => r.requestsPerSec)),
        medianP99Ms: median(runs.map((r) => r.p99Ms)),
      });
    }
  }
  return cells;
}

/** hastack against each of `versus` that ran, per scenario. */
function computeRatios<N extends string>(
  cells: WrkCell<N>[],
  scenarios: readonly WrkScenario[],
  versus: readonly N[],
): WrkRatio<N>[] {
  const out: WrkRatio<N>[] = [];
  for (const scenario of scenarios) {
    const hastack = cells.find((c) => c.scenario === scenario && c.target === 'hastack');
    if (hastack === undefined) continue;
    for (const other of versus) {
      const cell = cells.find((c) => c.scenario === scenario && c.target === other);
      if (cell === undefined) continue;
      out.push({
        scenario,
        versus: other,
        requestsPerSec: ratio(hastack.medianRequestsPerSec, cell.medianRequestsPerSec),
        p99: ratio(hastack.medianP99Ms, cell.medianP99Ms),
      });
    }
  }
  return out;
}

function report<N extends string>(
  title: string,
  scenarios: readonly WrkScenario[],
  cells: WrkCell<N>[],
  ratios: WrkRatio<N>[],
): string {
  const lines: string[] = [title];
  for (const scenario of scenarios) {
    const direct = cells.find((c) => c.scenario === scenario && c.target === 'direct');
    const rows = cells
      .filter((c) => c.scenario === scenario)
      .map((c) => {
        const errors = c.runs.reduce((sum, r) => sum + errorCount(r), 0);
        return [
          c.target,
          formatRate(c.medianRequestsPerSec),
          formatMs(c.medianP99Ms),
          direct === undefined
            ? 'n/a'
            : `${Math.round(ratio(c.medianRequestsPerSec, direct.medianRequestsPerSec) * 100)}%`,
          c.runs.map((r) => formatRate(r.requestsPerSec)).join(' / '),
          c.runs.map((r) => formatMs(r.p99Ms)).join(' / '),
          String(errors),
        ];
      });
    lines.push('', `${SCENARIO_LABELS[scenario]}:`);
    lines.push(
      formatTable(['target', 'req/s', 'p99', 'of direct', 'req/s per run', 'p99 per run', 'errors'], rows),
    );
  }
  if (ratios.length > 0) {
    lines.push(
      '',
      'hastack ÷ other (req/s: above 1.00x = hastack faster; p99: above 1.00x = hastack slower):',
    );
    lines.push(
      formatTable(
        ['scenario', 'vs', 'req/s ratio', 'p99 ratio'],
        ratios.map((r) => [r.scenario, r.versus, formatRatio(r.requestsPerSec), formatRatio(r.p99)]),
      ),
    );
  }
  const withErrors = cells.filter((c) => c.runs.some((r) => errorCount(r) > 0));
  if (withErrors.length > 0) {
    lines.push(
      '',
      `note: wrk reported socket errors or non-2xx responses for ${withErrors.map((c) => `${c.target} (${c.scenario})`).join(', ')}; see the JSON.`,
    );
  }
  return lines.join('\n');
}

export interface WrkBenchSpec<N extends string, O extends WrkBenchOptions<N>> {
  /** "l4", "l7": names the JSON (`benchmark`) and prefixes errors (`bench:l4:`). */
  benchmark: string;
  help: string;
  /** Every target name the bench knows (pads the progress lines). */
  allTargets: readonly N[];
  /** The targets hastack is compared with in the ratio table, in its order. */
  versus: readonly N[];
  /** Undefined when help was asked for; throws on a bad flag. */
  readOptions(argv: string[]): O | undefined;
  /** Starts the backend and the selected targets (registering their cleanup). */
  startTargets(options: O): Promise<{ targets: WrkTarget<N>[]; backend: PinnedProcess }>;
  /** The report's first line. */
  title(options: O): string;
}

/**
 * A wrk bench from start to end: options (exit code 2 and the help on a bad
 * flag), targets, measuring, the report on stdout, the JSON, and cleanup on
 * every path. Resolves to the exit code.
 */
export async function runWrkBench<N extends string, O extends WrkBenchOptions<N>>(
  spec: WrkBenchSpec<N, O>,
): Promise<number> {
  installCleanupHandlers();
  let options: O | undefined;
  try {
    options = spec.readOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench:${spec.benchmark}: ${errorMessage(err)}\n\n${spec.help}\n`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(`${spec.help}\n`);
    return 0;
  }
  try {
    assertCpusAvailable([options.loadCpu, options.serverCpu]);
    const startedAt = new Date();
    const loadBefore = loadavg()[0]!;
    if (loadBefore > 0.5) {
      process.stderr.write(
        `warning: load average is ${loadBefore.toFixed(2)} before the bench starts: other work on these CPUs will make results noisy\n`,
      );
    }
    const { targets, backend } = await spec.startTargets(options);
    process.stderr.write(
      `targets ready: ${targets.map((t) => `${t.name} :${t.port}${t.process ? ` (pid ${t.process.pid})` : ''}`).join(', ')}; ` +
        `backend pid ${backend.pid}\n`,
    );
    const nameWidth = Math.max(...spec.allTargets.map((name) => name.length));
    const cells = await measure(options, targets, backend, nameWidth);
    const ratios = computeRatios(cells, options.scenarios, spec.versus);
    process.stdout.write(`${report(spec.title(options), options.scenarios, cells, ratios)}\n`);

    await writeResults(options.out, {
      benchmark: spec.benchmark,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: {
        kernel: release(),
        cpus: availableParallelism(),
        loadAverageAtStart: loadBefore,
        wrk: toolVersion('wrk', ['-v']),
      },
      commit: toolVersion('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']),
      method: {
        loadCpu: options.loadCpu,
        serverCpu: options.serverCpu,
        wrk: `-t1 -c${options.connections} -d${options.durationSec}s --latency`,
        warmupSec: options.warmupSec,
        runs: options.runs,
        statistic: 'median',
      },
      targets: targets.map((t) => ({ name: t.name, version: t.version, setup: t.setup })),
      results: cells,
      ratios,
    });
    process.stdout.write(`\nraw results: ${options.out}\n`);
    return 0;
  } catch (err) {
    // After Ctrl-C, wrk or a server dying under us is the expected consequence, not news.
    if (!isStopping())
      process.stderr.write(`bench:${spec.benchmark}: ${errorMessage(err)} [${errorCode(err)}]\n`);
    return 1;
  } finally {
    await runCleanup();
  }
}
