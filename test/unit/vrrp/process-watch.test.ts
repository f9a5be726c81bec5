import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isHastackError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { TrackProcessConfig } from '../../../src/vrrp/process-match.ts';
import { ProcessWatch } from '../../../src/vrrp/process-watch.ts';
import { trackProcessConfig } from '../../helpers/track-process-config.ts';

/*
 * ProcessWatch polling a fake /proc (PID directories with stat and cmdline files)
 * with the connector off: every change below comes from a full re-scan.
 */

let root: string;
let nextRoot = 0;

async function fakeProc(): Promise<string> {
  const dir = join(root, String(nextRoot++));
  await mkdir(dir);
  // Non-PID entries, as in the real /proc.
  await mkdir(join(dir, 'self'));
  await writeFile(join(dir, 'uptime'), '1.0 1.0\n');
  return dir;
}

async function addProcess(
  proc: string,
  pid: number,
  comm: string,
  argv: string[] = [comm],
  state = 'S',
): Promise<void> {
  await mkdir(join(proc, String(pid)), { recursive: true });
  await writeFile(
    join(proc, String(pid), 'stat'),
    `${pid} (${comm}) ${state} 1 ${pid} ${pid} 0 -1 4194560\n`,
  );
  await writeFile(join(proc, String(pid), 'cmdline'), argv.map((a) => `${a}\0`).join(''));
}

async function removeProcess(proc: string, pid: number): Promise<void> {
  await rm(join(proc, String(pid)), { recursive: true, force: true });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function watchOf(configs: TrackProcessConfig[], procRoot: string, pollMs = 20): ProcessWatch {
  return new ProcessWatch(configs, { logger: silentLogger(), procRoot, useConnector: false, pollMs });
}

describe('ProcessWatch (fake /proc, polling)', () => {
  const watches: ProcessWatch[] = [];
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'hastack-procwatch-'));
  });
  after(async () => {
    for (const w of watches) w.stop();
    await rm(root, { recursive: true, force: true });
  });
  const started = async (configs: TrackProcessConfig[], proc: string, pollMs?: number) => {
    const w = watchOf(configs, proc, pollMs);
    watches.push(w);
    await w.start();
    return w;
  };

  it('decides the initial state from the first scan', async () => {
    const proc = await fakeProc();
    await addProcess(proc, 100, 'nginx', ['/usr/sbin/nginx', '-g', 'daemon off;']);
    await addProcess(proc, 101, 'nginx', ['nginx: worker process']);
    await addProcess(proc, 200, 'sshd');
    const w = await started(
      [
        trackProcessConfig('nginx', { quorum: 2 }),
        trackProcessConfig('haproxy'),
        trackProcessConfig('sshd', { quorum: 0, quorumMax: 0 }),
      ],
      proc,
      3_600_000,
    );
    assert.equal(w.isUp('nginx'), true);
    assert.equal(w.isUp('haproxy'), false);
    assert.equal(w.isUp('sshd'), false);
    assert.deepEqual(w.status(), [
      { name: 'nginx', up: true, count: 2, quorum: 2, quorumMax: null, source: 'poll' },
      { name: 'haproxy', up: false, count: 0, quorum: 1, quorumMax: null, source: 'poll' },
      { name: 'sshd', up: false, count: 1, quorum: 0, quorumMax: 0, source: 'poll' },
    ]);
  });

  it('sees a process appear and vanish on the next poll', async () => {
    const proc = await fakeProc();
    const w = await started([trackProcessConfig('redis-server')], proc);
    const seen: string[] = [];
    w.subscribe((name, up) => seen.push(`${name} ${up ? 'up' : 'down'}`));
    assert.equal(w.isUp('redis-server'), false);
    await addProcess(proc, 300, 'redis-server');
    await waitFor('up', () => seen.length === 1);
    assert.equal(w.isUp('redis-server'), true);
    await addProcess(proc, 301, 'redis-server');
    await waitFor('a count of 2', () => w.status()[0]!.count === 2);
    await removeProcess(proc, 300);
    await removeProcess(proc, 301);
    await waitFor('down', () => seen.length === 2);
    assert.deepEqual(seen, ['redis-server up', 'redis-server down']);
  });

  it('ignores zombies', async () => {
    const proc = await fakeProc();
    await addProcess(proc, 400, 'postgres', ['postgres'], 'Z');
    const w = await started([trackProcessConfig('postgres')], proc);
    assert.equal(w.isUp('postgres'), false);
    await addProcess(proc, 401, 'postgres', ['postgres'], 'R');
    await waitFor('up', () => w.isUp('postgres'));
    // The live one becomes a zombie (exited, not yet reaped): no longer counted.
    await addProcess(proc, 401, 'postgres', ['postgres'], 'Z');
    await waitFor('down', () => !w.isUp('postgres'));
  });

  it('matches full_command and params against cmdline', async () => {
    const proc = await fakeProc();
    await addProcess(proc, 500, 'nginx', ['/usr/sbin/nginx', '-c', '/etc/nginx/a.conf']);
    await addProcess(proc, 501, 'nginx', ['/usr/sbin/nginx', '-c', '/etc/nginx/b.conf', '-q']);
    await addProcess(proc, 502, 'python3', ['/usr/bin/python3', 'app.py']);
    const w = await started(
      [
        trackProcessConfig('full', { process: '/usr/sbin/nginx', fullCommand: true }),
        trackProcessConfig('exact-a', { process: '/usr/sbin/nginx', params: ['-c', '/etc/nginx/a.conf'] }),
        trackProcessConfig('exact-b', { process: '/usr/sbin/nginx', params: ['-c', '/etc/nginx/b.conf'] }),
        trackProcessConfig('partial-b', {
          process: '/usr/sbin/nginx',
          params: ['-c', '/etc/nginx/b.conf'],
          paramMatch: 'partial',
        }),
        trackProcessConfig('initial', {
          process: '/usr/sbin/nginx',
          params: ['-c', '/etc/nginx/'],
          paramMatch: 'initial',
        }),
        trackProcessConfig('no-args', { process: '/usr/bin/python3', paramMatch: 'exact' }),
        trackProcessConfig('app', { process: '/usr/bin/python3', params: ['app.py'] }),
        trackProcessConfig('by-name', { process: 'nginx' }),
      ],
      proc,
      3_600_000,
    );
    assert.deepEqual(Object.fromEntries(w.status().map((s) => [s.name, s.count])), {
      full: 2,
      'exact-a': 1,
      'exact-b': 0,
      'partial-b': 1,
      initial: 2,
      'no-args': 0,
      app: 1,
      'by-name': 2,
    });
  });

  it('tolerates processes that vanish between the listing and the reads', async () => {
    const proc = await fakeProc();
    await addProcess(proc, 600, 'memcached', ['memcached', '-p', '11211']);
    // Listed but gone: no stat; stat but no cmdline (counted by name only); a stat that is not a file.
    await mkdir(join(proc, '601'));
    await mkdir(join(proc, '602'));
    await writeFile(join(proc, '602', 'stat'), '602 (memcached) S 1\n');
    await mkdir(join(proc, '603', 'stat'), { recursive: true });
    await writeFile(join(proc, '604'), 'not a directory');
    await mkdir(join(proc, '605'));
    await writeFile(join(proc, '605', 'stat'), 'garbage without a name\n');
    const w = await started(
      [
        trackProcessConfig('memcached'),
        trackProcessConfig('mc-port', { process: 'memcached', params: ['-p', '11211'] }),
      ],
      proc,
      3_600_000,
    );
    assert.deepEqual(
      w.status().map((s) => [s.name, s.count]),
      [
        ['memcached', 2],
        ['mc-port', 1],
      ],
    );
  });

  it('does not read cmdline when no tracker needs it', async () => {
    const proc = await fakeProc();
    await addProcess(proc, 700, 'chronyd');
    // An unreadable cmdline (a directory): only a cmdline tracker would stumble on it.
    await rm(join(proc, '700', 'cmdline'));
    await mkdir(join(proc, '700', 'cmdline'));
    const w = await started([trackProcessConfig('chronyd')], proc, 3_600_000);
    assert.equal(w.isUp('chronyd'), true);
    const both = await started(
      [trackProcessConfig('chronyd'), trackProcessConfig('full', { process: 'chronyd', fullCommand: true })],
      proc,
    );
    assert.deepEqual(
      both.status().map((s) => s.count),
      [1, 0],
      'an unreadable cmdline: counted by name only',
    );
  });

  it('applies fork and terminate delays (one timer), reporting pending changes', async () => {
    const proc = await fakeProc();
    const w = await started([trackProcessConfig('slapd', { forkDelayMs: 150, terminateDelayMs: 150 })], proc);
    const seen: Array<[string, boolean, number]> = [];
    const t0 = Date.now();
    w.subscribe((name, up) => seen.push([name, up, Date.now() - t0]));
    await addProcess(proc, 800, 'slapd');
    await waitFor('pending up', () => w.status()[0]!.pending === 'up');
    assert.equal(w.isUp('slapd'), false);
    await waitFor('up', () => w.isUp('slapd'));
    assert.equal(w.status()[0]!.pending, undefined);
    // A restart within terminate_delay (reload) is not reported.
    await removeProcess(proc, 800);
    await waitFor('pending down', () => w.status()[0]!.pending === 'down');
    await addProcess(proc, 801, 'slapd');
    await waitFor('pending cancelled', () => w.status()[0]!.pending === undefined);
    await sleep(200);
    assert.equal(w.isUp('slapd'), true);
    assert.deepEqual(
      seen.map(([name, up]) => [name, up]),
      [['slapd', true]],
    );
    assert.ok(seen[0]![2] >= 140, `up after the fork delay, not at once (${seen[0]![2]} ms)`);
  });

  it('rejects bad configurations and unknown names with stable codes', async () => {
    const proc = await fakeProc();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        assert.ok(isHastackError(err));
        return err.code;
      }
      assert.fail('expected a throw');
    };
    assert.equal(
      code(() => watchOf([trackProcessConfig('a'), trackProcessConfig('a')], proc)),
      'HASTACK_VRRP_TRACK_PROCESS_CONFIG',
    );
    assert.equal(
      code(() => watchOf([trackProcessConfig('a', { quorumMax: 0 })], proc)),
      'HASTACK_VRRP_TRACK_PROCESS_CONFIG',
    );
    assert.equal(
      code(() => watchOf([trackProcessConfig('a', { quorum: -1 })], proc)),
      'HASTACK_VRRP_TRACK_PROCESS_CONFIG',
    );
    assert.equal(
      code(() => watchOf([trackProcessConfig('a', { process: '' })], proc)),
      'HASTACK_VRRP_TRACK_PROCESS_CONFIG',
    );
    const w = await started([trackProcessConfig('a')], proc);
    assert.equal(
      code(() => w.isUp('b')),
      'HASTACK_VRRP_TRACK_PROCESS_UNKNOWN',
    );
    w.stop();
    w.stop();
    await assert.rejects(w.start(), { code: 'HASTACK_VRRP_TRACK_PROCESS_STOPPED' });
    const missing = watchOf([trackProcessConfig('a')], join(proc, 'does-not-exist'));
    await assert.rejects(missing.start(), { code: 'HASTACK_VRRP_TRACK_PROCESS_SCAN' });
    missing.stop();
  });

  it('stops polling and reporting after stop()', async () => {
    const proc = await fakeProc();
    const w = await started([trackProcessConfig('ntpd')], proc);
    let reports = 0;
    w.subscribe(() => reports++);
    w.stop();
    await addProcess(proc, 900, 'ntpd');
    await sleep(80);
    assert.equal(reports, 0);
    assert.equal(w.isUp('ntpd'), false);
  });
});
