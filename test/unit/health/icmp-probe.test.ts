import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createIcmpProbe, icmpProbe } from '../../../src/health/icmp-probe.ts';
import { icmpSpec, never, requireTool } from './helpers.ts';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hastack-icmp-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stand-in ping that records its arguments and runs `body`. */
async function fakePing(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\nprintf "%s " "$@" > "${path}.args"\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

test('icmp: loopback answers ping', async (t) => {
  if (!(await requireTool(t, 'ping'))) return;
  const result = await icmpProbe(icmpSpec(), { host: '127.0.0.1', port: 0 }, never);
  assert.equal(result.ok, true, result.message);
});

test('icmp: ping arguments: one packet, numeric, wait in whole seconds, source address', async () => {
  const command = await fakePing('ok-ping', 'exit 0');
  const probe = createIcmpProbe({ command });
  const result = await probe(
    icmpSpec({ timeoutMs: 1500, bindHost: '127.0.0.1' }),
    { host: '10.0.0.9', port: 80 },
    never,
  );
  assert.equal(result.ok, true, result.message);
  assert.equal((await readFile(`${command}.args`, 'utf8')).trim(), '-n -c 1 -W 2 -I 127.0.0.1 -- 10.0.0.9');
});

test('icmp: exit 1 is no reply, exit 2 is an error with ping stderr', async () => {
  const silent = createIcmpProbe({ command: await fakePing('no-reply', 'exit 1') });
  const a = await silent(icmpSpec(), { host: '127.0.0.1', port: 0 }, never);
  assert.equal(a.code, 'HASTACK_CHECK_PING_NO_REPLY');
  const broken = createIcmpProbe({
    command: await fakePing('broken', 'echo "ping: unknown host" >&2; exit 2'),
  });
  const b = await broken(icmpSpec(), { host: '127.0.0.1', port: 0 }, never);
  assert.equal(b.code, 'HASTACK_CHECK_PING_FAILED');
  assert.match(b.message, /unknown host/);
});

test('icmp: a missing ping binary has its own error code', async () => {
  const probe = createIcmpProbe({ command: join(dir, 'does-not-exist') });
  const result = await probe(icmpSpec(), { host: '127.0.0.1', port: 0 }, never);
  assert.equal(result.ok, false);
  assert.equal(result.code, 'HASTACK_CHECK_PING_MISSING');
});

test('icmp: a ping that hangs past the timeout is killed and down', async () => {
  const probe = createIcmpProbe({ command: await fakePing('hang', 'exec sleep 30') });
  const result = await probe(icmpSpec({ timeoutMs: 200 }), { host: '127.0.0.1', port: 0 }, never);
  assert.equal(result.code, 'HASTACK_CHECK_TIMEOUT');
});
