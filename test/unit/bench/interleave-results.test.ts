import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { interleavedRuns, rotate, warmThenMeasure } from '../../../bench/lib/interleave.ts';
import { methodOptions, parseBenchArgs } from '../../../bench/lib/options.ts';
import { resultsPath } from '../../../bench/lib/results.ts';

test('rounds visit the targets in an order rotated by one each time', async () => {
  assert.deepEqual(rotate(['a', 'b', 'c'], 4), ['b', 'c', 'a']);
  const visits: string[] = [];
  const results = await interleavedRuns(['a', 'b', 'c'], 3, async (t, run) => {
    visits.push(`${t}${run}`);
    return run;
  });
  assert.deepEqual(visits, ['a1', 'b1', 'c1', 'b2', 'c2', 'a2', 'c3', 'a3', 'b3']);
  assert.deepEqual(
    [...results],
    [
      ['a', [1, 2, 3]],
      ['b', [1, 2, 3]],
      ['c', [1, 2, 3]],
    ],
  );
});

test('stop ends the runs before the next visit, keeping what was measured', async () => {
  let visits = 0;
  const results = await interleavedRuns(
    ['a', 'b'],
    3,
    async () => ++visits,
    () => visits === 3,
  );
  assert.deepEqual(
    [...results],
    [
      ['a', [1]],
      ['b', [2, 3]],
    ],
  );
});

test('the warm-up runs first and is skipped at 0', async () => {
  const runs: number[] = [];
  const run = async (seconds: number) => {
    runs.push(seconds);
    return seconds * 10;
  };
  assert.equal(await warmThenMeasure(2, 5, run), 50);
  assert.equal(await warmThenMeasure(0, 7, run), 70);
  assert.deepEqual(runs, [2, 5, 7]);
});

const ENV = ['BENCH_DURATION', 'BENCH_WARMUP', 'BENCH_RUNS'] as const;
const saved = ENV.map((k) => process.env[k]);
afterEach(() => {
  ENV.forEach((k, i) => {
    if (saved[i] === undefined) delete process.env[k];
    else process.env[k] = saved[i];
  });
});

test('the method flags: defaults, environment, flags, help and unknown flags', () => {
  for (const k of ENV) delete process.env[k];
  assert.equal(parseBenchArgs(['-h'], []), undefined);
  assert.throws(() => parseBenchArgs(['--bogus', '1'], ['rate']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  assert.throws(() => parseBenchArgs(['extra'], []), { code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' });
  const values = parseBenchArgs(['--rate', '5', '--runs', '4'], ['rate'])!;
  assert.equal(values.rate, '5');
  process.env.BENCH_WARMUP = '0';
  const o = methodOptions(values, 'x', 7);
  assert.equal(o.durationSec, 7);
  assert.equal(o.warmupSec, 0);
  assert.equal(o.runs, 4);
  assert.equal(o.loadCpu, 0);
  assert.equal(o.serverCpu, 1);
  assert.match(o.out, /bench\/results\/x-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/);
  assert.equal(methodOptions({ out: '/tmp/r.json' }, 'x', 7).out, '/tmp/r.json');
});

test('results are named after the bench and the UTC second', () => {
  assert.match(
    resultsPath('l4', new Date('2026-11-25T14:22:28.123Z')),
    /bench\/results\/l4-2026-11-25T14-22-28Z\.json$/,
  );
});
