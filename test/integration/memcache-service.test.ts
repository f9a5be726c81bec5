import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serviceStatusFormatters } from '../../src/cli/service-status.ts';
import { parseYamlConfig } from '../../src/config/load-config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { demoConfigYaml } from '../../src/demo/demo-config.ts';
import type { MemcacheSnapshot } from '../../src/memcache/memcache-server.ts';
import { Runtime } from '../../src/runtime/runtime.ts';
import { exchange } from './memcache-helpers.ts';

const yaml = (extra = '') => `admin: false
memcached:
  listen: 127.0.0.1:0
  memory_limit: 16m
  max_connections: 2
${extra}`;

describe('memcached section in the runtime', () => {
  it('starts from YAML, serves, reports status and metrics, reloads in place and stops', async (t) => {
    const runtime = new Runtime({ logger: silentLogger() });
    t.after(() => runtime.stop(0));
    await runtime.start({ config: parseYamlConfig(yaml()), warnings: [], source: { kind: 'builtin' } });
    const snap = runtime.service('memcached')!.snapshot() as MemcacheSnapshot;
    const port = Number(snap.listen.split(':')[1]);
    assert.equal(
      (await exchange(port, 'set a 0 0 1\r\nx\r\nget a\r\n', (s) => s.endsWith('END\r\n'))).text,
      'STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n',
    );
    const status = serviceStatusFormatters.memcached!(runtime.status().services.memcached);
    assert.match(status, /memcached 127\.0\.0\.1:\d+/);
    assert.match(status, /items\s+1 /);
    const metrics = await runtime.registry.metrics();
    assert.match(metrics, /hastack_memcached_current_items\{listen="127\.0\.0\.1:\d+"\} 1/);
    assert.match(metrics, /hastack_memcached_get_hits_total\{[^}]*\} 1/);

    // max_connections: the third connection gets memcached's error and is closed.
    const held = [exchange(port, '', () => false, 600), exchange(port, '', () => false, 600)];
    await new Promise((r) => setTimeout(r, 100));
    const third = await exchange(port, '', () => false, 2000);
    assert.equal(third.text, 'ERROR Too many open connections\r\n');
    await Promise.all(held);
    for (
      let i = 0;
      i < 100 && (runtime.service('memcached')!.snapshot() as MemcacheSnapshot).currConnections > 0;
      i++
    )
      await new Promise((r) => setTimeout(r, 20));

    await runtime.apply({
      config: parseYamlConfig(yaml('  flush_enabled: false\n')),
      warnings: [],
      source: { kind: 'builtin' },
    });
    assert.equal(
      (await exchange(port, 'flush_all\r\nget a\r\n', (s) => s.endsWith('END\r\n'))).text,
      'CLIENT_ERROR flush_all not allowed\r\nVALUE a 0 1\r\nx\r\nEND\r\n',
    );
    await assert.rejects(
      runtime.apply({
        config: parseYamlConfig(yaml('  item_size_max: 2m\n')),
        warnings: [],
        source: { kind: 'builtin' },
      }),
      /item_size_max cannot change on reload/,
    );
  });

  it('rejects invalid sections with the key path', () => {
    assert.throws(() => parseYamlConfig('memcached:\n  memory_limit: lots\n'), /memory_limit/);
    assert.throws(() => parseYamlConfig('memcached:\n  item_size_max: 2g\n'), /item_size_max/);
    assert.throws(
      () => parseYamlConfig('memcached:\n  memory_limit: 1m\n  item_size_max: 4m\n'),
      /memory_limit must hold/,
    );
    assert.throws(() => parseYamlConfig('memcached:\n  threads: 4\n'), /threads/);
    const ok = parseYamlConfig('memcached: {}\n').sections.memcached!;
    assert.equal(ok.memoryLimitBytes, 64 * 1024 * 1024);
    assert.equal(ok.listen.port, 11211);
    assert.equal(
      parseYamlConfig('memcached:\n  memory_limit: 128\n').sections.memcached!.memoryLimitBytes,
      128 * 1024 * 1024,
    );
  });

  it('the demo config has a memcached section', () => {
    const text = demoConfigYaml({ port: 8080, adminPort: 9090, backendPorts: [8081] });
    assert.equal(parseYamlConfig(text).sections.memcached?.listen.port, 11211);
  });
});
