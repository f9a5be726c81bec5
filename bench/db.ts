/**
 * Database benchmark (not a test; it prints medians and ratios):
 *
 *  1. Binlog overhead: single-writer transactions (an INSERT and a counter UPDATE)
 *     through hastack's write engine with the binary log in each format, against
 *     plain node:sqlite on the same workload, pinned to the server CPU: by default all
 *     targets in one process in alternating 100 ms blocks (fsync latency on a shared
 *     disk swings 10x within minutes: only fine interleaving gives every target the
 *     same conditions), or --throughput-mode separate, one process each. Both sides run WAL mode with checkpoints in a background thread
 *     (as a hastack server does). "durable" compares one fsync per commit on both
 *     sides (plain synchronous=FULL: the WAL is fsynced in COMMIT, vs hastack
 *     synchronous=NORMAL + binary log fdatasync, sync_binlog=1); "no fsync" compares
 *     synchronous=NORMAL on both, binary log not synced. Also reports the process
 *     CPU time per transaction (steadier than tx/s on a shared machine).
 *  2. Replica lag at a fixed write rate (default 1,000 writes/s): a source and one
 *     replica in their own processes on the server CPU; the load generator (this
 *     process, on the load CPU) writes rows at the rate and polls the replica for
 *     the highest id (at most one poll per ms). Lag of a row = first seen on the
 *     replica − sent to the source, both on this process's monotonic clock
 *     (performance.now()), so it includes the source's commit and fsync. The load
 *     generator's own event-loop delay is reported too: its stalls inflate every
 *     target's lag alike (a shared machine). The same workload runs on MariaDB (Debian
 *     mariadb-server: source + one replica, ROW, GTID, sync_binlog=1,
 *     innodb_flush_log_at_trx_commit=1) in a temp datadir, as the anchor.
 *
 * Method: docs/benchmarks.md (pinned CPUs, warm-up, interleaved runs, medians).
 *
 *   npm run bench:db -- [--duration 5s] [--lag-duration 10s] [--rate 1000] [--runs 3] [--parts throughput,lag]
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode, errorMessage } from '../src/core/errors.ts';
import { dbRequest, type ServerTarget } from '../src/db/http-client.ts';
import type { DbServerSnapshot } from '../src/db/status-types.ts';
import { installCleanupHandlers, isStopping, registerCleanup, runCleanup } from './lib/cleanup.ts';
import { formatRate, formatRatio } from './lib/format.ts';
import { HASTACK_NODE, REPO_ROOT, startHastack } from './lib/hastack.ts';
import { interleavedRuns, rotate } from './lib/interleave.ts';
import { startMariadb } from './lib/mariadb.ts';
import type { MysqlConnection } from './lib/mysql-wire.ts';
import {
  assertCpusAvailable,
  intOption,
  listOption,
  methodOptions,
  parseBenchArgs,
  secondsOption,
} from './lib/options.ts';
import { type PinnedProcess, runPinned } from './lib/pinned-process.ts';
import { freePort, pollUntil } from './lib/ports.ts';
import { writeResults } from './lib/results.ts';
import { median, ratio } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';
import { makeTempDir } from './lib/temp-dir.ts';
import { missingToolsError, resolveTools, toolVersion } from './lib/tools.ts';

const PARTS = ['throughput', 'lag'] as const;
const ENGINE_TARGETS = ['plain', 'statement', 'row', 'mixed'] as const;
const LAG_TARGETS = ['hastack', 'mariadb'] as const;
type EngineTarget = (typeof ENGINE_TARGETS)[number];
type LagTarget = (typeof LAG_TARGETS)[number];

const HELP = `Usage: npm run bench:db -- [options]     (or: node bench/db.ts [options])

  --duration D        measured seconds of one throughput run (default 5s; env BENCH_DURATION)
  --lag-duration D    measured seconds of one lag run (default 10s; env BENCH_LAG_DURATION)
  --warmup D          unmeasured lead-in of every run (default 2s; env BENCH_WARMUP)
  --lag-settle D      unmeasured writes and polls at the rate once per lag target before its
                      first run, so no run measures a cold JIT or growing files (default 15s;
                      env BENCH_LAG_SETTLE)
  --rate N            writes per second in the lag runs (default 1000; env BENCH_RATE)
  --runs N            runs per target, interleaved; medians are reported (default 3; env BENCH_RUNS)
  --parts LIST        throughput,lag (default both; env BENCH_PARTS)
  --lag-targets LIST  hastack,mariadb (default both; env BENCH_LAG_TARGETS)
  --throughput-mode M interleaved (default: all targets in one process, alternating 100 ms
                      blocks, so they see the same disk/CPU noise) or separate (one process
                      per target); env BENCH_THROUGHPUT_MODE
  --load-cpu N        CPU of this process (writer and poller; default 0)
  --server-cpu N      CPU of every server process (default 1)
  --out FILE          raw results (default bench/results/db-<UTC time>.json)

Needs mariadb-server (sudo apt-get install mariadb-server) for the MariaDB anchor.
`;

interface Options {
  durationSec: number;
  lagDurationSec: number;
  warmupSec: number;
  lagSettleSec: number;
  rate: number;
  runs: number;
  parts: (typeof PARTS)[number][];
  lagTargets: LagTarget[];
  throughputMode: 'interleaved' | 'separate';
  loadCpu: number;
  serverCpu: number;
  out: string;
}

function readOptions(argv: string[]): Options | undefined {
  const values = parseBenchArgs(argv, [
    'lag-duration',
    'lag-settle',
    'rate',
    'parts',
    'lag-targets',
    'throughput-mode',
  ]);
  if (values === undefined) return undefined;
  const method = methodOptions(values, 'db', 5);
  // Spelled out: the JSON records the options object as it is, in this order.
  return {
    durationSec: method.durationSec,
    lagDurationSec: secondsOption('lag-duration', values['lag-duration'], 'BENCH_LAG_DURATION', 10),
    warmupSec: method.warmupSec,
    lagSettleSec: secondsOption('lag-settle', values['lag-settle'], 'BENCH_LAG_SETTLE', 15),
    rate: intOption('rate', values.rate, 'BENCH_RATE', 1000),
    runs: method.runs,
    parts: listOption('parts', values.parts, 'BENCH_PARTS', PARTS),
    lagTargets: listOption('lag-targets', values['lag-targets'], 'BENCH_LAG_TARGETS', LAG_TARGETS),
    throughputMode: throughputModeOption(values['throughput-mode']),
    loadCpu: method.loadCpu,
    serverCpu: method.serverCpu,
    out: method.out,
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

function throughputModeOption(value: string | undefined): 'interleaved' | 'separate' {
  const v = value ?? process.env.BENCH_THROUGHPUT_MODE ?? 'interleaved';
  if (v !== 'interleaved' && v !== 'separate')
    throw new Error(`--throughput-mode must be interleaved or separate, not "${v}"`);
  return v;
}

// --- 1. binlog overhead ------------------------------------------------------------------

interface ThroughputRecord {
  target: EngineTarget;
  durable: boolean;
  run: number;
  txPerSec: number;
  /** Process CPU time (all threads) per transaction, µs. */
  cpuUsPerTx: number;
}

async function throughput(o: Options, dir: string): Promise<ThroughputRecord[]> {
  const records: ThroughputRecord[] = [];
  for (let run = 0; run < o.runs; run++) {
    for (const durable of [true, false]) {
      // interleaved: every target in one process, alternating 100 ms blocks (the same noise for all);
      // separate: one process per target, one after the other.
      const groups: EngineTarget[][] =
        o.throughputMode === 'interleaved'
          ? [rotate(ENGINE_TARGETS, run)]
          : rotate(ENGINE_TARGETS, run).map((t) => [t]);
      for (const group of groups) {
        if (isStopping()) return records;
        const runDir = join(dir, `tp-${run}-${durable ? 'd' : 'f'}-${group.join('-')}`);
        await mkdir(runDir, { recursive: true });
        const r = await runPinned({
          name: `engine ${group.join(',')}`,
          command: HASTACK_NODE,
          args: [
            'bench/db-engine-run.ts',
            '--target',
            group.join(','),
            '--durable',
            durable ? 'yes' : 'no',
            '--seconds',
            String(o.durationSec),
            '--warmup',
            String(Math.max(1, o.warmupSec)),
            '--dir',
            runDir,
          ],
          cpu: o.serverCpu,
          cwd: REPO_ROOT,
          timeoutMs: ((o.durationSec + o.warmupSec) * group.length + 60) * 1000,
        });
        const lines = r.output
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{'));
        if (r.code !== 0 || lines.length !== group.length)
          throw new Error(`engine run ${group.join(',')} failed:\n${r.output.slice(-2000)}`);
        for (const line of lines) {
          const { target, txPerSec, cpuUsPerTx } = JSON.parse(line) as {
            target: EngineTarget;
            txPerSec: number;
            cpuUsPerTx: number;
          };
          records.push({ target, durable, run, txPerSec, cpuUsPerTx });
          log(
            `  throughput run ${run + 1}/${o.runs} ${durable ? 'durable ' : 'no fsync'} ${target.padEnd(9)} ${formatRate(txPerSec)} tx/s, ${cpuUsPerTx.toFixed(1)} µs CPU/tx`,
          );
        }
      }
    }
  }
  return records;
}

// --- 2. replica lag ------------------------------------------------------------------------

interface LagDriver {
  write(id: number): Promise<void>;
  maxId(): Promise<number>;
}

interface LagRecord {
  target: LagTarget;
  run: number;
  sent: number;
  achievedRate: number;
  writeP50Ms: number;
  writeP99Ms: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  unseen: number;
  errors: number;
  /** Event-loop delay of the load generator itself during the run (p99, max). */
  loadStallP99Ms: number;
  loadStallMaxMs: number;
  /** hastack only: the replica's own commit-to-apply measure. */
  internal?: { p50Ms: number; p99Ms: number };
}

/** Poll period of the replica (the lag resolution): the same for every target. */
const POLL_INTERVAL_MS = 1;

function percentile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function measureLag(driver: LagDriver, rate: number, seconds: number, firstId: number) {
  const total = Math.floor(rate * seconds);
  const sent = new Float64Array(total);
  const done = new Float64Array(total);
  const seen = new Float64Array(total);
  let issued = 0;
  let inflight = 0;
  let errors = 0;
  let writing = true;
  const stalls = monitorEventLoopDelay({ resolution: 1 });
  stalls.enable();
  const start = performance.now();
  const writer = (async () => {
    while (issued < total && !isStopping()) {
      const due = start + (issued * 1000) / rate;
      const now = performance.now();
      if (now < due || inflight >= 256) {
        await sleep(Math.max(0, Math.min(1, due - now)));
        continue;
      }
      const i = issued++;
      sent[i] = performance.now();
      inflight++;
      driver.write(firstId + i).then(
        () => {
          done[i] = performance.now();
          inflight--;
        },
        () => {
          errors++;
          inflight--;
        },
      );
    }
    while (inflight > 0) await sleep(1);
    writing = false;
  })();
  let last = firstId - 1;
  const deadline = () => (writing ? Number.POSITIVE_INFINITY : performance.now() + 10_000);
  let stopAt = deadline();
  while (last < firstId + total - 1 && performance.now() < stopAt && !isStopping()) {
    const polled = performance.now();
    const m = await driver.maxId();
    const t = performance.now();
    for (let id = last + 1; id <= m && id < firstId + total; id++) seen[id - firstId] = t;
    if (m > last) last = m;
    if (!writing && stopAt === Number.POSITIVE_INFINITY) stopAt = deadline();
    // At most one poll per POLL_INTERVAL_MS: polling must not eat the server CPU it measures.
    const wait = POLL_INTERVAL_MS - (performance.now() - polled);
    if (wait > 0) await sleep(wait);
  }
  await writer;
  stalls.disable();
  const elapsed = (performance.now() - start) / 1000;
  const lags: number[] = [];
  const writes: number[] = [];
  let unseen = 0;
  for (let i = 0; i < issued; i++) {
    if (seen[i] === 0) unseen++;
    else lags.push(seen[i]! - sent[i]!);
    if (done[i] !== 0) writes.push(done[i]! - sent[i]!);
  }
  lags.sort((a, b) => a - b);
  writes.sort((a, b) => a - b);
  return {
    sent: issued,
    achievedRate: issued / elapsed,
    writeP50Ms: percentile(writes, 0.5),
    writeP99Ms: percentile(writes, 0.99),
    lagP50Ms: percentile(lags, 0.5),
    lagP99Ms: percentile(lags, 0.99),
    lagMaxMs: lags.length === 0 ? Number.NaN : lags[lags.length - 1]!,
    unseen,
    errors,
    loadStallP99Ms: stalls.percentile(99) / 1e6,
    loadStallMaxMs: stalls.max / 1e6,
  };
}

/** POSTs JSON to one loopback HTTP server over keep-alive connections. */
class JsonPoster {
  readonly #port: number;
  readonly #agent: Agent;

  constructor(port: number, maxSockets: number) {
    this.#port = port;
    this.#agent = new Agent({ keepAlive: true, maxSockets });
    const destroy = () => this.#agent.destroy();
    registerCleanup({ label: `http agent :${port}`, run: async () => destroy(), runSync: destroy });
  }

  post(path: string, body: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: this.#port,
          path,
          method: 'POST',
          agent: this.#agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200)
              reject(new Error(`HTTP ${res.statusCode} on ${path}: ${text.slice(0, 300)}`));
            else {
              try {
                resolve(JSON.parse(text));
              } catch (err) {
                reject(err);
              }
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

interface LagSetup {
  driver: LagDriver;
  /** Called before a measured run. */
  reset: () => Promise<void>;
  internal: () => Promise<{ p50Ms: number; p99Ms: number } | undefined>;
  version: string;
  setup: string;
}

async function hastackLag(o: Options, dir: string): Promise<LagSetup> {
  const [sl, sh, rl, rh] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const server = (name: string, id: number, role: string, l: number, h: number, extra = '') => `admin: false
log: { level: warn }
database:
  servers:
    - name: ${name}
      server_id: ${id}
      role: ${role}
      data_dir: ${join(dir, `hastack-${name}`)}
      listen: 127.0.0.1:${l}
      http: 127.0.0.1:${h}
      binlog: { format: row, sync: true }
${extra}`;
  const procs: PinnedProcess[] = [];
  procs.push(
    await startHastack({
      name: 'hastack-source',
      cpu: o.serverCpu,
      dir,
      yaml: server('source', 1, 'source', sl, sh),
    }),
  );
  procs.push(
    await startHastack({
      name: 'hastack-replica',
      cpu: o.serverCpu,
      dir,
      yaml: server('replica', 2, 'replica', rl, rh, `      source: 127.0.0.1:${sl}\n`),
    }),
  );
  const source: ServerTarget = { name: 'source', url: `http://127.0.0.1:${sh}` };
  // The measured requests go through a lean keep-alive node:http client (fetch costs the load
  // generator several times more CPU, and its stalls would count as lag); MariaDB has its lean client too.
  const writes = new JsonPoster(sh, 256);
  const polls = new JsonPoster(rh, 1);
  const replica: ServerTarget = { name: 'replica', url: `http://127.0.0.1:${rh}` };
  for (const [t, p] of [
    [source, procs[0]!],
    [replica, procs[1]!],
  ] as const)
    await pollUntil(
      async () => {
        try {
          await dbRequest(t, 'GET', '/healthz');
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000, process: p, label: `${t.name} API` },
    );
  const created = await dbRequest<{ gtid: string }>(source, 'POST', '/db/execute', {
    sql: 'CREATE TABLE lag (id INTEGER PRIMARY KEY, sent INTEGER)',
  });
  // The replica polls must not race the table's creation.
  await dbRequest(replica, 'POST', '/db/query', {
    sql: 'SELECT 1',
    wait_for_gtids: created.gtid,
    timeout_ms: 20_000,
  });
  return {
    version: 'hastack (this checkout)',
    setup:
      'source + replica processes, binlog ROW, sync_binlog on (fdatasync per commit group), async replication, HTTP JSON API',
    driver: {
      write: async (id) => {
        await writes.post(
          '/db/execute',
          `{"statements":[["INSERT INTO lag VALUES (?, ?)",${id},${Date.now()}]]}`,
        );
      },
      maxId: async () => {
        const r = (await polls.post('/db/query', '{"sql":"SELECT max(id) FROM lag"}')) as {
          results: { rows: [number | null][] }[];
        };
        return r.results[0]!.rows[0]![0] ?? 0;
      },
    },
    reset: async () => {
      await dbRequest(replica, 'POST', '/db/lag/reset', {});
    },
    internal: async () => {
      const st = await dbRequest<DbServerSnapshot>(replica, 'GET', '/db/status');
      return st.replica === undefined
        ? undefined
        : { p50Ms: st.replica.lag.p50Ms, p99Ms: st.replica.lag.p99Ms };
    },
  };
}

async function mariadbLag(
  o: Options,
  dir: string,
  tools: { mariadbd: string; installDb: string },
): Promise<LagSetup> {
  const [sp, rp] = [await freePort(), await freePort()];
  const common = [
    '--log-bin=mysql-bin',
    '--binlog-format=ROW',
    '--sync-binlog=1',
    '--innodb-flush-log-at-trx-commit=1',
    '--log-slave-updates',
    '--innodb-buffer-pool-size=128M',
    '--max-connections=500',
  ];
  const src = await startMariadb({
    name: 'mariadb-source',
    ...tools,
    cpu: o.serverCpu,
    dir,
    port: sp,
    serverId: 1,
    options: common,
  });
  const rep = await startMariadb({
    name: 'mariadb-replica',
    ...tools,
    cpu: o.serverCpu,
    dir,
    port: rp,
    serverId: 2,
    options: [...common, '--read-only'],
  });
  const admin = await src.connect();
  const radmin = await rep.connect();
  await admin.query('CREATE TABLE lag (id BIGINT PRIMARY KEY, sent BIGINT) ENGINE=InnoDB');
  await radmin.query(
    `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${sp}, MASTER_USER='bench', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos`,
  );
  await radmin.query('START SLAVE');
  const version = (await admin.query('SELECT VERSION()'))[0]![0]!;
  const pool: MysqlConnection[] = [];
  for (let i = 0; i < 32; i++) pool.push(await src.connect());
  let next = 0;
  const poller = await rep.connect();
  return {
    version: `MariaDB ${version}`,
    setup:
      'source + replica mariadbd, binlog ROW, GTID (slave_pos), sync_binlog=1, innodb_flush_log_at_trx_commit=1, async replication, MySQL protocol',
    driver: {
      write: async (id) => {
        await pool[next++ % pool.length]!.query(`INSERT INTO lag VALUES (${id}, ${Date.now()})`);
      },
      maxId: async () => Number((await poller.query('SELECT IFNULL(MAX(id), 0) FROM lag'))[0]![0] ?? 0),
    },
    reset: async () => {},
    internal: async () => undefined,
  };
}

// --- report --------------------------------------------------------------------------------

function report(
  o: Options,
  tp: ThroughputRecord[],
  lag: LagRecord[],
  versions: Record<string, string>,
  cpus: number,
): string {
  let out = `\nhastack database benchmark (${cpus} CPUs, load cpu ${o.loadCpu}, server cpu ${o.serverCpu}, ${o.runs} run(s), medians)\n`;
  if (tp.length > 0) {
    out += `\n1. Binlog overhead: single-writer transactions (INSERT + UPDATE), ${o.durationSec}s per run\n`;
    for (const durable of [true, false]) {
      const plain = median(
        tp.filter((r) => r.target === 'plain' && r.durable === durable).map((r) => r.txPerSec),
      );
      const rows = ENGINE_TARGETS.map((t) => {
        const runs = tp.filter((r) => r.target === t && r.durable === durable).map((r) => r.txPerSec);
        const m = median(runs);
        const cpu = median(
          tp.filter((r) => r.target === t && r.durable === durable).map((r) => r.cpuUsPerTx),
        );
        return [
          t === 'plain' ? 'plain node:sqlite' : `hastack binlog ${t.toUpperCase()}`,
          formatRate(m),
          t === 'plain' ? '-' : `${((1 - ratio(m, plain)) * 100).toFixed(1)} %`,
          formatRatio(ratio(m, plain)),
          cpu.toFixed(1),
          runs.map((v) => formatRate(v)).join(' / '),
        ];
      });
      out += `\n  ${durable ? 'durable: one fsync per commit (plain synchronous=FULL; hastack synchronous=NORMAL + binlog fdatasync); WAL, background checkpoints' : 'no fsync (synchronous=NORMAL on both; hastack binlog not synced); WAL, background checkpoints'}\n`;
      out += `${formatTable(['target', 'tx/s', 'cost', 'vs plain', 'CPU µs/tx', 'runs'], rows).replace(/^/gm, '  ').trimEnd()}\n`;
    }
  }
  if (lag.length > 0) {
    out += `\n2. Replica lag at ${o.rate} writes/s for ${o.lagDurationSec}s (sent to source → first seen on the replica by a polling client)\n`;
    const rows = o.lagTargets
      .filter((t) => lag.some((r) => r.target === t))
      .map((t) => {
        const runs = lag.filter((r) => r.target === t);
        const m = (f: (r: LagRecord) => number) => median(runs.map(f));
        const internal = runs.filter((r) => r.internal !== undefined);
        return [
          versions[t] ?? t,
          formatRate(m((r) => r.achievedRate)),
          `${m((r) => r.writeP50Ms).toFixed(2)} / ${m((r) => r.writeP99Ms).toFixed(1)}`,
          m((r) => r.lagP50Ms).toFixed(2),
          m((r) => r.lagP99Ms).toFixed(2),
          m((r) => r.lagMaxMs).toFixed(1),
          internal.length === 0
            ? '-'
            : `${median(internal.map((r) => r.internal!.p50Ms)).toFixed(2)} / ${median(internal.map((r) => r.internal!.p99Ms)).toFixed(2)}`,
          String(runs.reduce((n, r) => n + r.unseen + r.errors, 0)),
          `${m((r) => r.loadStallP99Ms).toFixed(1)} / ${m((r) => r.loadStallMaxMs).toFixed(0)}`,
          runs.map((r) => r.lagP99Ms.toFixed(1)).join(' / '),
        ];
      });
    out += formatTable(
      [
        'target',
        'writes/s',
        'write p50/p99 ms',
        'lag p50 ms',
        'lag p99 ms',
        'lag max ms',
        'commit→apply p50/p99',
        'lost/errors',
        'load-gen stall p99/max ms',
        'p99 runs',
      ],
      rows,
    )
      .replace(/^/gm, '  ')
      .trimEnd();
    out += '\n';
    const h = lag.filter((r) => r.target === 'hastack');
    const mdb = lag.filter((r) => r.target === 'mariadb');
    if (h.length > 0 && mdb.length > 0)
      out += `\n  hastack lag p99 / MariaDB lag p99 = ${formatRatio(ratio(median(h.map((r) => r.lagP99Ms)), median(mdb.map((r) => r.lagP99Ms))))} (below 1.00x: hastack lags less)\n`;
  }
  return out;
}

async function main(): Promise<number> {
  const cpus = availableParallelism();
  const o = readOptions(process.argv.slice(2));
  if (o === undefined) {
    process.stdout.write(HELP);
    return 0;
  }
  installCleanupHandlers();
  assertCpusAvailable([o.loadCpu, o.serverCpu]);
  const needMaria = o.parts.includes('lag') && o.lagTargets.includes('mariadb');
  const specs = {
    taskset: { command: 'taskset', debianPackage: 'util-linux' },
    ...(needMaria && {
      mariadbd: { command: 'mariadbd', debianPackage: 'mariadb-server' },
      installDb: { command: 'mariadb-install-db', debianPackage: 'mariadb-server' },
    }),
  };
  const { paths: found, missing } = resolveTools(
    specs as Record<string, { command: string; debianPackage: string }>,
  );
  if (missing.length > 0) throw missingToolsError(missing);
  // The load generator (this process) stays on its own CPU.
  spawnSync('taskset', ['-a', '-cp', String(o.loadCpu), String(process.pid)], { stdio: 'ignore' });
  const load = loadavg()[0]!;
  if (load > 0.5) log(`warning: load average ${load.toFixed(2)}: results will be noisy`);
  const dir = await makeTempDir('db');
  const versions: Record<string, string> = {};
  let tp: ThroughputRecord[] = [];
  const lag: LagRecord[] = [];
  try {
    if (o.parts.includes('throughput')) {
      log('binlog overhead (throughput runs)');
      tp = await throughput(o, dir);
    }
    if (o.parts.includes('lag')) {
      const setups = new Map<LagTarget, LagSetup>();
      for (const t of o.lagTargets) {
        log(`starting ${t} source and replica`);
        await mkdir(join(dir, t), { recursive: true });
        const setup =
          t === 'hastack'
            ? await hastackLag(o, join(dir, 'hastack'))
            : await mariadbLag(o, join(dir, 'mariadb'), {
                mariadbd: found.mariadbd!,
                installDb: found.installDb!,
              });
        setups.set(t, setup);
        versions[t] = setup.version;
      }
      let nextId = 1;
      // Once per target, as long as a few runs: the first measured run of a fresh server
      // otherwise pays for JIT warm-up and files growing to their working size.
      for (const t of o.lagTargets)
        if (o.lagSettleSec > 0) {
          log(`  settling ${t}: ${o.lagSettleSec}s at ${o.rate} writes/s`);
          nextId += (await measureLag(setups.get(t)!.driver, o.rate, o.lagSettleSec, nextId)).sent;
        }
      await interleavedRuns(
        o.lagTargets,
        o.runs,
        async (t, run) => {
          const s = setups.get(t)!;
          if (o.warmupSec > 0) nextId += (await measureLag(s.driver, o.rate, o.warmupSec, nextId)).sent;
          await s.reset();
          const r = await measureLag(s.driver, o.rate, o.lagDurationSec, nextId);
          nextId += r.sent;
          const internal = await s.internal();
          lag.push({ target: t, run: run - 1, ...r, ...(internal !== undefined && { internal }) });
          log(
            `  lag run ${run}/${o.runs} ${t.padEnd(8)} ${formatRate(r.achievedRate)} writes/s, lag p50 ${r.lagP50Ms.toFixed(2)} ms p99 ${r.lagP99Ms.toFixed(2)} ms`,
          );
        },
        isStopping,
      );
    }
  } finally {
    await runCleanup();
  }
  process.stdout.write(report(o, tp, lag, versions, cpus));
  await writeResults(o.out, {
    method: 'docs/benchmarks.md; bench/db.ts header',
    options: o,
    machine: { cpus, kernel: release(), loadAverageAtStart: loadavg() },
    commit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim(),
    versions: {
      ...versions,
      ...(needMaria ? { mariadbd: toolVersion(found.mariadbd!, ['--version']) } : {}),
    },
    throughput: tp,
    lag,
  });
  log(`raw results: ${o.out}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    await runCleanup();
    process.stderr.write(`bench:db failed: ${errorMessage(err)} [${errorCode(err)}]\n`);
    process.exit(1);
  },
);
