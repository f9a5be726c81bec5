import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRawSocket, type RawSocket, rawNetAvailable } from '../../../src/core/raw-net.ts';

/*
 * The addon's receive path: a reader thread per socket waits in poll() and wakes
 * the event loop (a Node-API thread-safe function), which reads. These tests check
 * what that must keep: every datagram, in order; nothing after close, even a close
 * from inside the callback; no thread, fd or event-loop reference left behind by
 * close, by process exit or by a worker's end. (Like Node's own sockets, an open
 * socket is not garbage: its callback is held until close.)
 */

/** An IP protocol number reserved for experiments (RFC 3692): nothing else on the host uses it. */
const PROTO = 253;
const RAW_NET = new URL('../../../src/core/raw-net.ts', import.meta.url).href;

function requireAddon(t: { skip(msg: string): void }): boolean {
  if (rawNetAvailable() && process.getuid?.() === 0) return true;
  if (process.env.CI) assert.fail(rawNetAvailable() ? 'CI runs as root' : 'the native addon did not build');
  t.skip(rawNetAvailable() ? 'needs root' : 'native addon not built');
  return false;
}

/** A receiver for datagrams that carry this test's tag (raw sockets see every protocol-253 packet). */
function taggedReceiver(onSeq: (seq: number, socket: RawSocket) => void): { socket: RawSocket; tag: Buffer } {
  const tag = randomBytes(8);
  const socket = openRawSocket(PROTO, {}, (err, packet) => {
    assert.equal(err, null);
    const ihl = (packet![0]! & 0x0f) * 4;
    const payload = packet!.subarray(ihl);
    if (payload.length === 12 && payload.subarray(0, 8).equals(tag)) onSeq(payload.readUInt32BE(8), socket);
  });
  return { socket, tag };
}

function datagram(tag: Buffer, seq: number): Buffer {
  const b = Buffer.alloc(12);
  tag.copy(b);
  b.writeUInt32BE(seq, 8);
  return b;
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(5);
}

/** Runs an ES module script in a fresh node; returns its exit status and output. */
function runScript(script: string, args: string[] = []) {
  return spawnSync(process.execPath, [...args, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('native addon: the socket reader thread', () => {
  it('delivers a burst larger than one wake-up reads (64), every datagram in order', async (t) => {
    if (!requireAddon(t)) return;
    const seen: number[] = [];
    const { socket, tag } = taggedReceiver((seq) => seen.push(seq));
    const sender = openRawSocket(PROTO, {}, () => {});
    try {
      for (let round = 0; round < 3; round++) {
        // 150 at once: more than one wake-up reads, well under the default receive buffer.
        for (let i = 0; i < 150; i++) sender.send(datagram(tag, round * 150 + i), '127.0.0.1');
        await until(() => seen.length === (round + 1) * 150, 5_000);
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 450 }, (_, i) => i),
      );
    } finally {
      socket.close();
      sender.close();
    }
  });

  it('a close from inside the callback stops delivery at once, and later sockets still work', async (t) => {
    if (!requireAddon(t)) return;
    const seen: number[] = [];
    const first = taggedReceiver((seq, socket) => {
      seen.push(seq);
      socket.close();
    });
    const sender = openRawSocket(PROTO, {}, () => {});
    try {
      for (let i = 0; i < 20; i++) sender.send(datagram(first.tag, i), '127.0.0.1');
      await until(() => seen.length > 0, 5_000);
      await sleep(100);
      assert.deepEqual(seen, [0]);
      assert.equal(first.socket.closed, true);
      const again: number[] = [];
      const second = taggedReceiver((seq) => again.push(seq));
      sender.send(datagram(second.tag, 7), '127.0.0.1');
      await until(() => again.length > 0, 5_000);
      second.socket.close();
      assert.deepEqual(again, [7]);
    } finally {
      sender.close();
    }
  });

  it('close ends the thread and the fds; open sockets do not keep the process alive', (t) => {
    if (!requireAddon(t)) return;
    const script = `
      import { readdirSync } from 'node:fs';
      import { openRawSocket, openNetlinkSocket } from ${JSON.stringify(RAW_NET)};
      const count = (dir) => readdirSync(dir).length;
      const before = [count('/proc/self/task'), count('/proc/self/fd')];
      for (let i = 0; i < 50; i++) {
        openRawSocket(${PROTO}, {}, () => {}).close();
        openNetlinkSocket(0, 0, () => {}).close();
      }
      const afterClose = [count('/proc/self/task'), count('/proc/self/fd')];
      // Left open on purpose: the process must still end when its work is done.
      globalThis.kept = [openRawSocket(${PROTO}, {}, () => {}), openNetlinkSocket(0, 1, () => {})];
      const open = [count('/proc/self/task'), count('/proc/self/fd')];
      console.log(JSON.stringify({ before, afterClose, open }));`;
    const run = runScript(script);
    assert.equal(run.status, 0, run.stderr);
    const r = JSON.parse(run.stdout) as Record<'before' | 'afterClose' | 'open', [number, number]>;
    assert.deepEqual(r.afterClose, r.before, 'threads and fds after 100 open/close pairs');
    // Each open socket: one reader thread, its fd and its wake-up eventfd.
    assert.deepEqual(r.open, [r.before[0] + 2, r.before[1] + 4]);
  });

  it('a worker that ends with sockets open (terminated mid-receive) leaves the process healthy', (t) => {
    if (!requireAddon(t)) return;
    const script = `
      import { Worker } from 'node:worker_threads';
      import { readdirSync } from 'node:fs';
      import { openRawSocket } from ${JSON.stringify(RAW_NET)};
      const count = () => readdirSync('/proc/self/task').length;
      const code = \`
        const { openRawSocket } = await import(${JSON.stringify(RAW_NET)});
        const { parentPort } = await import('node:worker_threads');
        let n = 0;
        globalThis.s = openRawSocket(${PROTO}, {}, () => { if (++n === 1) parentPort.postMessage('receiving'); });
        setInterval(() => {}, 1000);
        parentPort.postMessage('open');\`;
      const sender = openRawSocket(${PROTO}, {}, () => {});
      const baseline = count();
      for (let round = 0; round < 5; round++) {
        const w = new Worker(code, { eval: true });
        await new Promise((resolve) => w.once('message', resolve));
        const flood = setInterval(() => { for (let i = 0; i < 20; i++) sender.send(Buffer.alloc(12), '127.0.0.1'); }, 1);
        await new Promise((resolve) => w.once('message', resolve));
        await w.terminate();
        clearInterval(flood);
      }
      sender.close();
      await new Promise((r) => setTimeout(r, 100));
      console.log(JSON.stringify({ baseline, after: count() }));`;
    const run = runScript(script);
    assert.equal(run.status, 0, run.stderr);
    const r = JSON.parse(run.stdout) as { baseline: number; after: number };
    // A worker's own threads may linger a moment; its socket readers must not pile up.
    assert.ok(r.after <= r.baseline, `threads: ${r.baseline} before the workers, ${r.after} after`);
  });
});
