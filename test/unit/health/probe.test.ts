import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probe, probeWithRetries, type Sleep, sleepWithSignal } from '../../../src/health/probe.ts';
import type { ProbeResult, Prober } from '../../../src/health/types.ts';
import { closedPort, httpSpec, miscSpec, never, startTcpServer, tcpSpec } from './helpers.ts';

const target = { host: '127.0.0.1', port: 1 };

/** A prober that answers from a script of ok/fail, counting calls. */
function scripted(outcomes: boolean[]): Prober & { calls: number } {
  const state = { calls: 0 };
  const prober: Prober = async () => {
    const ok = outcomes[state.calls++] ?? false;
    return { ok, message: ok ? 'fine' : `failure ${state.calls}`, durationMs: 1, ...(!ok && { code: 'X' }) };
  };
  return Object.defineProperty(prober, 'calls', { get: () => state.calls }) as Prober & { calls: number };
}

function recordingSleep(): Sleep & { waits: number[] } {
  const waits: number[] = [];
  const sleep: Sleep = async (ms) => {
    waits.push(ms);
  };
  return Object.assign(sleep, { waits });
}

test('probe dispatches on spec.type', async () => {
  const server = await startTcpServer(() => {});
  try {
    const tcp = await probe(tcpSpec(), { host: '127.0.0.1', port: server.port }, never);
    assert.equal(tcp.ok, true, tcp.message);
    const misc = await probe(miscSpec('exit 3', { dynamic: true }), target, never);
    assert.equal(misc.weight, 1);
    const http = await probe(
      httpSpec({ timeoutMs: 300 }),
      { host: '127.0.0.1', port: await closedPort() },
      never,
    );
    assert.equal(http.code, 'ECONNREFUSED');
  } finally {
    await server.close();
  }
});

test('retries: up to 1 + retries attempts, retryDelayMs apart, last result wins', async () => {
  const prober = scripted([false, false, false, false]);
  const sleep = recordingSleep();
  const result = await probeWithRetries(tcpSpec({ retries: 2, retryDelayMs: 750 }), target, never, sleep, {
    prober,
  });
  assert.equal(prober.calls, 3);
  assert.deepEqual(sleep.waits, [750, 750]);
  assert.equal(result.ok, false);
  assert.equal(result.attempts, 3);
  assert.equal(result.message, 'failure 3');
  assert.equal(result.code, 'X');
});

test('retries: stop at the first success', async () => {
  const prober = scripted([false, true, false]);
  const sleep = recordingSleep();
  const result = await probeWithRetries(tcpSpec({ retries: 5 }), target, never, sleep, { prober });
  assert.equal(result.ok, true);
  assert.equal(result.attempts, 2);
  assert.equal(sleep.waits.length, 1);
});

test('retries: no retries means one attempt and no sleep; the override wins over spec.retries', async () => {
  const once = scripted([false]);
  const sleep = recordingSleep();
  const a = await probeWithRetries(tcpSpec({ retries: 0 }), target, never, sleep, { prober: once });
  assert.equal(a.attempts, 1);
  const overridden = scripted([false, false, false]);
  const b = await probeWithRetries(tcpSpec({ retries: 2 }), target, never, sleep, {
    prober: overridden,
    retries: 0,
  });
  assert.equal(b.attempts, 1);
  assert.deepEqual(sleep.waits, []);
});

test('retries: an abort during the retry delay ends the probe as aborted', async () => {
  const controller = new AbortController();
  const prober = scripted([false, true]);
  const sleep: Sleep = async () => controller.abort();
  const result: ProbeResult = await probeWithRetries(
    tcpSpec({ retries: 3 }),
    target,
    controller.signal,
    sleep,
    {
      prober,
    },
  );
  assert.equal(result.code, 'HASTACK_CHECK_ABORTED');
  assert.equal(prober.calls, 1);
});

test('sleepWithSignal resolves early (never rejects) on abort', async () => {
  const controller = new AbortController();
  const pending = sleepWithSignal(60_000, controller.signal);
  controller.abort();
  await pending;
  await sleepWithSignal(1, never);
});
