import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { httpSectionSchema } from '../../src/http/config-schema.ts';
import { HttpService } from '../../src/http/http-service.ts';
import type { EngineSnapshot } from '../../src/http/snapshot.ts';
import type { RuntimeStatus } from '../../src/runtime/status.ts';
import { ManualHealth } from '../helpers/manual-health.ts';
import { cli } from '../helpers/run-cli.ts';
import { request, startProxy, startUpstream, type Upstream, waitFor } from './http-helpers.ts';

/*
 * What an operator sees of the proxy: `hastack up` with an `http` section, the
 * admin API's /metrics (exact hastack_http_* counters per route, status class and
 * server, the upstream latency histogram and retries), `hastack status` against
 * that admin API, and the access log in both formats.
 */

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const TOKEN = 'http-observability-token-0123456789';

/** Prometheus text → `name{k="v",…}` (labels sorted) → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)]
      .map((l) => `${l[1]}="${l[2]}"`)
      .sort();
    out.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return out;
}

function series(name: string, labels: Record<string, string>): string {
  const parts = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  return `${name}{${parts.join(',')}}`;
}

describe('hastack up with an http section: /metrics and hastack status', () => {
  let dir: string;
  let child: ChildProcess;
  let bad: Upstream;
  let good: Upstream;
  let adminPort = 0;
  let proxyPort = 0;
  let stdout = '';
  let stderr = '';
  const admin = () => ['--admin', `127.0.0.1:${adminPort}`, '--token', TOKEN];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hastack-http-obs-'));
    bad = await startUpstream('bad', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', 'content-length': '4' });
      res.end('oops');
    });
    good = await startUpstream('good');
    const configFile = join(dir, 'hastack.yaml');
    await writeFile(
      configFile,
      `admin:
  listen: 127.0.0.1:0
  token: ${TOKEN}
log: { level: info }
shutdown_grace: 1s
http:
  listeners:
    - name: front
      listen: 127.0.0.1:0
      routes:
        - name: api
          match: { path_prefix: /api/ }
          pool: app
        - name: hello
          match: { path: /hello }
          respond: { status: 200, body: hi }
  pools:
    app:
      scheduler: rr
      retry_on: [connect-failure, 500]
      outlier: { consecutive_failures: 0 }
      servers: [ { address: ${bad.address} }, { address: ${good.address} } ]
`,
    );
    child = spawn(process.execPath, [MAIN, 'up', '-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (stdout += c));
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    // Both listen on port 0: the ports come from the JSON log lines.
    await waitFor(
      () => {
        for (const line of stdout.split('\n')) {
          if (!line.startsWith('{')) continue;
          const entry = JSON.parse(line) as {
            msg?: string;
            url?: string;
            listeners?: Record<string, { port: number }>;
          };
          if (entry.msg === 'admin API listening' && entry.url !== undefined)
            adminPort = Number(new URL(entry.url).port);
          if (entry.msg === 'http proxy listening') proxyPort = entry.listeners?.front?.port ?? 0;
        }
        if (child.exitCode !== null) throw new Error(`hastack up exited: ${stderr}${stdout}`);
        return adminPort !== 0 && proxyPort !== 0;
      },
      15_000,
      'hastack up to listen',
    );
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await bad.close();
    await good.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts routes, status classes, servers, retries and upstream latency exactly', async () => {
    // rr over [bad, good]: each GET meets bad first (500, retried: retry_on 500), then good (200).
    for (let i = 0; i < 4; i++) {
      const r = await request(proxyPort, { path: `/api/g${i}` });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-upstream'], 'good');
    }
    // A POST is never sent again: bad's 500 reaches the client.
    assert.equal((await request(proxyPort, { method: 'POST', path: '/api/p', body: 'x' })).status, 500);
    assert.equal((await request(proxyPort, { path: '/hello' })).status, 200);
    assert.equal((await request(proxyPort, { path: '/nowhere' })).status, 404);
    assert.equal(bad.seen.length, 5);
    assert.equal(good.seen.length, 4);

    const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 200);
    const m = parseMetrics(await res.text());
    const expect = (name: string, labels: Record<string, string>, value: number) =>
      assert.equal(m.get(series(name, labels)), value, series(name, labels));
    const api = { listener: 'front', route: 'api' };
    const hello = { listener: 'front', route: 'hello' };
    const none = { listener: 'front', route: '(none)' };
    expect('hastack_http_requests_total', api, 5);
    expect('hastack_http_requests_total', hello, 1);
    expect('hastack_http_requests_total', none, 1);
    const classes = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];
    const apiClasses = [0, 0, 4, 0, 0, 1];
    classes.forEach((c, i) => {
      expect('hastack_http_responses_total', { ...api, class: c }, apiClasses[i]!);
    });
    expect('hastack_http_responses_total', { ...hello, class: '2xx' }, 1);
    expect('hastack_http_responses_total', { ...none, class: '4xx' }, 1);
    expect('hastack_http_request_duration_seconds_count', api, 5);
    expect('hastack_http_request_duration_seconds_bucket', { ...api, le: '+Inf' }, 5);
    expect('hastack_http_route_retries_total', api, 4);
    expect('hastack_http_route_retries_total', hello, 0);
    expect('hastack_http_connections_total', { listener: 'front' }, 7);
    expect('hastack_http_bad_requests_total', { listener: 'front' }, 0);

    const b = { pool: 'app', server: bad.address };
    const g = { pool: 'app', server: good.address };
    expect('hastack_http_upstream_requests_total', b, 5);
    expect('hastack_http_upstream_requests_total', g, 4);
    for (const c of ['1xx', '2xx', '3xx', '4xx', '5xx']) {
      expect('hastack_http_upstream_responses_total', { ...b, class: c }, c === '5xx' ? 5 : 0);
      expect('hastack_http_upstream_responses_total', { ...g, class: c }, c === '2xx' ? 4 : 0);
    }
    expect('hastack_http_upstream_failures_total', b, 5);
    expect('hastack_http_upstream_failures_total', g, 0);
    expect('hastack_http_upstream_retries_total', b, 4);
    expect('hastack_http_upstream_retries_total', g, 0);
    expect('hastack_http_upstream_ejections_total', b, 0);
    expect('hastack_http_upstream_up', b, 1);
    expect('hastack_http_upstream_active_requests', g, 0);
    expect('hastack_http_upstream_response_duration_seconds_count', b, 5);
    expect('hastack_http_upstream_response_duration_seconds_count', g, 4);
    expect('hastack_http_upstream_response_duration_seconds_bucket', { ...b, le: '+Inf' }, 5);
    expect('hastack_http_upstream_response_duration_seconds_bucket', { ...g, le: '+Inf' }, 4);
    const goodSum = m.get(series('hastack_http_upstream_response_duration_seconds_sum', g));
    assert.ok(goodSum !== undefined && goodSum > 0, 'the latency sum is recorded');
    // Buckets are cumulative: never decreasing towards +Inf.
    let previous = 0;
    for (const le of [
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '+Inf',
    ]) {
      const v = m.get(series('hastack_http_upstream_response_duration_seconds_bucket', { ...g, le }));
      assert.ok(v !== undefined && v >= previous, `bucket le=${le}`);
      previous = v;
    }
    expect('hastack_http_pool_retries_total', { pool: 'app' }, 4);
    expect('hastack_http_spilled_responses_total', { listener: 'front' }, 0);

    // `hastack status`, the CLI against the same admin API.
    const table = await cli(['status', ...admin()]);
    assert.equal(table.code, 0, table.stderr);
    const text = table.stdout;
    assert.match(text, new RegExp(`HTTP frontend front 127\\.0\\.0\\.1:${proxyPort} \\(http, workers 1\\)`));
    assert.match(text, /conns 7 cur \d+ {2}req 7 {2}bad 0/);
    // Route  Req 2xx 3xx 4xx 5xx None Retries  Match -> Action
    assert.match(text, /\n {2}api\s+5\s+4\s+0\s+0\s+1\s+0\s+4 {2}path_prefix=\/api\/ -> pool app\n/);
    assert.match(text, /\n {2}hello\s+1\s+1\s+0\s+0\s+0\s+0\s+0 {2}path=\/hello -> respond 200\n/);
    assert.match(text, /\n {2}\(no route: 404\)\s+1\s+0\s+0\s+1\s+0\s+0\s+0\n/);
    assert.match(text, /HTTP backend app \(rr, keepalive\) {2}req 9 {2}retries 4 {2}no-server 0/);
    // -> Server Status Weight Cur Idle Requests Fails Retries Eject 2xx 3xx 4xx 5xx
    const esc = (a: string) => a.replaceAll('.', '\\.');
    assert.match(
      text,
      new RegExp(`-> ${esc(bad.address)}\\s+UP\\s+1\\s+0\\s+\\d+\\s+5\\s+5\\s+4\\s+0\\s+0\\s+0\\s+0\\s+5`),
    );
    assert.match(
      text,
      new RegExp(`-> ${esc(good.address)}\\s+UP\\s+1\\s+0\\s+\\d+\\s+4\\s+0\\s+0\\s+0\\s+4\\s+0\\s+0\\s+0`),
    );

    const json = await cli(['status', '--json', ...admin()]);
    assert.equal(json.code, 0, json.stderr);
    const snap = (JSON.parse(json.stdout) as RuntimeStatus).services.http as EngineSnapshot;
    const routes = snap.listeners[0]!.routes.map((r) => [r.name, r.stats.requests]);
    assert.deepEqual(routes, [
      ['api', 5],
      ['hello', 1],
    ]);
    const servers = snap.pools[0]!.servers.map((s) => [s.address, s.requests, s.retries]);
    assert.deepEqual(servers, [
      [bad.address, 5, 4],
      [good.address, 4, 0],
    ]);
  });
});

describe('http access log end to end', () => {
  for (const format of ['combined', 'json'] as const) {
    it(`writes one ${format} line per request with its fields`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hastack-http-log-'));
      const file = join(dir, 'access.log');
      const up = await startUpstream('u');
      const p = await startProxy({
        access_log: { path: file, format },
        listeners: [
          {
            name: 'front',
            listen: '127.0.0.1:0',
            routes: [{ name: 'all', match: { path_prefix: '/' }, pool: 'p' }],
          },
        ],
        pools: { p: { servers: [{ address: up.address }] } },
      });
      try {
        const before = Date.now();
        const r = await request(p.port, {
          path: '/logged?x=1',
          headers: { 'user-agent': 'obs-test/1.0', referer: 'http://ref.example/', host: 'site.example' },
        });
        assert.equal(r.status, 200);
        const bytes = Buffer.byteLength(r.body);
        // Lines are written once per event-loop turn: poll the file.
        let text = '';
        const until = Date.now() + 5000;
        while (!(text = await readFile(file, 'utf8')).endsWith('\n')) {
          assert.ok(Date.now() < until, 'the access log line is written');
          await sleep(20);
        }
        const lines = text.split('\n').filter((l) => l !== '');
        assert.equal(lines.length, 1, text);
        const line = lines[0]!;
        if (format === 'combined') {
          const m =
            /^127\.0\.0\.1 - - \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) \+0000\] "GET \/logged\?x=1 HTTP\/1\.1" 200 (\d+) "http:\/\/ref\.example\/" "obs-test\/1\.0"$/.exec(
              line,
            );
          assert.ok(m !== null, line);
          assert.equal(Number(m[7]), bytes);
          const at = Date.UTC(
            Number(m[3]),
            new Date(`${m[2]} 1 2000`).getMonth(),
            Number(m[1]),
            Number(m[4]),
            Number(m[5]),
            Number(m[6]),
          );
          assert.ok(at >= Math.floor(before / 1000) * 1000 && at <= Date.now(), 'time of the request');
        } else {
          const e = JSON.parse(line) as Record<string, unknown>;
          assert.deepEqual(
            { ...e, time: undefined, duration_ms: undefined },
            {
              time: undefined,
              remote_addr: '127.0.0.1',
              method: 'GET',
              target: '/logged?x=1',
              protocol: 'HTTP/1.1',
              status: 200,
              bytes_sent: bytes,
              referer: 'http://ref.example/',
              user_agent: 'obs-test/1.0',
              host: 'site.example',
              listener: 'front',
              route: 'all',
              upstream: up.address,
              duration_ms: undefined,
              retries: 0,
            },
          );
          assert.equal(typeof e.duration_ms, 'number');
          const t = Date.parse(String(e.time));
          assert.ok(t >= before && t <= Date.now(), 'time of the request');
        }
      } finally {
        await p.stop();
        await up.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('a taken listener port', () => {
  it('fails the start with one coded error and logs nothing twice', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const config = httpSectionSchema.parse({
      listeners: [
        {
          name: 'front',
          listen: `127.0.0.1:${port}`,
          routes: [{ name: 'r', match: { path_prefix: '/' }, respond: { status: 204 } }],
        },
      ],
    });
    const service = new HttpService(config, { logger, health: new ManualHealth() });
    try {
      await assert.rejects(service.start(), {
        code: 'HASTACK_HTTP_LISTEN',
        message: /cannot listen on 127\.0\.0\.1:\d+/,
      });
      assert.deepEqual(
        lines.filter((l) => l.includes('listener error')),
        [],
        'the listen error is reported once, by the start',
      );
    } finally {
      await service.stop(0);
      blocker.close();
    }
  });
});
