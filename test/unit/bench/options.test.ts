import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { intOption, listOption, secondsOption } from '../../../bench/lib/options.ts';

const ENV = 'HASTACK_BENCH_TEST_OPTION';
afterEach(() => {
  delete process.env[ENV];
});

test('flag wins over environment, environment over default', () => {
  assert.equal(intOption('runs', undefined, ENV, 3), 3);
  process.env[ENV] = '5';
  assert.equal(intOption('runs', undefined, ENV, 3), 5);
  assert.equal(intOption('runs', '7', ENV, 3), 7);
});

test('durations are whole seconds with or without a unit', () => {
  assert.equal(secondsOption('duration', '10', undefined, 1), 10);
  assert.equal(secondsOption('duration', '1m', undefined, 1), 60);
  assert.equal(secondsOption('warmup', '0s', undefined, 2, 0), 0);
  assert.throws(() => secondsOption('duration', '1500ms', undefined, 1), {
    code: 'HASTACK_BENCH_OPTION_INVALID',
  });
  assert.throws(() => secondsOption('duration', 'soon', undefined, 1), /--duration/);
});

test('bad integers and unknown list entries name the flag', () => {
  assert.throws(
    () => intOption('connections', '0', undefined, 64),
    /--connections: "0" is not an integer ≥ 1/,
  );
  assert.throws(() => intOption('connections', '2.5', undefined, 64), {
    code: 'HASTACK_BENCH_OPTION_INVALID',
  });
  const all = ['direct', 'hastack', 'haproxy'] as const;
  assert.deepEqual(listOption('targets', 'haproxy, direct', undefined, all), ['direct', 'haproxy']);
  assert.deepEqual(listOption('targets', undefined, undefined, all), [...all]);
  assert.throws(() => listOption('targets', 'envoy', undefined, all), /one of direct, hastack, haproxy/);
});
