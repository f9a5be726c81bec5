/**
 * L7 benchmark: hastack's HTTP reverse proxy against nginx (proxy_pass with an
 * upstream keepalive pool, 1 worker) and HAProxy (mode http, nbthread 1), plus a
 * minimal node:http proxy (what "just use Node's http" gives) and hastack with
 * several worker threads, all in front of the same nginx backend serving 1 KiB;
 * wrk straight to the backend is the baseline. Not a test: it prints medians and ratios.
 *
 * Method (docs/benchmarks.md): wrk pinned to the load CPU (default 0), every
 * server process pinned to the server CPU (default 1), each target measured
 * --runs times per scenario after a short warm-up, targets interleaved run by
 * run so that drift hits all of them alike; the median is reported.
 *
 *   npm run bench:l7 -- [--duration 10s] [--connections 50] [--runs 3] ...
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
import { nginxHttpTempPaths, startNginx } from './lib/nginx.ts';
import { assertCpusAvailable, intOption, listOption, secondsOption } from './lib/options.ts';
import type { PinnedProcess } from './lib/pinned-process.ts';
import { spawnPinned } from './lib/pinned-process.ts';
import { freePort } from './lib/ports.ts';
import { median, ratio } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';
import { makeTempDir } from './lib/temp-dir.ts';
import { missingToolsError, resolveTools, type ToolSpec, toolVersion } from './lib/tools.ts';
import { runWrk, type WrkRun } from './lib/wrk.ts';
import { totalSocketErrors } from './lib/wrk-output.ts';

const HOST = '127.0.0.1';
const TARGETS = ['direct', 'hastack', 'haproxy', 'nginx', 'hastack-mw', 'node-http'] as const;
const DEFAULT_TARGETS = ['direct', 'hastack', 'haproxy', 'nginx', 'hastack-mw'] as const;
/** The response body every target serves: 1 KiB. */
const BODY_SIZE = 1024;
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

const HELP = `Usage: npm run bench:l7 -- [options]     (or: node bench/l7.ts [options])

L7 (HTTP) reverse proxy benchmark: hastack vs nginx (proxy_pass, upstream
keepalive, 1 worker) vs HAProxy (mode http, nbthread 1), all in front of one nginx
backend serving 1 KiB, plus wrk straight to the backend, hastack with --workers
worker threads (hastack-mw) and a minimal node:http proxy (node-http, not run by
default). wrk runs on the load CPU, every server on the server CPU; each target
runs --runs times per scenario and the median is reported.

Options (environment variable in brackets):
  --duration D       measured time per run, e.g. 10s, 30s, 1m  [BENCH_DURATION]    (default 10s)
  --connections N    wrk connections                           [BENCH_CONNECTIONS] (default 50)
  --runs N           runs per target and scenario              [BENCH_RUNS]        (default 3)
  --warmup D         unmeasured wrk run before each run        [BENCH_WARMUP]      (default 2s)
  --targets LIST     subset of ${TARGETS.join(',')}  [BENCH_TARGETS]
                     (default ${DEFAULT_TARGETS.join(',')})
  --workers N        worker threads of hastack-mw (default 2)
  --mw-cpus LIST     CPUs for hastack-mw, e.g. 1-3 (default: the server CPU)
  --scenarios LIST   subset of ${SCENARIOS.join(',')}               [BENCH_SCENARIOS]
  --load-cpu N       CPU for wrk (default 0)
  --server-cpu N     CPU for the proxies and the backend (default 1)
  --out FILE         raw results JSON (default bench/results/l7-<date>.json)
  -h, --help         this text

Needs: wrk, haproxy, nginx, taskset (util-linux).`;

interface Options {
  durationSec: number;
  warmupSec: number;
  connections: number;
  runs: number;
  targets: TargetName[];
  scenarios: ScenarioName[];
  loadCpu: number;
  serverCpu: number;
  workers: number;
  mwCpus: string;
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
      workers: { type: 'string' },
      'mw-cpus': { type: 'string' },
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
    connections: intOption('connections', values.connections, 'BENCH_CONNECTIONS', 50),
    runs: intOption('runs', values.runs, 'BENCH_RUNS', 3),
    targets:
      values.targets === undefined && process.env.BENCH_TARGETS === undefined
        ? [...DEFAULT_TARGETS]
        : listOption('targets', values.targets, 'BENCH_TARGETS', TARGETS),
    scenarios: listOption('scenarios', values.scenarios, 'BENCH_SCENARIOS', SCENARIOS),
    loadCpu: intOption('load-cpu', values['load-cpu'], undefined, 0, 0),
    serverCpu: intOption('server-cpu', values['server-cpu'], undefined, 1, 0),
    workers: intOption('workers', values.workers, undefined, 2, 2),
    mwCpus: values['mw-cpus'] ?? '',
    out: values.out ?? join(REPO_ROOT, 'bench', 'results', `l7-${stamp}.json`),
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

function hastackYaml(port: number, backendPort: number, workers: number): string {
  return `# Generated by bench/l7.ts
admin: false
log: { level: warn }
shutdown_grace: 1s
http:
  workers: ${workers}
  listeners:
    - name: bench
      listen: ${HOST}:${port}
      keepalive: { idle_timeout: 300s, max_requests: 10000000 }
      routes: [ { pool: backend } ]
  pools:
    backend:
      scheduler: rr
      keepalive: { max_idle: 256, idle_timeout: 300s, max_requests: 10000000 }
      servers: [ { address: ${HOST}:${backendPort} } ]
      health_check: { type: tcp, interval: 5s }
`;
}

function haproxyConfig(port: number, backendPort: number): string {
  return `# Generated by bench/l7.ts: one thread, HTTP mode, server connections reused (http-reuse safe, the default).
global
    nbthread 1
    maxconn 8000

defaults
    mode http
    maxconn 8000
    option http-keep-alive
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s

frontend bench
    bind ${HOST}:${port}
    default_backend real_servers

backend real_servers
    balance roundrobin
    http-reuse safe
    server rs1 ${HOST}:${backendPort} check inter 5s
`;
}

function nginxProxyBody(port: number, backendPort: number, prefix: string): string {
  return `http {
    access_log off;
    ${nginxHttpTempPaths(prefix)}
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    upstream backend {
        server ${HOST}:${backendPort};
        keepalive 256;
        keepalive_requests 10000000;
        keepalive_timeout 300s;
    }
    server {
        listen ${HOST}:${port} backlog=4096;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
}`;
}

/** The backend: nginx answering every request with 1 KiB. */
function backendBody(port: number, prefix: string): string {
  return `http {
    access_log off;
    ${nginxHttpTempPaths(prefix)}
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    server {
        listen ${HOST}:${port} backlog=4096;
        default_type text/plain;
        location / { return 200 "${'x'.repeat(BODY_SIZE - 1)}\\n"; }
    }
}`;
}

/** A minimal proxy on node:http with a keep-alive agent: the "why not just use Node's http" baseline. */
function nodeHttpProxySource(port: number, backendPort: number): string {
  return `import http from 'node:http';
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
http.createServer({ keepAliveTimeout: 300000 }, (req, res) => {
  const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress };
  const up = http.request({ host: '${HOST}', port: ${backendPort}, method: req.method, path: req.url, headers, agent }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', () => { res.statusCode = 502; res.end(); });
  req.pipe(up);
}).listen(${port}, '${HOST}');
`;
}

/** Checks every tool the selected targets need, reporting all missing ones at once. */
function checkTools(targets: readonly TargetName[]): Partial<Record<string, string>> {
  const specs: Record<string, ToolSpec> = {
    taskset: { command: 'taskset', debianPackage: 'util-linux' },
    wrk: { command: 'wrk', debianPackage: 'wrk' },
    nginx: { command: 'nginx', debianPackage: 'nginx' },
  };
  if (targets.includes('haproxy')) specs.haproxy = { command: 'haproxy', debianPackage: 'haproxy' };
  const { paths, missing } = resolveTools(specs);
  if (missing.length > 0) throw missingToolsError(missing);
  return paths;
}

async function startTargets(options: Options): Promise<{ targets: RunningTarget[]; backend: PinnedProcess }> {
  const paths = checkTools(options.targets);
  const dir = await makeTempDir('l7');
  const cpu = options.serverCpu;
  const backendPort = await freePort(HOST);
  const nginxVersion = toolVersion(paths.nginx!, ['-v']);

  const backend = await startNginx({
    name: 'backend',
    nginx: paths.nginx!,
    cpu,
    dir,
    body: backendBody(backendPort, join(dir, 'backend')),
  });
  await waitForHttpOk(HOST, backendPort, { process: backend, label: 'the nginx backend' });

  const targets: RunningTarget[] = [];
  const hastackVersion = () =>
    `${toolVersion(HASTACK_NODE, [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'version'])} (node ${toolVersion(HASTACK_NODE, ['--version'])})`;
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
    if (name === 'hastack' || name === 'hastack-mw') {
      const workers = name === 'hastack' ? 1 : options.workers;
      proc = await startHastack({
        name,
        cpu: name === 'hastack-mw' && options.mwCpus !== '' ? options.mwCpus : cpu,
        dir,
        yaml: hastackYaml(port, backendPort, workers),
      });
      version = hastackVersion();
      setup = `http listener, workers: ${workers}, pool rr with keepalive, tcp check every 5s`;
    } else if (name === 'haproxy') {
      proc = await startHaproxy({
        haproxy: paths.haproxy!,
        cpu,
        dir,
        config: haproxyConfig(port, backendPort),
      });
      version = toolVersion(paths.haproxy!, ['-v']);
      setup = 'mode http, nbthread 1, http-reuse safe, check inter 5s';
    } else if (name === 'nginx') {
      proc = await startNginx({
        name: 'nginx-proxy',
        nginx: paths.nginx!,
        cpu,
        dir,
        body: nginxProxyBody(port, backendPort, join(dir, 'nginx-proxy')),
      });
      version = nginxVersion;
      setup = 'proxy_pass, proxy_http_version 1.1, upstream keepalive 256, worker_processes 1';
    } else {
      const file = join(dir, 'node-http-proxy.mjs');
      await writeFile(file, nodeHttpProxySource(port, backendPort));
      proc = await spawnPinned({ name: 'node-http', command: HASTACK_NODE, args: [file], cpu });
      version = `node ${toolVersion(HASTACK_NODE, ['--version'])}`;
      setup = 'node:http server + http.request with a keep-alive Agent (maxSockets 256), piped';
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
          `[${scenario} ${run}/${options.runs}] ${target.name.padEnd(10)} ${formatRate(record.requestsPerSec).padStart(9)} req/s` +
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
    for (const versus of ['haproxy', 'nginx', 'node-http'] as const) {
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
    `L7 benchmark: wrk -t1 -c${options.connections} -d${options.durationSec}s on CPU ${options.loadCpu}, ${BODY_SIZE}-byte responses, ` +
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
    process.stderr.write(`bench:l7: ${errorMessage(err)}\n\n${HELP}\n`);
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
      benchmark: 'l7',
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
    if (!isStopping()) process.stderr.write(`bench:l7: ${errorMessage(err)} [${errorCode(err)}]\n`);
    return 1;
  } finally {
    await runCleanup();
  }
}

process.exitCode = await main();
