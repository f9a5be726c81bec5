import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exchange, startMemcache } from './memcache-helpers.ts';

const MIB = 1024 * 1024;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Pipelined sets on one connection, waiting for every STORED. */
async function fill(port: number, prefix: string, count: number, valueSize: number): Promise<void> {
  const value = Buffer.alloc(valueSize, 97);
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let stored = 0;
  let tail = '';
  const done = new Promise<void>((resolve) => {
    socket.on('data', (d) => {
      tail += d.toString('latin1');
      const lines = tail.split('\r\n');
      tail = lines.pop()!;
      stored += lines.filter((l) => l === 'STORED').length;
      if (stored === count) resolve();
    });
  });
  for (let i = 0; i < count; i++) {
    const ok = socket.write(
      Buffer.concat([Buffer.from(`set ${prefix}${i} 0 0 ${valueSize}\r\n`), value, Buffer.from('\r\n')]),
    );
    if (!ok) await new Promise((r) => socket.once('drain', r));
  }
  await done;
  socket.destroy();
}

describe('memory limit and eviction (separate process)', () => {
  it('fills 3x past the limit: the process stays within limit + stated overhead and evicts the oldest', async (t) => {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'memcache-child.ts'), JSON.stringify({ memory_limit: '32m' })],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const m = /port (\d+)/.exec(d.toString());
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error('child exited')));
    });
    await sleep(200);
    const baseline = rssBytes(child.pid!);
    await fill(port, 'k', 10_000, 10_000); // ~100 MB of values into a 32 MB cache
    const after = rssBytes(child.pid!);
    const stats = (
      await exchange(port, 'stats\r\nstats slabs\r\n', (s) => (s.match(/END\r\n/g) ?? []).length === 2)
    ).text;
    const stat = (name: string) => Number(new RegExp(`STAT ${name} (\\d+)`).exec(stats)![1]);
    assert.ok(stat('total_malloced') <= 32 * MIB, `slab pages ${stat('total_malloced')}`);
    assert.ok(stat('evictions') > 5000, `evictions ${stat('evictions')}`);
    // Stated overhead (docs/memcache.md): up to 48 MiB above the limit for the JS heap, buffers and the hash table.
    const growth = after - baseline;
    assert.ok(growth <= 32 * MIB + 48 * MIB, `RSS grew by ${(growth / MIB).toFixed(1)} MiB`);
    const firstAndLast = (await exchange(port, 'get k0 k9999\r\n', (s) => s.endsWith('END\r\n'))).text;
    assert.doesNotMatch(firstAndLast, /VALUE k0 /, 'the oldest item was evicted');
    assert.match(firstAndLast, /VALUE k9999 /, 'the newest item is there');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});

describe('bad input (the server keeps serving, memory stays bounded)', () => {
  it('garbage, binary junk, oversize values and long lines get errors or a close, never a crash', async (t) => {
    const { port, server } = await startMemcache(t);
    const junk = Buffer.alloc(5000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 256;
    await exchange(port, junk, () => false, 500);
    assert.equal((await exchange(port, 'hello world\r\n', (s) => s.includes('\r\n'))).text, 'ERROR\r\n');
    const big = Buffer.concat([
      Buffer.from('set big 0 0 5000000\r\n'),
      Buffer.alloc(5_000_000, 1),
      Buffer.from('\r\nmn\r\n'),
    ]);
    assert.equal(
      (await exchange(port, big, (s) => s.endsWith('MN\r\n'))).text,
      'SERVER_ERROR object too large for cache\r\nMN\r\n',
    );
    const long = await exchange(port, 'x'.repeat(100_000), () => false, 2000);
    assert.equal(long.closed, true, 'a 100 KB line without newline closes the connection');
    assert.equal(
      (await exchange(port, 'version\r\n', (s) => s.includes('\r\n'))).text,
      'VERSION 1.6.18-hastack\r\n',
    );
    assert.equal(server.state.currConnections <= 1, true);
  });

  it('a get with 100,000 keys is answered in full', async (t) => {
    const { port } = await startMemcache(t);
    await exchange(port, 'set k7 0 0 1\r\nx\r\n', (s) => s.includes('STORED'));
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}`).join(' ');
    const r = await exchange(port, `get ${keys}\r\n`, (s) => s.endsWith('END\r\n'), 20_000);
    assert.equal(r.text, 'VALUE k7 0 1\r\nx\r\nEND\r\n');
  });

  it('half-sent values then close free their memory', async (t) => {
    const { port, server } = await startMemcache(t);
    for (let i = 0; i < 20; i++) {
      const s = net.connect(port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write(Buffer.concat([Buffer.from(`set half${i} 0 0 900000\r\n`), Buffer.alloc(100_000, 1)]));
      await sleep(20);
      s.destroy();
    }
    await sleep(200);
    const used = server.store.mem.usedChunks.reduce((a, b) => a + b, 0);
    assert.equal(used, 0, 'no chunk still held by a closed connection');
    assert.equal(server.state.currConnections, 0);
  });

  it('stops reading from a client that does not read its replies, and catches up when it does', async (t) => {
    const { port, server } = await startMemcache(t, { output_limit: '256k' });
    const value = Buffer.alloc(500_000, 98);
    await exchange(
      port,
      Buffer.concat([Buffer.from('set big 0 0 500000\r\n'), value, Buffer.from('\r\n')]),
      (s) => s.includes('STORED'),
    );
    const socket = net.connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    await new Promise((r) => socket.once('connect', r));
    socket.pause();
    const requests = 400; // 200 MB of replies if the server kept answering
    socket.write('get big\r\n'.repeat(requests));
    await sleep(1000);
    assert.ok(server.state.backpressurePauses >= 1, 'reading paused');
    assert.ok(
      server.state.bytesWritten < 50 * 500_000,
      `server wrote ${server.state.bytesWritten} bytes ahead of the client`,
    );
    let received = 0;
    let ends = 0;
    await new Promise<void>((resolve) => {
      socket.on('data', (d: Buffer) => {
        received += d.length;
        ends += d.toString('latin1').split('END\r\n').length - 1;
        if (ends >= requests) resolve();
      });
      socket.resume();
    });
    assert.equal(ends, requests);
    assert.ok(received >= requests * 500_000);
  });
});

describe('idle timeout', () => {
  it('closes a connection that sends nothing and keeps one that keeps sending', async (t) => {
    const { port } = await startMemcache(t, { idle_timeout: '400ms' });
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        t.after(() => s.destroy());
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    const idle = await open();
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    const busy = await open();
    let busyClosed = false;
    busy.once('close', () => {
      busyClosed = true;
    });
    let replies = '';
    busy.on('data', (d: Buffer) => {
      replies += d.toString('latin1');
    });
    // A request every 100 ms for three timeouts: every read restarts the idle timer.
    for (let i = 0; i < 12; i++) {
      busy.write('version\r\n');
      await sleep(100);
    }
    assert.equal(busyClosed, false, 'an active connection must not time out');
    assert.equal(replies.split('VERSION ').length - 1, 12);
    await idleClosed;
  });
});
