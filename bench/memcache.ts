/**
 * memcached benchmark: hastack's memcached-compatible server against memcached
 * itself with one worker thread (`memcached -t 1`), side by side, driven by
 * memcaslap (libmemcached's memaslap, Debian libmemcached-tools). Not a test:
 * it prints medians and ratios.
 *
 * Method (docs/benchmarks.md): memcaslap pinned to the load CPU (default 0),
 * both servers pinned to the server CPU (default 1), each scenario measured
 * --runs times per target after a warm-up, targets interleaved run by run; the
 * median ops/s is reported with every run's value, and the median server CPU
 * time per operation (steadier than ops/s on a busy machine).
 *
 *   npm run bench:memcache -- [--duration 10s] [--concurrency 64] [--runs 3] ...
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { errorCode, errorMessage } from '../src/core/errors.ts';
import { installCleanupHandlers, isStopping, runCleanup } from './lib/cleanup.ts';
import { formatRate, formatRatio } from './lib/format.ts';
import { startHastack } from './lib/hastack.ts';
import { interleavedRuns, warmThenMeasure } from './lib/interleave.ts';
import {
  assertCpusAvailable,
  intOption,
  listOption,
  type MethodOptions,
  methodOptions,
  parseBenchArgs,
} from './lib/options.ts';
import { type PinnedProcess, runPinned, spawnPinned } from './lib/pinned-process.ts';
import { freePort, waitForPort } from './lib/ports.ts';
import { writeResults } from './lib/results.ts';
import { median, ratio } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';
import { makeTempDir } from './lib/temp-dir.ts';
import { missingToolsError, resolveTools, type ToolSpec, toolVersion } from './lib/tools.ts';

const HOST = '127.0.0.1';
const TARGETS = ['hastack', 'memcached'] as const;
type TargetName = (typeof TARGETS)[number];

/** Mix × value size. memcaslap's default mix is 90 % get / 10 % set; get-heavy is 99 % / 1 %. */
const SCENARIOS = ['default-64', 'default-1k', 'get-heavy-64', 'get-heavy-1k'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

interface Scenario {
  label: string;
  valueSize: number;
  getShare: number;
}

const SCENARIO_SPECS: Record<ScenarioName, Scenario> = {
  'default-64': { label: 'default mix (90% get / 10% set), 64 B values', valueSize: 64, getShare: 0.9 },
  'default-1k': { label: 'default mix (90% get / 10% set), 1 KiB values', valueSize: 1024, getShare: 0.9 },
  'get-heavy-64': { label: 'get-heavy (99% get / 1% set), 64 B values', valueSize: 64, getShare: 0.99 },
  'get-heavy-1k': { label: 'get-heavy (99% get / 1% set), 1 KiB values', valueSize: 1024, getShare: 0.99 },
};

const HELP = `Usage: npm run bench:memcache -- [options]     (or: node bench/memcache.ts [options])

memcached benchmark: hastack's memcached section vs memcached -t 1, driven by
memcaslap. memcaslap runs on the load CPU, both servers on the server CPU; each
target runs --runs times per scenario and the median ops/s is reported, with each
server's CPU time per operation (user + system, from /proc/PID/stat), which
stays comparable when other work on the machine slows memcaslap down.

Options (environment variable in brackets):
  --duration D       measured time per run, e.g. 10s, 30s          [BENCH_DURATION]    (default 10s)
  --concurrency N    memcaslap connections (-c)                     [BENCH_CONNECTIONS] (default 64)
  --threads N        memcaslap threads (-T)                         (default 1)
  --runs N           runs per target and scenario                   [BENCH_RUNS]        (default 3)
  --warmup D         unmeasured memcaslap run before each run       [BENCH_WARMUP]      (default 2s)
  --targets LIST     subset of ${TARGETS.join(',')}                 [BENCH_TARGETS]
  --scenarios LIST   subset of ${SCENARIOS.join(',')}   [BENCH_SCENARIOS]
  --load-cpu N       CPU for memcaslap (default 0)
  --server-cpu N     CPU for the servers (default 1)
  --out FILE         raw results JSON (default bench/results/memcache-<date>.json)
  -h, --help         this text

Needs: memcaslap (libmemcached-tools), memcached, taskset (util-linux).`;

interface Options extends MethodOptions {
  concurrency: number;
  threads: number;
  targets: TargetName[];
  scenarios: ScenarioName[];
}

function readOptions(argv: string[]): Options | undefined {
  const values = parseBenchArgs(argv, ['concurrency', 'threads', 'targets', 'scenarios']);
  if (values === undefined) return undefined;
  return {
    ...methodOptions(values, 'memcache', 10),
    concurrency: intOption('concurrency', values.concurrency, 'BENCH_CONNECTIONS', 64),
    threads: intOption('threads', values.threads, undefined, 1),
    targets: listOption('targets', values.targets, 'BENCH_TARGETS', TARGETS),
    scenarios: listOption('scenarios', values.scenarios, 'BENCH_SCENARIOS', SCENARIOS),
  };
}

interface RunningTarget {
  name: TargetName;
  port: number;
  process: PinnedProcess;
  version: string;
  setup: string;
}

interface RunRecord {
  run: number;
  opsPerSec: number;
  ops: number;
  getMisses: number;
  /** Server CPU (user + system, all threads) per operation in the measured run, µs; null off Linux. */
  cpuUsPerOp: number | null;
  raw: string;
}

interface Cell {
  scenario: ScenarioName;
  target: TargetName;
  runs: RunRecord[];
  medianOpsPerSec: number;
  medianCpuUsPerOp: number | null;
}

/**
 * A process's user + system CPU time so far in seconds (all threads), from
 * /proc/PID/stat; undefined where that is not readable. Clock ticks are 100 Hz
 * on every Linux build that matters here (USER_HZ).
 */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Both servers get the same memory and connection limits. */
const MEMORY_MB = 1024;
const MAX_CONNECTIONS = 4096;

function hastackYaml(port: number): string {
  return `# Generated by bench/memcache.ts
admin: false
log: { level: warn }
shutdown_grace: 1s
memcached:
  listen: ${HOST}:${port}
  memory_limit: ${MEMORY_MB}m
  max_connections: ${MAX_CONNECTIONS}
`;
}

/** memcaslap's -F file: key size, value size, and the set/get proportions (cmd 0 = set, 1 = get). */
function memcaslapConfig(s: Scenario): string {
  return `key\n64 64 1\nvalue\n${s.valueSize} ${s.valueSize} 1\ncmd\n0 ${(1 - s.getShare).toFixed(2)}\n1 ${s.getShare.toFixed(2)}\n`;
}

function parseMemcaslap(text: string): { opsPerSec: number; ops: number; getMisses: number } {
  const total = /Run time: [\d.]+s Ops: (\d+) TPS: (\d+)/.exec(text);
  if (total === null) throw new Error(`unexpected memcaslap output:\n${text.slice(-2000)}`);
  const misses = /get_misses: (\d+)/.exec(text);
  return {
    ops: Number(total[1]),
    opsPerSec: Number(total[2]),
    getMisses: misses === null ? 0 : Number(misses[1]),
  };
}

async function startTargets(
  options: Options,
  paths: Partial<Record<string, string>>,
  dir: string,
): Promise<RunningTarget[]> {
  const targets: RunningTarget[] = [];
  for (const name of options.targets) {
    const port = await freePort(HOST);
    if (name === 'memcached') {
      const args = [
        '-l',
        HOST,
        '-p',
        String(port),
        '-U',
        '0',
        '-t',
        '1',
        '-m',
        String(MEMORY_MB),
        '-c',
        String(MAX_CONNECTIONS),
      ];
      if (process.getuid?.() === 0) args.push('-u', 'root');
      const proc = await spawnPinned({ name, command: paths.memcached!, args, cpu: options.serverCpu });
      await waitForPort(HOST, port, { process: proc, label: 'memcached' });
      targets.push({
        name,
        port,
        process: proc,
        version: toolVersion(paths.memcached!, ['-V']),
        setup: `memcached ${args.join(' ')}`,
      });
    } else {
      const proc = await startHastack({ cpu: options.serverCpu, dir, yaml: hastackYaml(port) });
      await waitForPort(HOST, port, { process: proc, label: 'hastack memcached' });
      targets.push({ name, port, process: proc, version: process.version, setup: hastackYaml(port) });
    }
  }
  return targets;
}

async function runMemcaslap(
  options: Options,
  memcaslap: string,
  configFile: string,
  port: number,
  seconds: number,
): Promise<RunResultLike> {
  const args = [
    '-s',
    `${HOST}:${port}`,
    '-T',
    String(options.threads),
    '-c',
    String(options.concurrency),
    '-t',
    `${seconds}s`,
    '-F',
    configFile,
  ];
  const result = await runPinned({
    name: 'memcaslap',
    command: memcaslap,
    args,
    cpu: options.loadCpu,
    timeoutMs: (seconds + 30) * 1000,
  });
  return { output: result.output, code: result.code };
}

interface RunResultLike {
  output: string;
  code: number | null;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  if (options === undefined) {
    console.log(HELP);
    return;
  }
  installCleanupHandlers();
  assertCpusAvailable([options.loadCpu, options.serverCpu]);
  const specs: Record<string, ToolSpec> = {
    taskset: { command: 'taskset', debianPackage: 'util-linux' },
    memcaslap: { command: 'memcaslap', debianPackage: 'libmemcached-tools' },
  };
  if (options.targets.includes('memcached'))
    specs.memcached = { command: 'memcached', debianPackage: 'memcached' };
  const { paths, missing } = resolveTools(specs);
  if (missing.length > 0) throw missingToolsError(missing);
  const load = loadavg()[0]!;
  if (load > 0.5) console.error(`warning: load average ${load.toFixed(2)} at start: numbers will be noisy`);
  const dir = await makeTempDir('memcache');
  const targets = await startTargets(options, paths, dir);
  const cells: Cell[] = [];
  for (const scenarioName of options.scenarios) {
    const scenario = SCENARIO_SPECS[scenarioName];
    const configFile = join(dir, `${scenarioName}.cfg`);
    await writeFile(configFile, memcaslapConfig(scenario));
    const byTarget = await interleavedRuns(
      targets,
      options.runs,
      async (target, run): Promise<RunRecord> => {
        target.process.assertRunning();
        let cpuBefore: number | undefined;
        const r = await warmThenMeasure(options.warmupSec, options.durationSec, (seconds) => {
          // Read last before the measured run starts (after the warm-up).
          cpuBefore = processCpuSeconds(target.process.pid);
          return runMemcaslap(options, paths.memcaslap!, configFile, target.port, seconds);
        });
        const cpuAfter = processCpuSeconds(target.process.pid);
        const parsed = parseMemcaslap(r.output);
        const cpuUsPerOp =
          cpuBefore === undefined || cpuAfter === undefined || parsed.ops === 0
            ? null
            : ((cpuAfter - cpuBefore) * 1e6) / parsed.ops;
        console.error(
          `${scenarioName} ${target.name} run ${run}: ${formatRate(parsed.opsPerSec)} ops/s, server CPU ${formatCpu(cpuUsPerOp)} µs/op`,
        );
        return { run, ...parsed, cpuUsPerOp, raw: r.output };
      },
      isStopping,
    );
    for (const [target, runs] of byTarget) {
      const cpu = runs.map((r) => r.cpuUsPerOp).filter((v): v is number => v !== null);
      cells.push({
        scenario: scenarioName,
        target: target.name,
        runs,
        medianOpsPerSec: median(runs.map((r) => r.opsPerSec)),
        medianCpuUsPerOp: cpu.length === runs.length && cpu.length > 0 ? median(cpu) : null,
      });
    }
  }
  printReport(options, cells);
  await writeResults(options.out, {
    benchmark: 'memcache',
    date: new Date().toISOString(),
    method: {
      tool: 'memcaslap',
      durationSec: options.durationSec,
      warmupSec: options.warmupSec,
      concurrency: options.concurrency,
      threads: options.threads,
      runs: options.runs,
      loadCpu: options.loadCpu,
      serverCpu: options.serverCpu,
    },
    machine: { kernel: release(), cpus: availableParallelism(), loadAverageAtStart: load },
    targets: targets.map((t) => ({ name: t.name, version: t.version, setup: t.setup })),
    memcaslap: toolVersion(paths.memcaslap!, ['--version']),
    cells,
  });
  console.error(`raw results: ${options.out}`);
}

function formatCpu(usPerOp: number | null): string {
  return usPerOp === null ? '-' : usPerOp.toFixed(2);
}

function printReport(options: Options, cells: Cell[]): void {
  console.log(
    `memcaslap -T ${options.threads} -c ${options.concurrency} -t ${options.durationSec}s, key 64 B, median of ${options.runs}; memcaslap on cpu${options.loadCpu}, servers on cpu${options.serverCpu}\n`,
  );
  for (const scenario of options.scenarios) {
    const rows = cells.filter((c) => c.scenario === scenario);
    console.log(SCENARIO_SPECS[scenario].label);
    console.log(
      formatTable(
        ['target', 'ops/s (median)', 'server CPU µs/op', 'runs'],
        rows.map((c) => [
          c.target,
          formatRate(c.medianOpsPerSec),
          formatCpu(c.medianCpuUsPerOp),
          c.runs.map((r) => formatRate(r.opsPerSec)).join(', '),
        ]),
      ),
    );
    const h = rows.find((c) => c.target === 'hastack');
    const m = rows.find((c) => c.target === 'memcached');
    if (h !== undefined && m !== undefined) {
      console.log(`hastack / memcached -t 1: ${formatRatio(ratio(h.medianOpsPerSec, m.medianOpsPerSec))}`);
      // CPU per op does not depend on how much CPU memcaslap got, so it is steadier on a busy machine.
      if (h.medianCpuUsPerOp !== null && m.medianCpuUsPerOp !== null)
        console.log(
          `server CPU per op, memcached / hastack: ${formatRatio(ratio(m.medianCpuUsPerOp, h.medianCpuUsPerOp))}`,
        );
    }
    console.log('');
  }
}

main()
  .catch((err: unknown) => {
    console.error(`bench failed: ${errorMessage(err)} [${errorCode(err)}]`);
    process.exitCode = 1;
  })
  .finally(() => runCleanup());
