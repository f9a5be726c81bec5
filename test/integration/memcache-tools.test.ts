import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool, run, startMemcache } from './memcache-helpers.ts';

/*
 * libmemcached's own tools (Debian libmemcached-tools) against hastack:
 * memccapable's ascii and binary conformance suites, memccp/memccat.
 */
describe('memcached tools against hastack', () => {
  it('memccapable: every ascii test passes', async (t) => {
    const tool = requireTool(t, 'memccapable', 'libmemcached-tools');
    if (tool === undefined) return;
    const { port } = await startMemcache(t);
    const r = await run(tool, ['-h', '127.0.0.1', '-p', String(port), '-a', '-t', '5']);
    assert.match(r.output, /All tests passed/, r.output);
    assert.doesNotMatch(r.output, /\[fail\]/);
    assert.equal((r.output.match(/^ascii .*\[pass\]$/gm) ?? []).length, 27, r.output);
    assert.equal(r.code, 0);
  });

  it('memccapable: every binary test passes', async (t) => {
    const tool = requireTool(t, 'memccapable', 'libmemcached-tools');
    if (tool === undefined) return;
    const { port } = await startMemcache(t);
    const r = await run(tool, ['-h', '127.0.0.1', '-p', String(port), '-b', '-t', '5']);
    assert.match(r.output, /All tests passed/, r.output);
    assert.equal((r.output.match(/^binary .*\[pass\]$/gm) ?? []).length, 27, r.output);
    assert.equal(r.code, 0);
  });

  it('memccp stores a file and memccat reads it back, text and binary protocol', async (t) => {
    const cp = requireTool(t, 'memccp', 'libmemcached-tools');
    const cat = requireTool(t, 'memccat', 'libmemcached-tools');
    if (cp === undefined || cat === undefined) return;
    const { address } = await startMemcache(t);
    const dir = await mkdtemp(join(tmpdir(), 'hastack-memc-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const content = `hello from memccp\n${'x'.repeat(100_000)}\n`;
    await writeFile(join(dir, 'greeting.txt'), content);
    for (const binary of [[], ['--binary']]) {
      const put = await run(cp, [`--servers=${address}`, ...binary, join(dir, 'greeting.txt')]);
      assert.equal(put.code, 0, put.output);
      const got = await run(cat, [`--servers=${address}`, ...binary, 'greeting.txt']);
      assert.equal(got.code, 0, got.output);
      // memccat ends the value with a newline of its own.
      assert.ok(
        got.output === content || got.output === `${content}\n`,
        `memccat printed ${got.output.length} bytes`,
      );
    }
    const miss = await run(cat, [`--servers=${address}`, 'no-such-key']);
    assert.notEqual(miss.code, 0);
  });
});
