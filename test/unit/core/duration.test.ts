import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../../src/core/duration.ts';
import { HastackError } from '../../../src/core/errors.ts';

describe('parseDuration', () => {
  it('reads bare numbers as seconds, like keepalived', () => {
    assert.equal(parseDuration(2), 2000);
    assert.equal(parseDuration(0.5), 500);
    assert.equal(parseDuration('3'), 3000);
    assert.equal(parseDuration('1.25'), 1250);
  });

  it('reads units and compound forms', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration(' 10s '), 10_000);
  });

  for (const bad of ['', 'x', '2x', '-1', 's', '1s2', '1.s', 'NaN', '1e3']) {
    it(`rejects "${bad}" with a stable code`, () => {
      assert.throws(
        () => parseDuration(bad),
        (err: unknown) => err instanceof HastackError && err.code === 'HASTACK_DURATION_INVALID',
      );
    });
  }

  it('rejects negative and non-finite numbers', () => {
    assert.throws(() => parseDuration(-1), /invalid duration/);
    assert.throws(() => parseDuration(Number.POSITIVE_INFINITY), /invalid duration/);
  });

  it('formats whole seconds and milliseconds', () => {
    assert.equal(formatDuration(2000), '2s');
    assert.equal(formatDuration(1500), '1500ms');
  });
});
