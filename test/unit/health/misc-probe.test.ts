import assert from 'node:assert/strict';
import { test } from 'node:test';
import { miscProbe } from '../../../src/health/misc-probe.ts';
import { miscSpec, never } from './helpers.ts';

const target = { host: '127.0.0.1', port: 8080 };

test('misc: exit 0 is up, any other exit is down (with the first line of output)', async () => {
  const up = await miscProbe(miscSpec('exit 0'), target, never);
  assert.equal(up.ok, true, up.message);
  assert.equal(up.weight, undefined);
  for (const code of [1, 2, 3, 255]) {
    const down = await miscProbe(miscSpec(`echo "backend $((${code}))" >&2; exit ${code}`), target, never);
    assert.equal(down.ok, false);
    assert.equal(down.code, 'HASTACK_CHECK_MISC_EXIT');
    assert.match(down.message, new RegExp(`exit ${code}: backend ${code}`));
  }
});

test('misc_dynamic: 0 up, 1 down, 2..255 up with weight code-2', async () => {
  const zero = await miscProbe(miscSpec('exit 0', { dynamic: true }), target, never);
  assert.equal(zero.ok, true);
  assert.equal(zero.weight, undefined, 'exit 0 leaves the weight alone, as keepalived');
  const one = await miscProbe(miscSpec('exit 1', { dynamic: true }), target, never);
  assert.equal(one.ok, false);
  assert.equal(one.code, 'HASTACK_CHECK_MISC_EXIT');
  for (const [code, weight] of [
    [2, 0],
    [3, 1],
    [102, 100],
    [255, 253],
  ] as const) {
    const result = await miscProbe(miscSpec(`exit ${code}`, { dynamic: true }), target, never);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.weight, weight);
  }
});

test('misc: a command that overruns the timeout is killed (with its children) and down', async () => {
  const result = await miscProbe(miscSpec('sleep 30 & sleep 30; exit 0', { timeoutMs: 200 }), target, never);
  assert.equal(result.ok, false);
  assert.equal(result.code, 'HASTACK_CHECK_TIMEOUT');
});

test('misc: killed by a signal is down', async () => {
  const result = await miscProbe(miscSpec('kill -TERM $$'), target, never);
  assert.equal(result.ok, false);
  assert.equal(result.code, 'HASTACK_CHECK_MISC_SIGNAL');
  assert.match(result.message, /SIGTERM/);
});

test('misc: the target is passed in the environment', async () => {
  const spec = miscSpec('[ "$HASTACK_CHECK_HOST:$HASTACK_CHECK_PORT" = "10.1.1.1:8080" ]', {
    connectHost: '10.1.1.1',
  });
  const result = await miscProbe(spec, target, never);
  assert.equal(result.ok, true, result.message);
});

test('misc: abort kills the command and reports aborted', async () => {
  const controller = new AbortController();
  const pending = miscProbe(miscSpec('sleep 30', { timeoutMs: 30_000 }), target, controller.signal);
  setImmediate(() => controller.abort());
  const result = await pending;
  assert.equal(result.code, 'HASTACK_CHECK_ABORTED');
  const already = await miscProbe(miscSpec('exit 0'), target, AbortSignal.abort());
  assert.equal(already.code, 'HASTACK_CHECK_ABORTED');
});
