import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

/* The memcache cores stay pure: no sockets, files, processes or timers (the server shell has those). */
const PURE = [
  'item-layout.ts',
  'slab-classes.ts',
  'slab-memory.ts',
  'key-hash.ts',
  'store-stats.ts',
  'item-store.ts',
  'ascii-numbers.ts',
  'line-tokens.ts',
  'base64.ts',
  'key-check.ts',
  'reply-buffer.ts',
  'command-context.ts',
  'server-state.ts',
  'stats-report.ts',
  'text-commands.ts',
  'meta-commands.ts',
  'binary-commands.ts',
  'protocol-session.ts',
  'config-schema.ts',
  'client/ketama.ts',
  'client/server-pool.ts',
  'client/reply-reader.ts',
];

describe('memcache pure cores', () => {
  for (const file of PURE) {
    it(`${file} does no I/O and starts no timers`, () => {
      const text = readFileSync(new URL(`../../../src/memcache/${file}`, import.meta.url), 'utf8');
      assert.doesNotMatch(
        text,
        /from 'node:(net|dgram|fs|fs\/promises|child_process|http|https|tls|worker_threads|timers)'/,
      );
      assert.doesNotMatch(text, /\bset(Timeout|Interval|Immediate)\(/);
      assert.doesNotMatch(text, /\b(Date\.now|performance\.now)\(/);
    });
  }
});
