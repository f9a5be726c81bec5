/*
 * `npm start` for real: the demo runs as a child process (the same `node src/cli/main.ts demo`
 * the start script runs) on a free port range chosen with --base-port, and every endpoint its
 * banner advertises is exercised over loopback. Then SIGTERM: exit 0, no process left behind.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { demoConfigYaml } from '../../src/demo/demo-config.ts';
import { demoListenPorts, resolveDemoPorts } from '../../src/demo/demo-ports.ts';
import { findBusyPorts } from '../../src/demo/port-probe.ts';
import { httpGet } from '../helpers/http-get.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'src/cli/main.ts');
const STARTUP_MS = 60_000;
const EXIT_MS = 30_000;

interface Demo {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDemo(args: string[], env: Record<string, string>): Demo {
  // Own process group, so `after` can kill the demo and its backends by one group id.
  const child = spawn(NODE, [MAIN, 'demo', ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HASTACK_LOG_LEVEL: 'warn', ...env },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c));
  child.stderr!.on('data', (c: Buffer) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** A base port whose whole demo range is free right now (random, so parallel runs rarely meet). */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const plan = resolveDemoPorts({ basePort: String(base) });
    const ports = demoListenPorts(demoConfigYaml({ ...plan, backendPorts: [] }));
    if ((await findBusyPorts(ports)).length === 0) return base;
  }
  throw new Error('no free demo port range found');
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves once the banner is complete; rejects if the demo exits first. */
async function waitForBanner(demo: Demo): Promise<string> {
  const deadline = Date.now() + STARTUP_MS;
  let exited = false;
  void demo.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    // The banner is one write; its last advertised command is the weight change.
    if (/npm run hastack -- weight .*\n/.test(demo.stdout())) return demo.stdout();
    if (exited) break;
    await sleep(100);
  }
  throw new Error(`demo did not print its banner\nstdout:\n${demo.stdout()}\nstderr:\n${demo.stderr()}`);
}

interface Banner {
  vipPort: number;
  proxyPort: number;
  memcachedPort: number;
  db: { db1: number; db2: number; db3: number };
  adminPort: number;
  statusArgs: string[];
  backends: Map<string, number>;
  stoppablePid: number;
}

function parseBanner(text: string): Banner {
  const need = (re: RegExp): RegExpExecArray => {
    const m = re.exec(text);
    assert.ok(m, `banner lacks ${re}:\n${text}`);
    return m;
  };
  const backends = new Map<string, number>();
  for (const m of need(/wrr over (.*)/)[1]!.matchAll(/(web\d)=127\.0\.0\.1:(\d+)/g))
    backends.set(m[1]!, Number(m[2]));
  const db = need(/source db1 http:\/\/127\.0\.0\.1:(\d+)\/, replicas db2 :(\d+), db3 :(\d+)/);
  return {
    vipPort: Number(need(/L4 virtual server\s+http:\/\/127\.0\.0\.1:(\d+)\//)[1]),
    proxyPort: Number(need(/L7 reverse proxy\s+http:\/\/127\.0\.0\.1:(\d+)\//)[1]),
    memcachedPort: Number(need(/memcached\s+127\.0\.0\.1:(\d+)/)[1]),
    db: { db1: Number(db[1]), db2: Number(db[2]), db3: Number(db[3]) },
    adminPort: Number(need(/admin API\s+http:\/\/127\.0\.0\.1:(\d+)\/status/)[1]),
    statusArgs: need(/npm run hastack -- (status [^(\n]*?)\s+\(/)[1]!
      .trim()
      .split(/\s+/),
    backends,
    stoppablePid: Number(need(/kill -STOP (\d+)/)[1]),
  };
}

/** All descendants of pid, read from /proc (children of every thread). */
async function descendants(pid: number): Promise<number[]> {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    let tasks: string[] = [];
    try {
      tasks = await readdir(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      const text = await readFile(`/proc/${p}/task/${t}/children`, 'utf8').catch(() => '');
      for (const c of text.split(/\s+/).filter(Boolean).map(Number)) {
        if (!found.includes(c)) {
          found.push(c);
          queue.push(c);
        }
      }
    }
  }
  return found;
}

/** Running (a zombie waiting for its reaper does not count: it holds no sockets). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function poll<T>(what: string, ms: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await attempt();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(
    `${what}: not within ${ms} ms${last === undefined ? '' : ` (last error: ${String(last)})`}`,
  );
}

/** One memcached text-protocol exchange: sends `request`, reads until `until` ends the reply. */
function memcachedExchange(port: number, request: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(5000, () =>
      socket.destroy(new Error(`memcached reply so far: ${JSON.stringify(reply)}`)),
    );
    socket.on('data', (c: Buffer) => {
      reply += c.toString('latin1');
      if (until.test(reply)) socket.end();
    });
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
    socket.write(request);
  });
}

async function dbPost<T>(port: number, path: string, body: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(2000, () => s.destroy());
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('close', () => resolve(false));
  });
}

function runCliProcess(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Kills the group we started (demo + backends) and anything recorded, by PID. */
async function killDemo(demo: Demo | undefined, extraPids: readonly number[]): Promise<void> {
  if (demo === undefined) return;
  const pid = demo.child.pid;
  if (pid !== undefined && demo.child.exitCode === null && demo.child.signalCode === null) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await withDeadline(demo.exited, EXIT_MS, 'demo exit after SIGKILL').catch(() => {});
  }
  for (const p of extraPids) {
    if (!alive(p)) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

describe('npm start (the demo) end to end', { timeout: 180_000 }, () => {
  let dir: string;
  let demo: Demo | undefined;
  let banner: Banner;
  let spawned: number[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hastack-demo-test-'));
    // A port may be taken between our probe and the demo's: retry with another range.
    for (let attempt = 0; ; attempt++) {
      const base = await freeBasePort();
      demo = startDemo(['--base-port', String(base)], { HASTACK_DEMO_DB_DIR: join(dir, `db-${attempt}`) });
      try {
        banner = parseBanner(await waitForBanner(demo));
        break;
      } catch (err) {
        const busy = demo.stderr().includes('HASTACK_DEMO_PORT_BUSY');
        await killDemo(demo, []);
        if (!busy || attempt >= 2) throw err;
      }
    }
    spawned = await descendants(demo.child.pid!);
  });

  after(async () => {
    await killDemo(demo, spawned);
    await rm(dir, { recursive: true, force: true });
  });

  it('advertises the ports it was given and spawned its three web servers', () => {
    assert.equal(banner.memcachedPort, banner.vipPort + 2);
    assert.equal(banner.proxyPort, banner.vipPort + 1);
    assert.equal(banner.adminPort, banner.vipPort + 9);
    assert.deepEqual([...banner.backends.keys()], ['web1', 'web2', 'web3']);
    assert.ok(spawned.includes(banner.stoppablePid), `web2 (${banner.stoppablePid}) not among ${spawned}`);
    assert.ok(spawned.length >= 3, `spawned: ${spawned}`);
  });

  it('the L4 virtual server answers and spreads over all three web servers', async () => {
    const seen = new Map<string, number>();
    await poll('all three backends behind the VIP', 20_000, async () => {
      for (let i = 0; i < 8; i++) {
        const r = await httpGet(banner.vipPort, '/');
        assert.ok(r.ok, `VIP answered ${r.status ?? r.error}`);
        assert.match(r.body ?? '', /^hello from web\d /);
        seen.set(r.backend!, (seen.get(r.backend!) ?? 0) + 1);
      }
      return seen.size === 3 ? true : undefined;
    });
    assert.deepEqual([...seen.keys()].sort(), ['web1', 'web2', 'web3']);
  });

  it("the L7 proxy's static route serves a docs file", async () => {
    const expected = await readFile(join(ROOT, 'docs/architecture.md'), 'utf8');
    const firstLine = expected.split('\n')[0]!;
    for (const path of ['/static/', '/static/architecture.md']) {
      const r = await httpGet(banner.proxyPort, path);
      assert.equal(r.status, 200, `${path}: ${r.status ?? r.error}`);
      assert.ok(r.body?.startsWith(firstLine), `${path} served: ${r.body?.slice(0, 80)}`);
    }
    assert.equal((await httpGet(banner.proxyPort, '/static/no-such-file.md')).status, 404);
  });

  it("the L7 proxy's app route reaches a web server", async () => {
    const r = await poll('app route', 20_000, async () => {
      const got = await httpGet(banner.proxyPort, '/hello?x=1');
      return got.ok ? got : undefined;
    });
    assert.match(r.body ?? '', /^hello from web\d /);
    assert.ok(banner.backends.has(r.backend ?? ''), `x-backend: ${r.backend}`);
  });

  it('memcached answers set and get over the text protocol', async () => {
    const value = `v${process.pid}`;
    const reply = await memcachedExchange(
      banner.memcachedPort,
      `set demo-test 5 0 ${value.length}\r\n${value}\r\nget demo-test\r\n`,
      /END\r\n$/,
    );
    assert.equal(reply, `STORED\r\nVALUE demo-test 5 ${value.length}\r\n${value}\r\nEND\r\n`);
  });

  it('a write to the db source shows up on both replicas', async () => {
    const key = `k${process.pid}`;
    await dbPost(banner.db.db1, '/db/execute', {
      statements: [
        'CREATE TABLE IF NOT EXISTS demo_test (k TEXT PRIMARY KEY, v TEXT)',
        ['INSERT OR REPLACE INTO demo_test (k, v) VALUES (?, ?)', key, 'replicated'],
      ],
    });
    for (const replica of [banner.db.db2, banner.db.db3]) {
      const rows = await poll(`row on the replica at :${replica}`, 20_000, async () => {
        const r = await dbPost<{ results: { rows: unknown[] }[] }>(replica, '/db/query', {
          statements: [['SELECT v FROM demo_test WHERE k = ?', key]],
        });
        const got = r.results[0]?.rows ?? [];
        return got.length > 0 ? got : undefined;
      });
      assert.match(JSON.stringify(rows), /"replicated"/);
    }
  });

  it('the admin API serves /status and /metrics', async () => {
    const status = await fetch(`http://127.0.0.1:${banner.adminPort}/status`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(status.status, 200);
    const body = (await status.json()) as {
      pid: number;
      virtualServers: { port: number; realServers?: unknown[] }[];
      services?: Record<string, unknown>;
    };
    assert.equal(body.pid, demo!.child.pid);
    assert.equal(body.virtualServers[0]?.port, banner.vipPort);
    for (const key of ['memcached', 'http', 'database'])
      assert.ok(body.services?.[key] !== undefined, `no ${key} in /status services`);
    const metrics = await fetch(`http://127.0.0.1:${banner.adminPort}/metrics`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# (HELP|TYPE) /m);
  });

  it('`hastack status` as the banner shows it prints the virtual server table', async () => {
    const r = await runCliProcess(banner.statusArgs);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /IP Virtual Server/);
    assert.match(r.stdout, new RegExp(`TCP\\s+127\\.0\\.0\\.1:${banner.vipPort}\\s+wrr`));
    for (const port of banner.backends.values())
      assert.match(r.stdout, new RegExp(`127\\.0\\.0\\.1:${port}\\b`));
  });

  it('SIGTERM stops it: exit 0, no process and no listener left', async () => {
    const running = demo!;
    running.child.kill('SIGTERM');
    const { code, signal } = await withDeadline(running.exited, EXIT_MS, 'demo exit after SIGTERM');
    assert.equal(signal, null, running.stderr());
    assert.equal(code, 0, running.stderr());
    await poll('spawned processes gone', 10_000, async () =>
      spawned.every((p) => !alive(p)) ? true : undefined,
    );
    for (const port of [
      banner.vipPort,
      banner.proxyPort,
      banner.memcachedPort,
      banner.adminPort,
      banner.db.db1,
      ...banner.backends.values(),
    ])
      assert.equal(await connects(port), false, `port ${port} still answers`);
  });
});

describe('npm start with a taken port', { timeout: 120_000 }, () => {
  let holder: net.Server | undefined;
  let demo: Demo | undefined;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hastack-demo-busy-'));
  });

  after(async () => {
    await killDemo(demo, []);
    if (holder !== undefined) await new Promise<void>((r) => holder!.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 with a clear message naming the port, before starting anything', async () => {
    const base = await freeBasePort();
    const memcachedPort = base + 2;
    holder = net.createServer();
    await new Promise<void>((r) => holder!.listen(memcachedPort, '127.0.0.1', () => r()));
    demo = startDemo(['--base-port', String(base)], { HASTACK_DEMO_DB_DIR: join(dir, 'db') });
    const { code } = await withDeadline(demo.exited, EXIT_MS, 'demo exit with a taken port');
    assert.equal(code, 1, demo.stderr());
    assert.match(
      demo.stderr(),
      new RegExp(`127\\.0\\.0\\.1:${memcachedPort} \\(memcached listen\\): EADDRINUSE`),
    );
    assert.match(demo.stderr(), /--base-port/);
    assert.match(demo.stderr(), /\[HASTACK_DEMO_PORT_BUSY\]/);
    assert.doesNotMatch(demo.stderr(), /node:events|Unhandled|\n\s+at /);
    assert.equal(demo.stdout(), '');
  });

  it('rejects a bad --base-port as a usage error (exit 2)', async () => {
    const r = await runCliProcess(['demo', '--base-port', '65500']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--base-port must be a port number 1\.\.65204/);
  });
});

describe('the demo port plan', () => {
  it('keeps the well-known ports by default and moves them all with a base port', () => {
    assert.deepEqual(resolveDemoPorts({}), { port: 8080, adminPort: 9090, memcachedPort: 11211 });
    assert.deepEqual(resolveDemoPorts({ basePort: '20000' }), {
      port: 20000,
      adminPort: 20009,
      memcachedPort: 20002,
    });
    assert.deepEqual(resolveDemoPorts({ basePort: '20000', memcachedPort: '21211' }).memcachedPort, 21211);
    assert.throws(() => resolveDemoPorts({ port: '9089' }), /--admin-port 9090 collides/);
    assert.throws(() => resolveDemoPorts({ basePort: 'x' }), { code: 'HASTACK_DEMO_BAD_PORT' });
  });

  it('lists every listener of the demo config, and only listeners', () => {
    const yaml = demoConfigYaml({ ...resolveDemoPorts({ basePort: '20000' }), backendPorts: [30001, 30002] });
    const ports = demoListenPorts(yaml)
      .map((p) => p.port)
      .sort((a, b) => a - b);
    assert.deepEqual(ports, [20000, 20001, 20002, 20009, 20310, 20311, 20320, 20321, 20330, 20331]);
    assert.equal(demoListenPorts(yaml).find((p) => p.port === 20002)?.what, 'memcached listen');
  });
});
