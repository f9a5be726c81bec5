import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool, READ_BUFFER_SIZE } from '../../../src/core/buffer-pool.ts';

test('a given-back buffer is lent again instead of a new one', () => {
  const pool = new BufferPool();
  const first = pool.take();
  assert.equal(first.length, READ_BUFFER_SIZE);
  pool.give(first);
  assert.equal(pool.freeCount, 1);
  assert.equal(pool.take(), first);
  assert.equal(pool.freeCount, 0);
});

test('keeps at most maxFree idle buffers, and only whole ones of its size', () => {
  const pool = new BufferPool(64, 2);
  const taken = [pool.take(), pool.take(), pool.take()];
  for (const buf of taken) pool.give(buf);
  assert.equal(pool.freeCount, 2);
  pool.take();
  pool.give(Buffer.alloc(32));
  pool.give(taken[0]!.subarray(0, 10));
  assert.equal(pool.freeCount, 1);
});
