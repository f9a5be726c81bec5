import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProxy, startUpstream, waitFor } from './http-helpers.ts';

/*
 * Response buffering for slow clients, observed through the proxy's counters:
 * past buffer_size the response really goes to a temp file (and the upstream
 * connection is free at once); past max_temp_file_size the upstream is paused
 * and then read at the client's pace, and the response still arrives whole.
 */

const PIECE = 1024 * 1024;

/** The n-th MiB of a test body: every byte n mod 251 (so a misplaced piece changes the hash). */
function piece(n: number): Buffer {
  return Buffer.alloc(PIECE, n % 251);
}

function bodyHash(pieces: number): string {
  const h = createHash('sha256');
  for (let i = 0; i < pieces; i++) h.update(piece(i));
  return h.digest('hex');
}

/** An upstream that writes `pieces` MiB with backpressure and counts what its socket took. */
async function pacedUpstream(pieces: number) {
  const progress = { sent: 0, finished: false };
  const up = await startUpstream('big', (_req, res) => {
    res.writeHead(200, { 'content-length': String(pieces * PIECE) });
    let n = 0;
    const pump = () => {
      while (n < pieces) {
        const ok = res.write(piece(n++), () => (progress.sent += PIECE));
        if (!ok) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    res.on('finish', () => (progress.finished = true));
    pump();
  });
  return { up, progress };
}

/** A client that sends one GET, reads the first bytes, then stops reading until `readAll()`. */
function slowClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let pending: Buffer = Buffer.alloc(0);
  socket.once('data', (first: Buffer) => {
    socket.pause();
    pending = first;
  });
  socket.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
  return {
    socket,
    /** Reads the rest; resolves with the body's length and sha256 once `size` body bytes came. */
    readAll(size: number): Promise<{ length: number; sha: string }> {
      return new Promise((resolve) => {
        const hash = createHash('sha256');
        let got = 0;
        let headDone = false;
        let head: Buffer = Buffer.alloc(0);
        const take = (c: Buffer) => {
          let chunk = c;
          if (!headDone) {
            head = Buffer.concat([head, chunk]);
            const i = head.indexOf('\r\n\r\n');
            if (i < 0) return;
            headDone = true;
            chunk = head.subarray(i + 4);
          }
          hash.update(chunk);
          got += chunk.length;
          if (got >= size) resolve({ length: got, sha: hash.digest('hex') });
        };
        const first = pending;
        pending = Buffer.alloc(0);
        take(first);
        socket.on('data', take);
        socket.resume();
      });
    },
  };
}

describe('http buffering: temp files', () => {
  it('spills past buffer_size to a temp file and frees the upstream at once', async () => {
    const pieces = 8;
    const { up, progress } = await pacedUpstream(pieces);
    const p = await startProxy({
      listeners: [{ name: 'front', listen: '127.0.0.1:0', buffer_size: '64k', routes: [{ pool: 'p' }] }],
      pools: { p: { servers: [{ address: up.address }] } },
    });
    const client = slowClient(p.port);
    try {
      await waitFor(() => progress.finished, 10_000, 'the upstream to finish sending');
      const snap = () => p.service.snapshot()!;
      await waitFor(() => snap().pools[0]!.servers[0]!.idle === 1, 5000, 'the upstream connection idle');
      const stats = snap().listeners[0]!.stats;
      assert.equal(stats.spilledResponses, 1);
      assert.ok(stats.spilledBytes > 0, 'bytes went to the temp file');
      assert.ok(stats.spilledBytes <= pieces * PIECE);
      assert.equal(stats.spillLimitReached, 0);
      assert.equal(snap().listeners[0]!.routes[0]!.stats.responses[2], 0, 'the response is not out yet');
      const got = await client.readAll(pieces * PIECE);
      assert.deepEqual(got, { length: pieces * PIECE, sha: bodyHash(pieces) });
      await waitFor(
        () => snap().listeners[0]!.routes[0]!.stats.responses[2] === 1,
        5000,
        'the response done',
      );
      const after = snap().listeners[0]!.stats;
      assert.equal(after.spilledResponses, 1, 'one response, one temp file');
      assert.equal(after.spilledBytes, stats.spilledBytes, 'nothing spilled after the upstream finished');
    } finally {
      client.socket.destroy();
      await p.stop();
      await up.close();
    }
  });

  it('past max_temp_file_size pauses the upstream; the response still arrives whole', async () => {
    // Larger than every kernel socket buffer on the way (client and upstream side), so
    // the upstream can only finish once the client reads.
    const pieces = 48;
    const maxTemp = 256 * 1024;
    const { up, progress } = await pacedUpstream(pieces);
    const p = await startProxy({
      listeners: [
        {
          name: 'front',
          listen: '127.0.0.1:0',
          buffer_size: '64k',
          max_temp_file_size: '256k',
          routes: [{ pool: 'p' }],
        },
      ],
      pools: { p: { servers: [{ address: up.address }] } },
    });
    const client = slowClient(p.port);
    const stats = () => p.service.snapshot()!.listeners[0]!.stats;
    try {
      await waitFor(() => stats().spillLimitReached === 1, 10_000, 'the temp file to fill up');
      // The client still reads nothing: the upstream stays paused and the file does not grow.
      await sleep(500);
      const held = stats();
      assert.equal(held.spilledResponses, 1);
      assert.equal(held.spillLimitReached, 1);
      // At most one upstream read (16 KiB) past the limit.
      assert.ok(held.spilledBytes <= maxTemp + 16 * 1024, `spilled ${held.spilledBytes}`);
      assert.equal(progress.finished, false, 'the upstream waits for the client');
      assert.ok(progress.sent < pieces * PIECE);
      assert.equal(p.service.snapshot()!.pools[0]!.servers[0]!.active, 1);
      const got = await client.readAll(pieces * PIECE);
      assert.deepEqual(got, { length: pieces * PIECE, sha: bodyHash(pieces) });
      await waitFor(() => progress.finished, 5000, 'the upstream to finish');
      // Each later spill stays under the limit too (the file is per response and only shrinks by reading).
      const end = stats();
      assert.equal(end.spilledResponses, 1);
      assert.ok(end.spilledBytes <= maxTemp + 16 * 1024, `spilled ${end.spilledBytes}`);
    } finally {
      client.socket.destroy();
      await p.stop();
      await up.close();
    }
  });
});
