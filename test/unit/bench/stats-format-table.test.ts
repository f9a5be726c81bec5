import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMs, formatRate, formatRatio } from '../../../bench/lib/format.ts';
import { median, ratio } from '../../../bench/lib/stats.ts';
import { formatTable } from '../../../bench/lib/table.ts';

test('median of odd and even counts, order-independent', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]), RangeError);
});

test('ratio is NaN rather than Infinity when the divisor is not positive', () => {
  assert.equal(ratio(1, 4), 0.25);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(Number.NaN, 1)));
});

test('formats rates, latencies and ratios', () => {
  assert.equal(formatRate(12345.6), '12,346');
  assert.equal(formatMs(0.412), '412us');
  assert.equal(formatMs(4.361), '4.36ms');
  assert.equal(formatMs(44.24), '44.2ms');
  assert.equal(formatMs(512.4), '512ms');
  assert.equal(formatMs(12_345), '12.3s');
  assert.equal(formatRatio(0.8734), '0.87x');
  assert.equal(formatRatio(Number.NaN), 'n/a');
});

test('table pads columns and right-aligns numeric ones', () => {
  const text = formatTable(
    ['target', 'req/s'],
    [
      ['direct', '120,997'],
      ['hastack', '3,800'],
    ],
  );
  assert.equal(
    text,
    ['target     req/s', '-------  -------', 'direct   120,997', 'hastack    3,800'].join('\n'),
  );
});
