import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inetChecksum } from '../../../src/core/inet-checksum.ts';
import {
  interfaceInfo,
  netlinkAvailable,
  openNetlinkSocket,
  openRawSocket,
  rawNetAvailable,
  sendFrame,
} from '../../../src/core/raw-net.ts';
import { echoRequest, NativePinger, parseEchoReply } from '../../../src/health/icmp-native.ts';
import { createIcmpProbe } from '../../../src/health/icmp-probe.ts';
import { gratuitousArp } from '../../../src/vrrp/arp-frame.ts';
import { NetlinkAddresses } from '../../../src/vrrp/netlink-addresses.ts';
import { encodeAddressRequest, parseAcks } from '../../../src/vrrp/rtnetlink.ts';

/*
 * The native addon itself (built by `npm install`). Raw sockets need root: as
 * another user these tests are skipped, except in CI where they must run.
 */

const isRoot = process.getuid?.() === 0;

function requireAddon(t: { skip(msg: string): void }): boolean {
  if (rawNetAvailable() && isRoot) return true;
  if (process.env.CI) assert.fail(rawNetAvailable() ? 'CI runs as root' : 'the native addon did not build');
  t.skip(rawNetAvailable() ? 'needs root' : 'native addon not built');
  return false;
}

describe('native addon', () => {
  it('loads (built at npm install)', (t) => {
    if (!rawNetAvailable() && !process.env.CI) {
      t.skip('native addon not built (CI fails here instead)');
      return;
    }
    assert.equal(rawNetAvailable(), true, 'the native addon did not build');
  });

  it('reports interface facts and null for a missing interface', (t) => {
    if (!requireAddon(t)) return;
    const lo = interfaceInfo('lo');
    assert.ok(lo !== null);
    assert.deepEqual([lo.up, lo.running, lo.ipv4, lo.mac], [true, true, '127.0.0.1', '00:00:00:00:00:00']);
    assert.equal(interfaceInfo('hastack-none0'), null);
  });

  it('sends and receives ICMP echo through a raw socket (native PING_CHECK)', async (t) => {
    if (!requireAddon(t)) return;
    const probe = createIcmpProbe();
    const result = await probe(
      {
        type: 'icmp',
        intervalMs: 1000,
        timeoutMs: 2000,
        retries: 0,
        retryDelayMs: 0,
        rise: 1,
        fall: 1,
        startDown: false,
        warmupMs: 0,
      },
      { host: '127.0.0.1', port: 0 },
      new AbortController().signal,
    );
    assert.equal(result.ok, true, result.message);
    // No `ping` process was involved: the stage message is ours.
    assert.match(result.message, /echo reply from 127.0.0.1/);
  });

  it('aborting a native ping settles it (no reply from a blackhole address)', async (t) => {
    if (!requireAddon(t)) return;
    const pinger = new NativePinger();
    const controller = new AbortController();
    const pending = pinger.ping('192.0.2.1', undefined, controller.signal);
    controller.abort(new Error('probe timeout'));
    await assert.rejects(pending).catch(() => {});
  });

  it('raw socket errors carry errno codes', (t) => {
    if (!requireAddon(t)) return;
    assert.throws(() => openRawSocket(112, { ifname: 'hastack-none0' }, () => {}), { code: 'ENODEV' });
    const s = openRawSocket(112, {}, () => {});
    assert.throws(() => s.send(Buffer.alloc(8), 'not-an-ip'), {
      code: 'HASTACK_NATIVE_ARG',
      message: /invalid destination/,
    });
    s.close();
    s.close();
    assert.equal(s.closed, true);
  });

  it('netlink: the kernel acks address requests (refusals only, so nothing on this host changes)', async (t) => {
    if (!requireAddon(t)) return;
    assert.equal(netlinkAvailable(), true);
    const socket = openNetlinkSocket(0, 0, () => {});
    // Removing an address lo does not have: refused with EADDRNOTAVAIL, acked inside the send.
    socket.send(encodeAddressRequest('del', { ifindex: 1, address: '192.0.2.123', prefix: 32 }, 77));
    assert.deepEqual(
      socket
        .readNow()
        .flatMap((d) => parseAcks(d))
        .map((a) => [a.seq, a.code]),
      [[77, 'EADDRNOTAVAIL']],
    );
    socket.close();
    assert.equal(socket.closed, true);
    const nl = new NetlinkAddresses();
    await nl.remove([{ address: '192.0.2.123', prefix: 32, dev: 'lo' }]); // "already gone" is fine
    // A zero lifetime is invalid: the kernel refuses it before changing anything, with its reason.
    await assert.rejects(
      nl.add([{ address: '192.0.2.123', prefix: 32, dev: 'lo' }], { validLftSec: 0, preferredLftSec: 0 }),
      /EINVAL \(ipv4: address lifetime invalid\)/,
    );
    nl.close();
  });

  it('sends Ethernet frames through one kept packet socket, repeatedly', (t) => {
    if (!requireAddon(t)) return;
    const frame = gratuitousArp(new Uint8Array(6), 0x7f000001);
    for (let i = 0; i < 3; i++) sendFrame('lo', frame);
    assert.throws(() => sendFrame('hastack-none0', frame), { code: 'ENODEV' });
  });

  it('without the addon, requireRawNet throws HASTACK_NATIVE_UNAVAILABLE and says why', () => {
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        "import('./src/core/raw-net.ts').then(m => { try { m.requireRawNet(); } catch (e) { console.log(JSON.stringify([e.code, m.rawNetAvailable(), e.message])); } })",
      ],
      { env: { ...process.env, HASTACK_NATIVE_DISABLE: '1' }, encoding: 'utf8' },
    );
    const [code, available, message] = JSON.parse(run.stdout) as [string, boolean, string];
    assert.deepEqual([code, available], ['HASTACK_NATIVE_UNAVAILABLE', false]);
    assert.match(message, /disabled by HASTACK_NATIVE_DISABLE=1.*npm install/);
  });

  it('without the addon, ICMP checks fall back to the ping binary', async () => {
    // A stand-in `ping` first on PATH records its arguments: the probe must run it.
    const dir = await mkdtemp(join(tmpdir(), 'hastack-ping-'));
    try {
      const record = join(dir, 'args');
      await writeFile(join(dir, 'ping'), `#!/bin/sh\nprintf '%s\\n' "$*" > '${record}'\nexit 0\n`, {
        mode: 0o755,
      });
      const script = `
        import { createIcmpProbe } from './src/health/icmp-probe.ts';
        const spec = { type: 'icmp', intervalMs: 1000, timeoutMs: 2000, retries: 0, retryDelayMs: 0,
          rise: 1, fall: 1, startDown: false, warmupMs: 0 };
        const r = await createIcmpProbe()(spec, { host: '127.0.0.1', port: 0 }, new AbortController().signal);
        console.log(JSON.stringify(r));`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, HASTACK_NATIVE_DISABLE: '1', PATH: `${dir}:${process.env.PATH ?? ''}` },
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { ok: boolean; message: string };
      assert.equal(result.ok, true, result.message);
      assert.equal((await readFile(record, 'utf8')).trim(), '-n -c 1 -W 2 -- 127.0.0.1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ICMP echo codec', () => {
  it('builds a request with a valid checksum and reads a reply', () => {
    const req = echoRequest(0x1234, 7);
    assert.deepEqual([req[0], req.readUInt16BE(4), req.readUInt16BE(6)], [8, 0x1234, 7]);
    const reply = Buffer.concat([Buffer.from('4500001c00000000400100007f0000017f000001', 'hex'), req]);
    reply[20] = 0; // echo reply
    reply.writeUInt16BE(0, 22);
    reply.writeUInt16BE(inetChecksum(reply, 20), 22);
    assert.deepEqual(parseEchoReply(reply), { src: '127.0.0.1', id: 0x1234, seq: 7 });
    assert.equal(parseEchoReply(reply.subarray(0, 24)), undefined);
    assert.equal(parseEchoReply(Buffer.from(req)), undefined);
  });
});
