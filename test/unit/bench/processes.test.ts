import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { runCleanup } from '../../../bench/lib/cleanup.ts';
import { runPinned, spawnPinned } from '../../../bench/lib/pinned-process.ts';
import { canConnect, freePort, waitForPort } from '../../../bench/lib/ports.ts';
import { makeTempDir } from '../../../bench/lib/temp-dir.ts';
import { findExecutable, missingToolsError, requireTools } from '../../../bench/lib/tools.ts';

const haveTaskset = findExecutable('taskset') !== undefined;
const needsTaskset = {
  skip: !haveTaskset && process.env.CI === undefined ? 'taskset (util-linux) missing' : false,
};

test(
  'spawned processes are pinned, stopped by PID, and report early exits with their output',
  needsTaskset,
  async () => {
    const proc = await spawnPinned({ name: 'sleeper', command: 'sleep', args: ['30'], cpu: 0 });
    const affinity = await runPinned({
      name: 'taskset',
      command: 'taskset',
      args: ['-cp', String(proc.pid)],
      cpu: 0,
      timeoutMs: 5_000,
    });
    assert.match(affinity.output, /affinity list: 0\s*$/);
    proc.assertRunning();
    await proc.stop();
    assert.deepEqual(proc.exitStatus, { code: null, signal: 'SIGTERM' });

    const failing = await spawnPinned({
      name: 'failing',
      command: 'sh',
      args: ['-c', 'echo boom >&2; exit 3'],
      cpu: 0,
    });
    await failing.exited;
    assert.throws(() => failing.assertRunning(), {
      code: 'HASTACK_BENCH_PROCESS_EXITED',
      message: /exit code 3[\s\S]*boom/,
    });
    await failing.stop();
  },
);

test('a process that ignores SIGTERM is killed after the grace period', needsTaskset, async () => {
  const proc = await spawnPinned({
    name: 'stubborn',
    command: 'sh',
    args: ['-c', 'trap "" TERM; echo ready; while :; do sleep 1; done'],
    cpu: 0,
    stopGraceMs: 300,
  });
  while (!proc.output().includes('ready')) await new Promise((r) => setTimeout(r, 20));
  await proc.stop();
  assert.equal(proc.exitStatus?.signal, 'SIGKILL');
});

test('runCleanup stops registered processes and removes temp dirs', needsTaskset, async () => {
  const dir = await makeTempDir('selftest');
  const proc = await spawnPinned({ name: 'sleeper', command: 'sleep', args: ['30'], cpu: 0 });
  await runCleanup();
  assert.equal(existsSync(dir), false);
  assert.notEqual(proc.exitStatus, undefined);
});

test('freePort hands out distinct bindable ports; waitForPort sees a listener', async () => {
  const a = await freePort();
  const b = await freePort();
  assert.notEqual(a, b);
  assert.equal(await canConnect('127.0.0.1', a, 500), false);
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(a, '127.0.0.1', resolve));
  try {
    await waitForPort('127.0.0.1', a, { timeoutMs: 2_000 });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  await assert.rejects(waitForPort('127.0.0.1', b, { timeoutMs: 300, label: 'nothing' }), {
    code: 'HASTACK_BENCH_NOT_READY',
  });
});

test('missing tools are reported together with their Debian packages', () => {
  assert.throws(
    () =>
      requireTools({
        sh: { command: 'sh', debianPackage: 'dash' },
        a: { command: 'hastack-no-such-tool-a', debianPackage: 'pkg-a' },
        b: { command: 'hastack-no-such-tool-b', debianPackage: 'pkg-b' },
      }),
    { code: 'HASTACK_BENCH_TOOL_MISSING', message: /apt-get install pkg-a pkg-b$/ },
  );
  assert.match(
    missingToolsError([{ command: 'wrk', debianPackage: 'wrk' }]).message,
    /wrk \(Debian package wrk\)/,
  );
});
