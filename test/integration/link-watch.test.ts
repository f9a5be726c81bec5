import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { run } from '../../src/vrrp/lab/lab.ts';
import { requireLab } from './vrrp-helpers.ts';

/*
 * Link changes reach the VRRP link watch as kernel notifications (RTMGRP_LINK), as
 * keepalived's netlink does: in a namespace made here, a watcher whose backstop poll is
 * an hour still reports an interface going up, losing its carrier and getting it back.
 */

const CHILD = new URL('./link-watch-child.ts', import.meta.url).pathname;
const NS = `hastack-lw-${process.pid}`;

describe('VRRP link watch', () => {
  let child: ChildProcess | undefined;
  after(async () => {
    child?.kill('SIGKILL');
    await run('ip', ['netns', 'del', NS]);
  });

  it('sees a link go up and down through netlink notifications, without polling', async (t) => {
    if (!(await requireLab(t))) return;
    assert.equal((await run('ip', ['netns', 'add', NS])).code, 0);
    // A veth pair (no dummy driver here): v0 is watched, v1 is its peer, whose state is v0's carrier.
    assert.equal(
      (await run('ip', ['-n', NS, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'])).code,
      0,
    );
    assert.equal((await run('ip', ['-n', NS, 'link', 'set', 'v1', 'up'])).code, 0);
    let out = '';
    child = spawn('ip', ['netns', 'exec', NS, process.execPath, CHILD, 'v0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    const waitFor = async (text: string) => {
      for (let i = 0; i < 500 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(out.includes(text), `expected "${text}" from the watcher, got: ${out}`);
    };
    await waitFor('ready down events');
    assert.equal((await run('ip', ['-n', NS, 'link', 'set', 'v0', 'up'])).code, 0);
    await waitFor('v0 up');
    // Carrier lost: v0 stays administratively up but no longer runs.
    assert.equal((await run('ip', ['-n', NS, 'link', 'set', 'v1', 'down'])).code, 0);
    await waitFor('v0 down');
    assert.equal((await run('ip', ['-n', NS, 'link', 'set', 'v1', 'up'])).code, 0);
    await waitFor('v0 up\nv0 down\nv0 up');
    assert.deepEqual(out.trim().split('\n'), ['ready down events', 'v0 up', 'v0 down', 'v0 up']);
  });
});
