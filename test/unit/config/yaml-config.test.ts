import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/config-error.ts';
import { parseYamlConfig } from '../../../src/config/load-config.ts';

const VALID = `
admin:
  listen: 127.0.0.1:9191
log: { level: warn }
virtual_servers:
  - name: web
    listen: 127.0.0.1:8080
    scheduler: wrr
    persistence_timeout: 5m
    persistence_granularity: 255.255.255.0
    sorry_server: 127.0.0.1:8999
    quorum: 2
    hysteresis: 1
    delay_loop: 3s
    checks:
      - type: http
        path: /healthz
        status: [200, "300-399"]
        rise: 3
    real_servers:
      - address: 127.0.0.1:8001
        weight: 3
      - address: 127.0.0.1:8002
        checks:
          - type: tcp
            timeout: 500ms
          - type: misc
            command: /bin/true
            dynamic: true
  - listen: 127.0.0.1:5353
    protocol: udp
    scheduler: sh
    hash_port: true
    real_servers:
      - address: 127.0.0.1:5300
`;

function issuesOf(text: string): { path: string; line?: number; message: string }[] {
  try {
    parseYamlConfig(text, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return [...err.issues];
  }
  assert.fail('config was accepted');
}

describe('YAML config', () => {
  it('parses a complete file into the model with cascading defaults', () => {
    const config = parseYamlConfig(VALID, 'test.yaml');
    assert.deepEqual(config.admin, { host: '127.0.0.1', port: 9191, enabled: true });
    assert.equal(config.log.level, 'warn');
    const [web, udp] = config.virtualServers;
    assert.ok(web && udp);
    assert.equal(web.name, 'web');
    assert.equal(web.scheduler, 'wrr');
    assert.equal(web.persistenceTimeoutMs, 300_000);
    assert.equal(web.persistenceGranularity, 24);
    assert.deepEqual(web.sorryServer, { host: '127.0.0.1', port: 8999 });
    assert.equal(web.quorum, 2);
    assert.equal(web.hysteresis, 1);
    const [rs1, rs2] = web.realServers;
    assert.ok(rs1 && rs2);
    assert.equal(rs1.weight, 3);
    assert.equal(rs2.weight, 1, 'weight defaults to 1 as in keepalived');
    const http = rs1.checks[0];
    assert.ok(http?.type === 'http');
    assert.equal(http.intervalMs, 3000, 'delay_loop is the default interval');
    assert.equal(http.rise, 3);
    assert.equal(http.fall, 3);
    assert.deepEqual(http.urls[0]?.status, [
      { min: 200, max: 200 },
      { min: 300, max: 399 },
    ]);
    assert.equal(rs2.checks.length, 2, 'real server checks replace the virtual server ones');
    assert.equal(rs2.checks[0]?.timeoutMs, 500);
    assert.ok(rs2.checks[1]?.type === 'misc' && rs2.checks[1].dynamic);
    assert.equal(udp.name, '127.0.0.1:5353');
    assert.equal(udp.protocol, 'udp');
    assert.deepEqual(udp.schedulerFlags, { hashPort: true, fallback: false });
  });

  it('accepts an empty file (nothing to run, admin on loopback)', () => {
    const config = parseYamlConfig('', 'empty.yaml');
    assert.equal(config.virtualServers.length, 0);
    assert.equal(config.admin.host, '127.0.0.1');
    assert.equal(config.admin.port, 9090);
  });

  it('names every bad key with its line', () => {
    const issues = issuesOf(`virtual_servers:
  - listen: 127.0.0.1:8080
    scheduler: fastest
    real_servers:
      - address: 127.0.0.1
        weight: -2
        colour: red
`);
    const byPath = new Map(issues.map((i) => [i.path, i]));
    assert.equal(byPath.get('virtual_servers[0].scheduler')?.line, 3);
    assert.equal(byPath.get('virtual_servers[0].real_servers[0].address')?.line, 5);
    assert.equal(byPath.get('virtual_servers[0].real_servers[0].weight')?.line, 6);
    assert.equal(byPath.get('virtual_servers[0].real_servers[0].colour')?.line, 7);
    assert.match(byPath.get('virtual_servers[0].real_servers[0].address')!.message, /port is required/);
  });

  it('reports YAML syntax errors with a line', () => {
    assert.throws(
      () => parseYamlConfig('virtual_servers:\n  - listen: [oops\n', 'bad.yaml'),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === 'HASTACK_CONFIG_SYNTAX' &&
        /bad\.yaml:\d+/.test(err.message),
    );
    assert.throws(() => parseYamlConfig('a: 1\na: 2\n', 'dup.yaml'), { code: 'HASTACK_CONFIG_SYNTAX' });
  });

  it('rejects a public admin API without a token', () => {
    const issues = issuesOf('admin:\n  listen: 0.0.0.0:9090\n');
    assert.equal(issues[0]?.path, 'admin.token');
    assert.equal(issues[0]?.line, 1, 'a missing key is reported at its parent');
    const ok = parseYamlConfig('admin:\n  listen: 0.0.0.0:9090\n  token: 0123456789abcdef0123\n');
    assert.equal(ok.admin.token, '0123456789abcdef0123');
  });

  it('rejects short tokens, duplicate names, duplicate listeners and duplicate real servers', () => {
    assert.match(issuesOf('admin:\n  token: short\n')[0]!.message, /at least 16/);
    const dup = issuesOf(`virtual_servers:
  - { name: a, listen: 127.0.0.1:80 }
  - { name: a, listen: 127.0.0.1:81 }
  - { name: b, listen: 127.0.0.1:80 }
  - name: c
    listen: 127.0.0.1:82
    real_servers: [ { address: 10.0.0.1:80 }, { address: 10.0.0.1:80 } ]
`);
    assert.deepEqual(
      dup.map((i) => i.path),
      ['virtual_servers[1].name', 'virtual_servers[2].listen', 'virtual_servers[3].real_servers[1].address'],
    );
  });

  it('rejects bad status ranges, digests and durations', () => {
    const issues = issuesOf(`virtual_servers:
  - listen: 127.0.0.1:80
    checks:
      - { type: http, status: "299-200" }
      - { type: http, digest: xyz }
      - { type: tcp, interval: soon }
      - { type: carrier-pigeon }
`);
    assert.equal(issues.length, 4);
    assert.deepEqual(
      issues.map((i) => i.line),
      [4, 5, 6, 7],
    );
  });

  it('survives hostile YAML (alias bombs, binary garbage)', () => {
    const bomb = `a: &a [x,x,x,x,x,x,x,x,x]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]
`;
    assert.throws(() => parseYamlConfig(bomb), ConfigError);
    assert.throws(() => parseYamlConfig('\u0000\u0001\u00ff{{{'), ConfigError);
    assert.throws(() => parseYamlConfig('- just\n- a list\n'), ConfigError);
    assert.throws(() => parseYamlConfig('"a string"'), ConfigError);
  });
});
