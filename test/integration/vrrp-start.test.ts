import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

/*
 * `hastack up` with a `vrrp` section where the native addon is missing
 * (HASTACK_NATIVE_DISABLE=1 stands in for "not built"). No root or namespaces:
 * nothing touches an address. As with keepalived's VRRP child, VRRP is left out
 * with a clear error and the other components serve; VRRP alone fails the start.
 */

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const run = promisify(execFile);

const VRRP_SECTION = `vrrp:
  instances:
    - name: VI_1
      interface: lo
      virtual_router_id: 51
      priority: 100
      virtual_ipaddress: [192.0.2.200/32]
`;

interface LogLine {
  msg: string;
  code?: string;
  address?: string;
  admin?: string;
}

function startHastack(file: string): {
  child: ChildProcessWithoutNullStreams;
  lines: LogLine[];
  stderr: () => string;
} {
  const child = spawn(process.execPath, [MAIN, 'up', '-c', file], {
    env: { ...process.env, HASTACK_NATIVE_DISABLE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    partial += c.toString('utf8');
    let nl = partial.indexOf('\n');
    while (nl !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.startsWith('{')) lines.push(JSON.parse(line) as LogLine);
      nl = partial.indexOf('\n');
    }
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  return { child, lines, stderr: () => stderr };
}

async function waitForLine(
  lines: LogLine[],
  msg: string,
  child: ChildProcessWithoutNullStreams,
): Promise<LogLine> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = lines.find((l) => l.msg === msg);
    if (found !== undefined) return found;
    if (child.exitCode !== null) throw new Error(`hastack exited (${child.exitCode}) before "${msg}"`);
    if (Date.now() > deadline)
      throw new Error(`no "${msg}" log line: ${lines.map((l) => l.msg).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('hastack up without the native addon', () => {
  let dir: string;
  let backend: Server;
  let backendPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hastack-vrrp-start-'));
    backend = createServer((s) => s.end('backend says hi\n'));
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    backendPort = (backend.address() as { port: number }).port;
  });

  after(async () => {
    backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves vrrp out with HASTACK_NATIVE_UNAVAILABLE while a virtual server serves', async () => {
    const file = join(dir, 'with-vs.yaml');
    await writeFile(
      file,
      `admin: { listen: 127.0.0.1:0 }
log: { level: info }
virtual_servers:
  - listen: 127.0.0.1:0
    real_servers: [ { address: 127.0.0.1:${backendPort} } ]
${VRRP_SECTION}`,
    );
    const h = startHastack(file);
    try {
      const listening = await waitForLine(h.lines, 'virtual server listening', h.child);
      const started = await waitForLine(h.lines, 'hastack started', h.child);
      const refused = h.lines.find((l) => l.code === 'HASTACK_NATIVE_UNAVAILABLE');
      assert.ok(refused !== undefined, 'the vrrp error is logged with its code');
      assert.match(refused.msg, /^vrrp is not running: .*disabled by HASTACK_NATIVE_DISABLE=1.*npm install/);

      // The virtual server relays to the backend.
      const [host, port] = [listening.address!.split(':')[0]!, Number(listening.address!.split(':')[1])];
      const reply = await new Promise<string>((resolve, reject) => {
        const sock = connect(port, host);
        let data = '';
        sock.on('data', (c: Buffer) => {
          data += c.toString('utf8');
        });
        sock.on('end', () => resolve(data));
        sock.on('error', reject);
      });
      assert.equal(reply, 'backend says hi\n');

      // The status names vrrp as not running, with the reason, in JSON and in the text view.
      const res = await fetch(`${started.admin}/status`);
      const status = (await res.json()) as {
        unavailable?: Record<string, { code: string; message: string }>;
      };
      assert.equal(status.unavailable?.vrrp?.code, 'HASTACK_NATIVE_UNAVAILABLE');
      const text = await run(process.execPath, [MAIN, 'status', '--admin', started.admin!]);
      assert.match(
        text.stdout,
        /^vrrp: NOT RUNNING: the native network addon is not available .*\[HASTACK_NATIVE_UNAVAILABLE\]$/m,
      );

      h.child.kill('SIGTERM');
      const [code] = (await once(h.child, 'exit')) as [number | null];
      assert.equal(code, 0, h.stderr());
    } finally {
      if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGKILL');
    }
  });

  it('fails the start with exit 1 when vrrp is all there is', async () => {
    const file = join(dir, 'vrrp-only.yaml');
    await writeFile(file, `admin: false\nlog: { level: info }\n${VRRP_SECTION}`);
    const h = startHastack(file);
    // It must exit on its own; a hang is a failure, not a stuck test run.
    const timer = setTimeout(() => h.child.kill('SIGKILL'), 20_000);
    try {
      const [code] = (await once(h.child, 'exit')) as [number | null];
      assert.equal(code, 1, `exit code (stderr: ${h.stderr()})`);
      assert.match(h.stderr(), /\[HASTACK_NATIVE_UNAVAILABLE\]/);
      assert.match(
        h.stderr(),
        /native network addon is not available \(disabled by HASTACK_NATIVE_DISABLE=1\)/,
      );
      assert.match(h.stderr(), /npm install/);
      assert.match(h.stderr(), /nothing else is configured/);
      assert.ok(
        !h.lines.some((l) => l.msg === 'hastack started'),
        'hastack never reported a completed start',
      );
    } finally {
      clearTimeout(timer);
    }
  });
});
