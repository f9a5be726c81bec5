import assert from 'node:assert/strict';
import { once } from 'node:events';
import type net from 'node:net';
import { test } from 'node:test';
import { tcpProbe } from '../../../src/health/tcp-probe.ts';
import { closedPort, never, startBlackholeListener, startTcpServer, tcpSpec } from './helpers.ts';

test('tcp: up when the connection completes, and the probe closes its socket', async () => {
  let peer: net.Socket | undefined;
  const server = await startTcpServer((socket) => {
    peer = socket;
  });
  try {
    const result = await tcpProbe(tcpSpec(), { host: '127.0.0.1', port: server.port }, never);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.code, undefined);
    assert.ok(result.durationMs >= 0);
    if (peer === undefined) await once(server.server, 'connection');
    // The probe hangs up by itself: the server sees the end of the stream.
    await once(peer!.resume(), 'close');
  } finally {
    await server.close();
  }
});

test('tcp: refused connection is down with ECONNREFUSED', async () => {
  const port = await closedPort();
  const result = await tcpProbe(tcpSpec(), { host: '127.0.0.1', port }, never);
  assert.equal(result.ok, false);
  assert.equal(result.code, 'ECONNREFUSED');
  assert.match(result.message, /connect/);
});

test('tcp: a listener that never accepts times out', async () => {
  const blackhole = await startBlackholeListener();
  try {
    const result = await tcpProbe(
      tcpSpec({ timeoutMs: 300 }),
      { host: '127.0.0.1', port: blackhole.port },
      never,
    );
    assert.equal(result.ok, false);
    assert.equal(result.code, 'HASTACK_CHECK_TIMEOUT');
    assert.match(result.message, /connect/);
  } finally {
    await blackhole.close();
  }
});

test('tcp: connectHost/connectPort override the target, bindHost/bindPort set the source', async () => {
  let remote: { address?: string; port?: number } = {};
  const server = await startTcpServer((socket) => {
    remote = { address: socket.remoteAddress, port: socket.remotePort };
  });
  const sourcePort = await closedPort();
  try {
    const spec = tcpSpec({
      connectHost: '127.0.0.1',
      connectPort: server.port,
      bindHost: '127.0.0.1',
      bindPort: sourcePort,
    });
    const result = await tcpProbe(spec, { host: '192.0.2.1', port: 1 }, never);
    assert.equal(result.ok, true, result.message);
    if (remote.port === undefined) await once(server.server, 'connection');
    assert.equal(remote.address, '127.0.0.1');
    assert.equal(remote.port, sourcePort);
  } finally {
    await server.close();
  }
});

test('tcp: an aborted signal settles the probe as aborted', async () => {
  const blackhole = await startBlackholeListener();
  try {
    const controller = new AbortController();
    const pending = tcpProbe(
      tcpSpec({ timeoutMs: 10_000 }),
      { host: '127.0.0.1', port: blackhole.port },
      controller.signal,
    );
    controller.abort();
    const result = await pending;
    assert.equal(result.ok, false);
    assert.equal(result.code, 'HASTACK_CHECK_ABORTED');
  } finally {
    await blackhole.close();
  }
});

test('tcp: invalid port is a clear failure, not a crash', async () => {
  const result = await tcpProbe(tcpSpec(), { host: '127.0.0.1', port: 70_000 }, never);
  assert.equal(result.ok, false);
  assert.equal(result.code, 'HASTACK_CHECK_INVALID');
});
