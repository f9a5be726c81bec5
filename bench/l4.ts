/**
 * L4 benchmark: hastack's TCP virtual server against HAProxy (mode tcp) and
 * nginx (stream), all in front of the same nginx backend, plus wrk straight to
 * the backend as a baseline. Not a test: it prints medians and ratios.
 *
 * Method (docs/benchmarks.md): wrk pinned to the load CPU (default 0), every
 * server process pinned to the server CPU (default 1), each target measured
 * --runs times per scenario after a short warm-up, targets interleaved run by
 * run so that drift hits all of them alike; the median is reported.
 *
 *   npm run bench:l4 -- [--duration 10s] [--connections 64] [--runs 3] ...
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { errorCode, errorMessage } from '../src/core/errors.ts';
import { installCleanupHandlers, isStopping, runCleanup } from './lib/cleanup.ts';
import { formatMs, formatRate, formatRatio } from './lib/format.ts';
import { startHaproxy } from './lib/haproxy.ts';
import { HASTACK_NODE, REPO_ROOT, startHastack } from './lib/hastack.ts';
import { waitForHttpOk } from './lib/http-probe.ts';
import {
  findNginxStreamModule,
  NGINX_STREAM_MODULE_PATHS,
  startNginx,
  startNginxOkBackend,
} from './lib/nginx.ts';
import { assertCpusAvailable, intOption, listOption, secondsOption } from './lib/options.ts';
import type { PinnedProcess } from './lib/pinned-process.ts';
import { freePort } from './lib/ports.ts';
import { median, ratio } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';
import { makeTempDir } from './lib/temp-dir.ts';
import { missingToolsError, resolveTools, type ToolSpec, toolVersion } from './lib/tools.ts';
import { runWrk, type WrkRun } from './lib/wrk.ts';
import { totalSocketErrors } from './lib/wrk-output.ts';

const HOST = '127.0.0.1';
const TARGETS = ['direct', 'hastack', 'haproxy', 'nginx'] as const;
type TargetName = (typeof TARGETS)[number];
const SCENARIOS = ['keep-alive', 'close'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const SCENARIO_HEADERS: Record<ScenarioName, string[]> = {
  'keep-alive': [],
  // wrk reconnects after every response when the server closes: one TCP connection per request.
  close: ['Connection: close'],
};

const SCENARIO_LABELS: Record<ScenarioName, string> = {
  'keep-alive': 'keep-alive',
  close: 'new connection per request',
};

const HELP = `Usage: npm run bench:l4 -- [options]     (or: node bench/l4.ts [options])

L4 (TCP) proxy benchmark: hastack vs HAProxy (mode tcp) vs nginx (stream), all in
front of one nginx backend, plus wrk straight to the backend. wrk runs on the load
CPU, every server on the server CPU; each target runs --runs times per scenario
and the median is reported.

Options (environment variable in brackets):
  --duration D       measured time per run, e.g. 10s, 30s, 1m  [BENCH_DURATION]    (default 10s)
  --connections N    wrk connections                           [BENCH_CONNECTIONS] (default 64)
  --runs N           runs per target and scenario              [BENCH_RUNS]        (default 3)
  --warmup D         unmeasured wrk run before each run        [BENCH_WARMUP]      (default 2s)
  --targets LIST     subset of ${TARGETS.join(',')}  [BENCH_TARGETS]
  --scenarios LIST   subset of ${SCENARIOS.join(',')}               [BENCH_SCENARIOS]
  --load-cpu N       CPU for wrk (default 0)
  --server-cpu N     CPU for the proxies and the backend (default 1)
  --out FILE         raw results JSON (default bench/results/l4-<date>.json)
  -h, --help         this text

Needs: wrk, haproxy, nginx with libnginx-mod-stream, taskset (util-linux).`;

interface Options {
  durationSec: number;
  warmupSec: number;
  connections: number;
  runs: number;
  targets: TargetName[];
  scenarios: ScenarioName[];
  loadCpu: number;
  serverCpu: number;
  out: string;
}

function readOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      targets: { type: 'string' },
      scenarios: { type: 'string' },
      'load-cpu': { type: 'string' },
      'server-cpu': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return undefined;
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  return {
    durationSec: secondsOption('duration', values.duration, 'BENCH_DURATION', 10),
    warmupSec: secondsOption('warmup', values.warmup, 'BENCH_WARMUP', 2, 0),
    connections: intOption('connections', values.connections, 'BENCH_CONNECTIONS', 64),
    runs: intOption('runs', values.runs, 'BENCH_RUNS', 3),
    targets: listOption('targets', values.targets, 'BENCH_TARGETS', TARGETS),
    scenarios: listOption('scenarios', values.scenarios, 'BENCH_SCENARIOS', SCENARIOS),
    loadCpu: intOption('load-cpu', values['load-cpu'], undefined, 0, 0),
    serverCpu: intOption('server-cpu', values['server-cpu'], undefined, 1, 0),
    out: values.out ?? join(REPO_ROOT, 'bench', 'results', `l4-${stamp}.json`),
  };
}

interface RunningTarget {
  name: TargetName;
  port: number;
  /** The proxy process (undefined for direct: that is the backend itself). */
  process: PinnedProcess | undefined;
  version: string;
  /** How the target is set up, for the JSON. */
  setup: string;
}

interface RunRecord {
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

interface Cell {
  scenario: ScenarioName;
  target: TargetName;
  runs: RunRecord[];
  medianRequestsPerSec: number;
  medianP99Ms: number;
}

function hastackYaml(port: number, backendPort: number): string {
  return `# Generated by bench/l4.ts
admin: false
log: { level: warn }
shutdown_grace: 1s
virtual_servers:
  - name: bench
    listen: ${HOST}:${port}
    protocol: tcp
    scheduler: rr
    workers: 1
    connect_timeout: 5s
    idle_timeout: 900s
    checks: [ { type: tcp, interval: 5s } ]
    real_servers: [ { address: ${HOST}:${backendPort} } ]
`;
}

function haproxyConfig(port: number, backendPort: number): string {
  return `# Generated by bench/l4.ts: one thread, plain TCP forwarding, a TCP check like hastack's.
global
    nbthread 1
    maxconn 8000

defaults
    mode tcp
    maxconn 8000
    timeout connect 5s
    timeout client 900s
    timeout server 900s

frontend bench
    bind ${HOST}:${port}
    default_backend real_servers

backend real_servers
    balance roundrobin
    server rs1 ${HOST}:${backendPort} check inter 5s
`;
}

function nginxStreamBody(port: number, backendPort: number): string {
  return `stream {
    upstream real_servers {
        server ${HOST}:${backendPort};
    }
    server {
        listen ${HOST}:${port};
        proxy_pass real_servers;
        proxy_connect_timeout 5s;
        proxy_timeout 900s;
    }
}`;
}

/** Checks every tool the selected targets need, reporting all missing ones at once. */
function checkTools(targets: readonly TargetName[]): {
  paths: Partial<Record<string, string>>;
  streamModule?: string;
} {
  const specs: Record<string, ToolSpec> = {
    taskset: { command: 'taskset', debianPackage: 'util-linux' },
    wrk: { command: 'wrk', debianPackage: 'wrk' },
    nginx: { command: 'nginx', debianPackage: 'nginx' },
  };
  if (targets.includes('haproxy')) specs.haproxy = { command: 'haproxy', debianPackage: 'haproxy' };
  const { paths, missing } = resolveTools(specs);
  let streamModule: string | undefined;
  if (targets.includes('nginx')) {
    streamModule = findNginxStreamModule();
    if (streamModule === undefined)
      missing.push({
        command: `ngx_stream_module.so (${NGINX_STREAM_MODULE_PATHS[0]})`,
        debianPackage: 'libnginx-mod-stream',
      });
  }
  if (missing.length > 0) throw missingToolsError(missing);
  return { paths, streamModule };
}

async function startTargets(options: Options): Promise<{ targets: RunningTarget[]; backend: PinnedProcess }> {
  const { paths, streamModule } = checkTools(options.targets);
  const dir = await makeTempDir('l4');
  const cpu = options.serverCpu;
  const backendPort = await freePort(HOST);
  const nginxVersion = toolVersion(paths.nginx!, ['-v']);

  const backend = await startNginxOkBackend({ nginx: paths.nginx!, cpu, dir, host: HOST, port: backendPort });
  await waitForHttpOk(HOST, backendPort, { process: backend, label: 'the nginx backend' });

  const targets: RunningTarget[] = [];
  for (const name of options.targets) {
    if (name === 'direct') {
      targets.push({
        name,
        port: backendPort,
        process: undefined,
        version: nginxVersion,
        setup: 'wrk → backend',
      });
      continue;
    }
    const port = await freePort(HOST);
    let proc: PinnedProcess;
    let version: string;
    let setup: string;
    if (name === 'hastack') {
      proc = await startHastack({ cpu, dir, yaml: hastackYaml(port, backendPort) });
      version = `${toolVersion(HASTACK_NODE, [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'version'])} (node ${toolVersion(HASTACK_NODE, ['--version'])})`;
      setup = 'L4 virtual server, workers: 1, scheduler rr, tcp check every 5s';
    } else if (name === 'haproxy') {
      proc = await startHaproxy({
        haproxy: paths.haproxy!,
        cpu,
        dir,
        config: haproxyConfig(port, backendPort),
      });
      version = toolVersion(paths.haproxy!, ['-v']);
      setup = 'mode tcp, nbthread 1, check inter 5s';
    } else {
      proc = await startNginx({
        name: 'nginx-stream',
        nginx: paths.nginx!,
        cpu,
        dir,
        modules: [streamModule!],
        body: nginxStreamBody(port, backendPort),
      });
      version = nginxVersion;
      setup = 'stream proxy_pass, worker_processes 1';
    }
    // 200 through the proxy: it listens and already reaches the backend.
    await waitForHttpOk(HOST, port, {
      process: proc,
      label: `${name} to proxy GET / to the backend`,
      timeoutMs: 30_000,
    });
    targets.push({ name, port, process: proc, version, setup });
  }
  return { targets, backend };
}

function toRecord(run: number, result: WrkRun): RunRecord {
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

function errorCount(record: RunRecord): number {
  return totalSocketErrors(record.socketErrors) + record.non2xx3xx;
}

async function measure(options: Options, targets: RunningTarget[], backend: PinnedProcess): Promise<Cell[]> {
  const cells: Cell[] = [];
  for (const scenario of options.scenarios) {
    const byTarget = new Map<TargetName, RunRecord[]>(targets.map((t) => [t.name, []]));
    for (let run = 1; run <= options.runs; run++) {
      // Rotate the order each run so no target always goes first (or right after another).
      const order = targets.map((_, i) => targets[(i + run - 1) % targets.length]!);
      for (const target of order) {
        backend.assertRunning();
        target.process?.assertRunning();
        const wrk = {
          url: `http://${HOST}:${target.port}/`,
          cpu: options.loadCpu,
          connections: options.connections,
          headers: SCENARIO_HEADERS[scenario],
        };
        if (options.warmupSec > 0) await runWrk({ ...wrk, durationSec: options.warmupSec });
        const record = toRecord(run, await runWrk({ ...wrk, durationSec: options.durationSec }));
        byTarget.get(target.name)!.push(record);
        const errors = errorCount(record);
        process.stderr.write(
          `[${scenario} ${run}/${options.runs}] ${target.name.padEnd(7)} ${formatRate(record.requestsPerSec).padStart(9)} req/s` +
            `  p99 ${formatMs(record.p99Ms).padStart(7)}${errors > 0 ? `  (${errors} errors)` : ''}\n`,
        );
        await sleep(500); // let the previous run's sockets close before the next one
      }
    }
    for (const target of targets) {
      const runs = byTarget.get(target.name)!;
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

interface Ratios {
  scenario: ScenarioName;
  versus: TargetName;
  /** hastack req/s ÷ theirs: > 1 means hastack is faster. */
  requestsPerSec: number;
  /** hastack p99 ÷ theirs: > 1 means hastack's tail latency is higher. */
  p99: number;
}

function computeRatios(cells: Cell[], scenarios: readonly ScenarioName[]): Ratios[] {
  const out: Ratios[] = [];
  for (const scenario of scenarios) {
    const hastack = cells.find((c) => c.scenario === scenario && c.target === 'hastack');
    if (hastack === undefined) continue;
    for (const versus of ['haproxy', 'nginx'] as const) {
      const other = cells.find((c) => c.scenario === scenario && c.target === versus);
      if (other === undefined) continue;
      out.push({
        scenario,
        versus,
        requestsPerSec: ratio(hastack.medianRequestsPerSec, other.medianRequestsPerSec),
        p99: ratio(hastack.medianP99Ms, other.medianP99Ms),
      });
    }
  }
  return out;
}

function report(options: Options, cells: Cell[], ratios: Ratios[]): string {
  const lines: string[] = [];
  lines.push(
    `L4 benchmark: wrk -t1 -c${options.connections} -d${options.durationSec}s on CPU ${options.loadCpu}, ` +
      `servers on CPU ${options.serverCpu}, median of ${options.runs} run(s), warm-up ${options.warmupSec}s`,
  );
  for (const scenario of options.scenarios) {
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

async function main(): Promise<number> {
  installCleanupHandlers();
  let options: Options | undefined;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench:l4: ${errorMessage(err)}\n\n${HELP}\n`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(`${HELP}\n`);
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
    const { targets, backend } = await startTargets(options);
    process.stderr.write(
      `targets ready: ${targets.map((t) => `${t.name} :${t.port}${t.process ? ` (pid ${t.process.pid})` : ''}`).join(', ')}; ` +
        `backend pid ${backend.pid}\n`,
    );
    const cells = await measure(options, targets, backend);
    const ratios = computeRatios(cells, options.scenarios);
    process.stdout.write(`${report(options, cells, ratios)}\n`);

    const json = {
      benchmark: 'l4',
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
    };
    await mkdir(dirname(options.out), { recursive: true });
    await writeFile(options.out, `${JSON.stringify(json, null, 2)}\n`);
    process.stdout.write(`\nraw results: ${options.out}\n`);
    return 0;
  } catch (err) {
    // After Ctrl-C, wrk or a server dying under us is the expected consequence, not news.
    if (!isStopping()) process.stderr.write(`bench:l4: ${errorMessage(err)} [${errorCode(err)}]\n`);
    return 1;
  } finally {
    await runCleanup();
  }
}

process.exitCode = await main();
