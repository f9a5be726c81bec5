import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VirtualServerConfig } from '../../src/config/model.ts';
import { realServer, vsConfig } from '../unit/l4/fixtures.ts';
import {
  cleanupsAfterEach,
  eventually,
  type ManualHealth,
  startService,
  startUdpBackends,
  type UdpBackend,
  udpClient,
} from './l4-helpers.ts';

const cleanups = cleanupsAfterEach();
const backends = (...names: string[]) => startUdpBackends(cleanups, ...names);
const service = (config: VirtualServerConfig, health?: ManualHealth) =>
  startService(cleanups, config, health);

async function client() {
  const c = await udpClient();
  cleanups.push(() => c.close());
  return c;
}

function udpConfig(list: UdpBackend[], over: Partial<VirtualServerConfig> = {}): VirtualServerConfig {
  return vsConfig({
    protocol: 'udp',
    realServers: list.map((b) => realServer('127.0.0.1', b.port)),
    ...over,
  });
}

describe('L4 UDP virtual server', () => {
  it('relays requests and replies through one session per client', async () => {
    const [a] = await backends('A');
    const { vs, port } = await service(udpConfig([a!]));
    const c = await client();
    assert.equal(await c.ask(port, 'one'), 'A:one');
    assert.equal(await c.ask(port, 'two'), 'A:two');
    assert.equal(a!.peers.size, 1, 'both datagrams used the same upstream socket');
    const snap = vs.snapshot();
    assert.equal(snap.protocol, 'udp');
    assert.equal(snap.connections.udpSessions, 1);
    assert.equal(snap.connections.inactive, 1, 'a UDP session counts as an inactive connection, as in IPVS');
    assert.deepEqual(
      [snap.stats.conns, snap.stats.inPkts, snap.stats.outPkts],
      [1, 2, 2],
      'UDP packets are real datagrams',
    );
    assert.equal(snap.stats.inBytes, 6);
    assert.equal(snap.stats.outBytes, 10);
  });

  it('expires idle sessions', async () => {
    const [a] = await backends('A');
    const { vs, port } = await service(udpConfig([a!], { idleTimeoutMs: 100 }));
    const c = await client();
    assert.equal(await c.ask(port, 'x'), 'A:x');
    await eventually(() => vs.snapshot().connections.udpSessions === 0, 'session expiry');
    assert.equal(vs.snapshot().connections.inactive, 0);
    assert.equal(await c.ask(port, 'y'), 'A:y', 'a new session after expiry');
    assert.equal(a!.peers.size, 2);
  });

  it('spreads clients over real servers', async () => {
    const bs = await backends('A', 'B', 'C');
    const { port } = await service(udpConfig(bs, { scheduler: 'rr' }));
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await client();
      answers.push((await c.ask(port, 'q')).split(':')[0]!);
    }
    assert.deepEqual(answers.sort(), ['A', 'A', 'B', 'B', 'C', 'C']);
  });

  it('drops datagrams when no server can take them, and serves again when one is back', async () => {
    const [a] = await backends('A');
    const { vs, port, health } = await service(udpConfig([a!]));
    health.set(`web/127.0.0.1:${a!.port}`, false);
    const c = await client();
    c.socket.send('lost', port, '127.0.0.1');
    await eventually(() => vs.snapshot().noDestination === 1, 'datagram turned away');
    health.set(`web/127.0.0.1:${a!.port}`, true);
    assert.equal(await c.ask(port, 'back'), 'A:back');
  });
});
