import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { AdminController } from '../../../src/admin/admin-controller.ts';
import { AdminServer } from '../../../src/admin/admin-server.ts';
import { HastackError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { RuntimeStatus } from '../../../src/runtime/status.ts';

const TOKEN = 'a-long-enough-admin-token';

function controller(calls: string[]): AdminController {
  return {
    registry: new Registry(),
    status: () => ({ version: 'x', virtualServers: [] }) as unknown as RuntimeStatus,
    reload: async () => {
      calls.push('reload');
    },
    virtualServer(name: string) {
      if (name !== 'web') throw new HastackError('HASTACK_VS_UNKNOWN', `no virtual server named "${name}"`);
      return {
        setWeight: (rs: string, w: number) => {
          if (rs !== '10.0.0.1:80') throw new HastackError('HASTACK_RS_UNKNOWN', 'unknown');
          calls.push(`weight ${rs} ${w}`);
        },
        drain: (rs: string) => calls.push(`drain ${rs}`),
      };
    },
  };
}

describe('admin API', () => {
  const calls: string[] = [];
  let server: AdminServer;
  let base: string;
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    server = new AdminServer(
      { host: '127.0.0.1', port: 0, enabled: true, token: TOKEN },
      controller(calls),
      silentLogger(),
    );
    await server.start();
    base = server.url!;
  });
  after(() => server.stop());

  it('requires the bearer token when one is configured', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }]) {
      const res = await fetch(`${base}/status`, { headers });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.equal(
        ((await res.json()) as { error: { code: string } }).error.code,
        'HASTACK_ADMIN_UNAUTHORIZED',
      );
    }
    const ok = await fetch(`${base}/status`, { headers: auth });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { version: string }).version, 'x');
  });

  it('changes weights, drains and reloads; answers errors with codes', async () => {
    const post = (path: string, body?: string) =>
      fetch(`${base}${path}`, { method: 'POST', headers: auth, ...(body !== undefined && { body }) });
    assert.equal(
      (await post('/virtual-servers/web/real-servers/10.0.0.1%3A80/weight', '{"weight":7}')).status,
      200,
    );
    assert.equal((await post('/virtual-servers/web/real-servers/10.0.0.1:80/drain')).status, 200);
    assert.equal((await post('/reload')).status, 200);
    assert.deepEqual(calls, ['weight 10.0.0.1:80 7', 'drain 10.0.0.1:80', 'reload']);

    const cases: [string, string | undefined, number, string][] = [
      [
        '/virtual-servers/web/real-servers/10.0.0.1:80/weight',
        '{"weight":-1}',
        400,
        'HASTACK_ADMIN_BAD_REQUEST',
      ],
      [
        '/virtual-servers/web/real-servers/10.0.0.1:80/weight',
        '{"weight":1.5}',
        400,
        'HASTACK_ADMIN_BAD_REQUEST',
      ],
      ['/virtual-servers/web/real-servers/10.0.0.1:80/weight', 'not json', 400, 'HASTACK_ADMIN_BAD_REQUEST'],
      [
        '/virtual-servers/web/real-servers/10.0.0.1:80/weight',
        'x'.repeat(70_000),
        400,
        'HASTACK_ADMIN_BAD_REQUEST',
      ],
      ['/virtual-servers/nope/real-servers/10.0.0.1:80/drain', undefined, 404, 'HASTACK_VS_UNKNOWN'],
      ['/virtual-servers/web/real-servers/1.1.1.1:1/weight', '{"weight":1}', 404, 'HASTACK_RS_UNKNOWN'],
      ['/nothing-here', undefined, 404, 'HASTACK_ADMIN_NOT_FOUND'],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await post(path, body);
      assert.equal(res.status, status, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    }
    const get = await fetch(`${base}/reload`, { headers: auth });
    assert.equal(get.status, 405);
    await get.body?.cancel();
  });

  it('serves metrics in the Prometheus format', async () => {
    const res = await fetch(`${base}/metrics`, { headers: auth });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    await res.text();
  });

  it('refuses to start on a public address without a token', async () => {
    const open = new AdminServer({ host: '0.0.0.0', port: 0, enabled: true }, controller([]), silentLogger());
    await assert.rejects(open.start(), { code: 'HASTACK_ADMIN_TOKEN_REQUIRED' });
  });

  it('reports a busy port with a code', async () => {
    const port = Number(new URL(base).port);
    const clash = new AdminServer({ host: '127.0.0.1', port, enabled: true }, controller([]), silentLogger());
    await assert.rejects(clash.start(), { code: 'HASTACK_ADMIN_LISTEN' });
  });
});
