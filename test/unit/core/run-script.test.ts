import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from '../../../src/core/run-script.ts';

describe('runScript', () => {
  it('returns the exit code and output', async () => {
    const r = await runScript('echo hello; echo oops >&2; exit 3');
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.timedOut, false);
  });

  it('kills the whole process group on timeout', async () => {
    const r = await runScript('sleep 30 & sleep 30; wait', { timeoutMs: 200 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.equal(r.signal, 'SIGKILL');
  });

  it('caps captured output', async () => {
    const r = await runScript('head -c 1000000 /dev/zero', { maxOutputBytes: 1000 });
    assert.equal(r.exitCode, 0);
    assert.ok(r.stdout.length <= 1000);
  });

  it('aborts on signal', async () => {
    const ac = new AbortController();
    const p = runScript('sleep 30', { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const r = await p;
    assert.equal(r.signal, 'SIGKILL');
  });
});
