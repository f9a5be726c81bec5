import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDemoBackend, listenDemoBackend } from '../../src/demo/demo-backend.ts';
import type { RuntimeStatus } from '../../src/runtime/status.ts';
import { freePort } from '../helpers/free-port.ts';
import { httpGet } from '../helpers/http-get.ts';
import { cli } from '../helpers/run-cli.ts';

const ROOT = new URL('../../', import.meta.url);
const MAIN = new URL('src/cli/main.ts', ROOT).pathname;
const FIXTURES = new URL('test/fixtures/', ROOT).pathname;

describe('hastack check', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hastack-check-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 on a valid YAML file, 1 on an invalid one with file:line', async () => {
    const good = join(dir, 'good.yaml');
    await writeFile(
      good,
      'virtual_servers:\n  - listen: 127.0.0.1:8080\n    real_servers: [ { address: 127.0.0.1:8081 } ]\n',
    );
    const ok = await cli(['check', '-c', good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /test is successful/);

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'virtual_servers:\n  - listen: 127.0.0.1:8080\n    scheduler: nope\n');
    const ko = await cli(['check', '-c', bad]);
    assert.equal(ko.code, 1);
    assert.match(ko.stderr, /bad\.yaml:3: virtual_servers\[0\]\.scheduler/);
    assert.match(ko.stderr, /HASTACK_CONFIG_INVALID/);

    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'virtual_servers: [\n');
    assert.equal((await cli(['check', '-c', broken])).code, 1);
    assert.equal((await cli(['check', '-c', join(dir, 'missing.yaml')])).code, 1);
  });

  it('reads keepalived.conf: valid fixture passes, malformed fails with its line', async () => {
    const ok = await cli(['check', '--keepalived', join(FIXTURES, 'keepalived/full.conf')]);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = join(dir, 'bad.conf');
    await writeFile(bad, 'virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  real_server 10.0.0.2 80 {\n');
    const ko = await cli(['check', '--keepalived', bad]);
    assert.equal(ko.code, 1);
    assert.match(ko.stderr, /bad\.conf:\d+/);
    const dr = join(dir, 'dr.conf');
    await writeFile(dr, 'virtual_server 10.0.0.1 80 {\n  lb_kind DR\n  protocol TCP\n}\n');
    const drResult = await cli(['check', '--keepalived', dr]);
    assert.equal(drResult.code, 1);
    assert.match(drResult.stderr, /dr\.conf:2/);
  });

  it('warns (not silently) about unsupported keepalived keywords', async () => {
    const r = await cli(['check', '--keepalived', join(FIXTURES, 'keepalived/unsupported.conf')]);
    assert.match(r.stderr, /\[warn\].*unsupported\.conf:\d+/);
  });

  it('refuses a public admin API without a token', async () => {
    const f = join(dir, 'public.yaml');
    await writeFile(f, 'admin:\n  listen: 0.0.0.0:9090\n');
    const r = await cli(['check', '-c', f]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /admin\.token/);
  });

  it('prints usage with exit 2 on bad usage', async () => {
    assert.equal((await cli(['frobnicate'])).code, 2);
    assert.equal((await cli(['check'])).code, 2);
    assert.equal((await cli(['check', '--bogus'])).code, 2);
    assert.equal((await cli(['weight', 'a', 'b', 'x'])).code, 2);
    assert.equal((await cli(['version'])).code, 0);
  });
});

describe('hastack up: admin API, run-time changes, SIGHUP reload, graceful stop', () => {
  let dir: string;
  let configFile: string;
  let child: ChildProcess;
  let adminPort: number;
  let vsPort: number;
  const backends: Server[] = [];
  const ports: number[] = [];
  const token = 'test-token-0123456789abcdef';
  let stderr = '';

  const admin = () => ['--admin', `127.0.0.1:${adminPort}`, '--token', token];

  function yaml(realServerPorts: number[], extra = ''): string {
    return `admin:
  listen: 127.0.0.1:${adminPort}
  token: ${token}
log: { level: warn }
shutdown_grace: 5s
virtual_servers:
  - name: web
    listen: 127.0.0.1:${vsPort}
    scheduler: rr
    checks: [ { type: tcp, interval: 200ms, rise: 1, fall: 1 } ]
    real_servers:
${realServerPorts.map((p) => `      - address: 127.0.0.1:${p}`).join('\n')}
${extra}`;
  }

  async function status(): Promise<RuntimeStatus> {
    const r = await cli(['status', '--json', ...admin()]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as RuntimeStatus;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hastack-up-'));
    for (const name of ['a', 'b', 'c']) {
      const s = createDemoBackend(name);
      ports.push(await listenDemoBackend(s, 0));
      backends.push(s);
    }
    adminPort = await freePort();
    vsPort = await freePort();
    configFile = join(dir, 'hastack.yaml');
    await writeFile(configFile, yaml(ports.slice(0, 2)));
    child = spawn(process.execPath, [MAIN, 'up', '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await httpGet(vsPort, '/', 500);
      if (r.ok) break;
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`hastack up did not start: ${stderr}`);
      await sleep(100);
    }
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await Promise.all(backends.map((s) => new Promise((r) => s.close(r))));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves status, table and metrics; rejects a missing token', async () => {
    const s = await status();
    assert.equal(s.virtualServers[0]?.realServers.length, 2);
    const table = await cli(['status', ...admin()]);
    assert.match(table.stdout, new RegExp(`TCP  127\\.0\\.0\\.1:${vsPort} rr`));
    const res = await fetch(`http://127.0.0.1:${adminPort}/status`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
    const metrics = await fetch(`http://127.0.0.1:${adminPort}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.match(await metrics.text(), /hastack_real_server_up\{virtual_server="web"/);
    const noAdmin = await cli(['status', '--admin', '127.0.0.1:1']);
    assert.equal(noAdmin.code, 1);
    assert.match(noAdmin.stderr, /HASTACK_ADMIN_UNREACHABLE/);
  });

  it('changes weights and drains at run time', async () => {
    const rs = `127.0.0.1:${ports[0]}`;
    assert.equal((await cli(['weight', 'web', rs, '5', ...admin()])).code, 0);
    assert.equal((await status()).virtualServers[0]?.realServers.find((r) => r.key === rs)?.weight, 5);
    assert.equal((await cli(['drain', 'web', rs, ...admin()])).code, 0);
    const drained = (await status()).virtualServers[0]?.realServers.find((r) => r.key === rs);
    assert.equal(drained?.weight, 0);
    for (let i = 0; i < 6; i++)
      assert.equal((await httpGet(vsPort)).backend, 'b', 'drained server gets no new connections');
    const unknown = await cli(['weight', 'web', '10.9.9.9:1', '1', ...admin()]);
    assert.equal(unknown.code, 1);
    const unknownVs = await cli(['drain', 'nope', rs, ...admin()]);
    assert.equal(unknownVs.code, 1);
    assert.equal((await cli(['weight', 'web', rs, '1', ...admin()])).code, 0);
  });

  it('reloads on SIGHUP without dropping an established connection; rejects an invalid config', async () => {
    // A long-lived connection through the virtual server, opened before the reload.
    const sock = net.connect(vsPort, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let closed = false;
    sock.on('close', () => (closed = true));
    sock.on('error', () => {});

    await writeFile(configFile, yaml(ports));
    child.kill('SIGHUP');
    const deadline = Date.now() + 5000;
    while ((await status()).virtualServers[0]?.realServers.length !== 3) {
      assert.ok(Date.now() < deadline, 'reload added the third server');
      await sleep(50);
    }
    assert.equal((await status()).reloads.count, 1);

    await writeFile(configFile, 'virtual_servers: [ { listen: "nope" } ]\n');
    child.kill('SIGHUP');
    const deadline2 = Date.now() + 5000;
    while ((await status()).reloads.failures !== 1) {
      assert.ok(Date.now() < deadline2, 'the invalid reload is counted');
      await sleep(50);
    }
    const s = await status();
    assert.equal(s.virtualServers[0]?.realServers.length, 3, 'the old config keeps running');
    assert.match(s.reloads.lastError ?? '', /listen/);

    // The established connection survived both reloads and still works.
    assert.equal(closed, false, 'the reload did not close the established connection');
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const reply = await new Promise<string>((resolve) => {
      let data = '';
      sock.on('data', (c: Buffer) => (data += c));
      sock.on('end', () => resolve(data));
    });
    assert.match(reply, /^HTTP\/1\.1 200/);
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(stderr, '', 'nothing on stderr');
  });
});
