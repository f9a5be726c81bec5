import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/*
 * `hastack up` with a `vrrp` section where the native addon is missing
 * (HASTACK_NATIVE_DISABLE=1 stands in for "not built"). No root or namespaces:
 * the start fails before any socket or address is touched.
 */

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function hastackUp(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'up', '-c', file], {
      env: { ...process.env, HASTACK_NATIVE_DISABLE: '1', HASTACK_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    // It must exit on its own; a hang is a failure, not a stuck test run.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('hastack up without the native addon', () => {
  it('a config with vrrp and a virtual server fails the whole start with HASTACK_NATIVE_UNAVAILABLE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hastack-vrrp-start-'));
    try {
      const file = join(dir, 'hastack.yaml');
      await writeFile(
        file,
        `admin: false
log: { level: info }
virtual_servers:
  - listen: 127.0.0.1:0
    real_servers: [ { address: 127.0.0.1:9 } ]
vrrp:
  instances:
    - name: VI_1
      interface: lo
      virtual_router_id: 51
      priority: 100
      virtual_ipaddress: [192.0.2.200/32]
`,
      );
      const r = await hastackUp(file);
      assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
      // The error names its code and says why and what to do.
      assert.match(r.stderr, /\[HASTACK_NATIVE_UNAVAILABLE\]/);
      assert.match(
        r.stderr,
        /native network addon is not available \(disabled by HASTACK_NATIVE_DISABLE=1\)/,
      );
      assert.match(r.stderr, /npm install/);
      assert.match(r.stderr, /VRRP/);
      // The whole start fails, as for any component that cannot start: the virtual server that
      // started before vrrp is stopped again and the process exits (see docs/vrrp.md).
      const messages = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
      const listening = messages.indexOf('virtual server listening');
      const stopped = messages.indexOf('virtual server stopped');
      assert.ok(listening !== -1 && stopped > listening, messages.join(' | '));
      assert.ok(!messages.includes('hastack started'), 'hastack never reported a completed start');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
