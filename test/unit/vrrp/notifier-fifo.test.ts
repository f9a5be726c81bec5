import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { silentLogger } from '../../../src/core/logger.ts';
import { Notifier } from '../../../src/vrrp/notifier.ts';

/*
 * The notify FIFO writer against a real FIFO (no root needed): a reader opened
 * like a keepalived FIFO consumer sees keepalived's exact lines, in order.
 */

/** Reads what is in the FIFO now (non-blocking: EAGAIN or no writer ends the read). */
function readAvailable(fd: number): string {
  const buf = Buffer.alloc(4096);
  let text = '';
  for (;;) {
    let n = 0;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return text;
      throw err;
    }
    if (n === 0) return text;
    text += buf.toString('utf8', 0, n);
  }
}

async function readUntil(fd: number, length: number): Promise<string> {
  let text = '';
  for (let i = 0; i < 100 && text.length < length; i++) {
    await new Promise((r) => setTimeout(r, 10)); // in case the reader is slower than the writes
    text += readAvailable(fd);
  }
  return text;
}

/** A Notifier writing to a FIFO made here, and a non-blocking reader of it; both closed after the test. */
async function notifierOnFifo(t: TestContext): Promise<{ notifier: Notifier; reader: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'hastack-fifo-'));
  const notifier = new Notifier(silentLogger());
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'vrrp.fifo');
  assert.equal(spawnSync('mkfifo', [path]).status, 0);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  t.after(() => closeSync(reader));
  notifier.openFifo(path);
  t.after(() => notifier.closeFifo());
  return { notifier, reader };
}

describe('notify_fifo writer', () => {
  it('writes keepalived lines to an existing FIFO, in order', async (t) => {
    const { notifier, reader } = await notifierOnFifo(t);
    notifier.notify({}, 'INSTANCE', 'VI_1', 'BACKUP', 100);
    notifier.notify({}, 'INSTANCE', 'VI_1', 'MASTER', 100);
    notifier.notify({}, 'GROUP', 'G1', 'MASTER', 0);
    notifier.notify({}, 'INSTANCE', 'VI_1', 'FAULT', 100);
    notifier.notify({}, 'INSTANCE', 'VI_1', 'STOP', 100);
    const expected =
      'INSTANCE "VI_1" BACKUP 100\n' +
      'INSTANCE "VI_1" MASTER 100\n' +
      'GROUP "G1" MASTER\n' +
      'INSTANCE "VI_1" FAULT 100\n' +
      'INSTANCE "VI_1" STOP 100\n';
    assert.equal(await readUntil(reader, expected.length), expected);
    assert.equal(notifier.fifoDropped, 0);
  });

  it('drops and counts lines nobody reads once the pipe is full, keeping the order of what it wrote', async (t) => {
    const { notifier, reader } = await notifierOnFifo(t);
    // A pipe holds 64 KiB: 5000 lines of ~27 bytes do not fit.
    for (let i = 0; i < 5000; i++) notifier.notify({}, 'INSTANCE', `VI_${i}`, 'MASTER', 100);
    assert.ok(notifier.fifoDropped > 0, 'a full pipe drops lines instead of blocking');
    const text = readAvailable(reader);
    const lines = text.split('\n').filter((l) => l !== '');
    assert.equal(lines.length + notifier.fifoDropped, 5000, 'every line written whole or counted');
    for (const [i, l] of lines.entries()) assert.equal(l, `INSTANCE "VI_${i}" MASTER 100`);
  });

  it('creates the FIFO when it is missing and refuses a path that is not one', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hastack-fifo-'));
    const notifier = new Notifier(silentLogger());
    t.after(() => rm(dir, { recursive: true, force: true }));
    t.after(() => notifier.closeFifo());
    const path = join(dir, 'made.fifo');
    notifier.openFifo(path);
    assert.ok(statSync(path).isFIFO());
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    t.after(() => closeSync(reader));
    notifier.notify({}, 'INSTANCE', 'VI 2', 'MASTER', 254);
    assert.equal(await readUntil(reader, 28), 'INSTANCE "VI 2" MASTER 254\n');
    notifier.closeFifo();
    const plain = join(dir, 'plain');
    closeSync(openSync(plain, 'w'));
    assert.throws(() => notifier.openFifo(plain), { code: 'HASTACK_VRRP_FIFO', message: /is not a FIFO/ });
  });
});
