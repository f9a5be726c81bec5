import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { silentLogger } from '../../src/core/logger.ts';
import { netlinkAvailable } from '../../src/core/raw-net.ts';
import type { TrackProcessConfig } from '../../src/vrrp/process-match.ts';
import { ProcessWatch } from '../../src/vrrp/process-watch.ts';
import { trackProcessConfig } from '../helpers/track-process-config.ts';

/*
 * vrrp_track_process against real processes: copies of /bin/sleep and /bin/sh under
 * unique names (≤ 15 characters, the kernel's limit for a process name), followed
 * through the kernel's process events (root and the native addon), by polling, and
 * by polling again where the events cannot be had (a fresh network namespace).
 */

const isRoot = process.getuid?.() === 0;
const WATCH_MODULE = pathToFileURL(new URL('../../src/vrrp/process-watch.ts', import.meta.url).pathname).href;
const LOGGER_MODULE = pathToFileURL(new URL('../../src/core/logger.ts', import.meta.url).pathname).href;

function requireConnector(t: TestContext): boolean {
  if (netlinkAvailable() && isRoot) return true;
  const why = netlinkAvailable() ? 'needs root' : 'the native addon (with netlink) did not build';
  if (process.env.CI) assert.fail(`process events connector: ${why}`);
  t.skip(why);
  return false;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Kills by PID and waits for the exit; harmless when already gone. */
async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** The PIDs of a process's children (Linux ≥ 3.5). */
async function childrenOf(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim() === '' ? [] : text.trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

describe('ProcessWatch with real processes', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  const extraPids: number[] = [];
  const watches: ProcessWatch[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hastack-proc-'));
  });
  after(async () => {
    for (const w of watches) w.stop();
    // Grandchildren first (a subshell left behind by a failed test), then the children, all by PID.
    for (const child of children)
      if (child.pid !== undefined) extraPids.push(...(await childrenOf(child.pid)));
    for (const pid of extraPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    for (const child of children) await killAndWait(child);
    await rm(dir, { recursive: true, force: true });
  });

  /** A copy of `binary` named hsXXXXXX, started with `args`. */
  async function spawnNamed(
    binary: string,
    args: string[],
    stdin: 'ignore' | 'pipe' = 'ignore',
  ): Promise<{ name: string; path: string; child: ChildProcess }> {
    const name = `hs${randomBytes(3).toString('hex')}`;
    const path = join(dir, name);
    await copyFile(binary, path);
    await chmod(path, 0o755);
    const child = spawn(path, args, { stdio: [stdin, 'ignore', 'ignore'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return { name, path, child };
  }

  async function startWatch(
    configs: TrackProcessConfig[],
    options: { useConnector: boolean; pollMs?: number },
  ) {
    const w = new ProcessWatch(configs, {
      logger: silentLogger(),
      useConnector: options.useConnector,
      pollMs: options.pollMs,
      // An hour: with the connector, every change below comes from a kernel event.
      backstopMs: 3_600_000,
    });
    watches.push(w);
    await w.start();
    return w;
  }

  it('follows a process through the kernel events: exec → up, kill → down', async (t) => {
    if (!requireConnector(t)) return;
    const name = `hs${randomBytes(3).toString('hex')}`;
    const path = join(dir, name);
    const w = await startWatch(
      [
        trackProcessConfig(name),
        trackProcessConfig('full', { process: path, params: ['30'] }),
        trackProcessConfig('other-args', { process: path, params: ['31'] }),
      ],
      { useConnector: true },
    );
    assert.equal(w.status()[0]!.source, 'proc-connector');
    assert.equal(w.isUp(name), false);
    const seen: Array<[string, boolean, number]> = [];
    w.subscribe((n, up) => seen.push([n, up, performance.now()]));

    await copyFile('/bin/sleep', path);
    await chmod(path, 0o755);
    const child = spawn(path, ['30'], { stdio: 'ignore' });
    children.push(child);
    await waitFor('up', () => w.isUp(name) && w.isUp('full'));
    assert.equal(w.isUp('other-args'), false);
    // A watch started now sees it in its initial scan.
    const late = await startWatch([trackProcessConfig(name)], { useConnector: true });
    assert.equal(late.isUp(name), true);

    const killedAt = performance.now();
    child.kill('SIGKILL');
    await waitFor('down', () => !w.isUp(name), 2000);
    const latency = seen.find(([n, up]) => n === name && !up)![2] - killedAt;
    t.diagnostic(`connector: kill → down in ${latency.toFixed(1)} ms`);
    assert.ok(latency < 2000, `down ${latency} ms after the kill`);
    await waitFor('full down', () => !w.isUp('full'));
    await waitFor('late watch down', () => !late.isUp(name));
  });

  it('counts a forked child of a counted process (fork event), and its exit', async (t) => {
    if (!requireConnector(t)) return;
    // A shell that forks a subshell, which keeps the name (no exec) and waits on stdin.
    const name = `hs${randomBytes(3).toString('hex')}`;
    const w = await startWatch(
      [trackProcessConfig(name, { quorum: 2 }), trackProcessConfig('one', { process: name })],
      {
        useConnector: true,
      },
    );
    const path = join(dir, name);
    await copyFile('/bin/sh', path);
    await chmod(path, 0o755);
    // A background job's stdin is /dev/null: the subshell reads the pipe through fd 3.
    const shell = spawn(path, ['-c', 'exec 3<&0; (read a <&3) & read b; wait'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    children.push(shell);
    await waitFor('two processes (quorum 2)', () => w.isUp(name));
    assert.deepEqual(
      w.status().map((s) => [s.name, s.count]),
      [
        [name, 2],
        ['one', 2],
      ],
    );
    const [sub] = await childrenOf(shell.pid!);
    assert.ok(sub !== undefined, 'the subshell runs');
    extraPids.push(sub);
    process.kill(sub, 'SIGKILL');
    await waitFor('one process left', () => !w.isUp(name));
    assert.equal(w.isUp('one'), true);
    assert.equal(w.status()[1]!.count, 1);
  });

  it('polls /proc without the connector', async (t) => {
    const { name, child } = await spawnNamed('/bin/sleep', ['30']);
    const w = await startWatch([trackProcessConfig(name)], { useConnector: false, pollMs: 100 });
    assert.equal(w.status()[0]!.source, 'poll');
    assert.equal(w.isUp(name), true);
    let downAt = 0;
    w.subscribe((_n, up) => {
      if (!up) downAt = performance.now();
    });
    const killedAt = performance.now();
    child.kill('SIGKILL');
    await waitFor('down', () => downAt > 0, 2000);
    const latency = downAt - killedAt;
    assert.ok(latency < 2000, `down ${latency} ms after the kill`);
    t.diagnostic(`poll (100 ms): kill → down in ${latency.toFixed(1)} ms`);
  });

  it('falls back to polling where the connector cannot be opened (another network namespace)', async (t) => {
    if (!requireConnector(t)) return;
    const { name, child } = await spawnNamed('/bin/sleep', ['30']);
    const script = `
      const { ProcessWatch } = await import(${JSON.stringify(WATCH_MODULE)});
      const { createLogger } = await import(${JSON.stringify(LOGGER_MODULE)});
      const name = process.argv[1];
      const w = new ProcessWatch(
        [{ name, process: name, fullCommand: false, weight: 1, weightReverse: false, quorum: 1,
           quorumMax: Infinity, forkDelayMs: 0, terminateDelayMs: 0 }],
        { logger: createLogger({ level: 'info', destination: process.stderr }), pollMs: 100 },
      );
      w.subscribe((n, up) => process.stdout.write(n + (up ? ' up' : ' down') + '\\n'));
      await w.start();
      process.stdout.write('ready ' + w.status()[0].source + ' ' + w.isUp(name) + '\\n');
      setInterval(() => {}, 60_000);
    `;
    const watcher = spawn('unshare', ['-n', process.execPath, '--input-type=module', '-e', script, name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(watcher);
    let out = '';
    let err = '';
    watcher.stdout!.on('data', (d: Buffer) => (out += d));
    watcher.stderr!.on('data', (d: Buffer) => (err += d));
    await waitFor('the watcher', () => out.includes('ready') || watcher.exitCode !== null, 10_000).catch(
      () => {},
    );
    assert.equal(out.split('\n')[0], 'ready poll true', `watcher output: ${out}\n${err}`);
    const fallback = err
      .split('\n')
      .filter((line) => line.includes('polling /proc instead'))
      .map((line) => JSON.parse(line) as { level: number; reason: string });
    assert.equal(fallback.length, 1, `logged once: ${err}`);
    assert.equal(fallback[0]!.level, 30, 'at info level');
    t.diagnostic(`fallback reason: ${fallback[0]!.reason}`);
    child.kill('SIGKILL');
    await waitFor('down', () => out.includes(`${name} down`), 3000);
    await killAndWait(watcher);
  });
});
