import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, it, type TestContext } from 'node:test';
import { run, VrrpLab } from '../../src/vrrp/lab/lab.ts';
import { hastackYaml, nodeStatus, requireLab, VIP, waitForState } from './vrrp-helpers.ts';

/*
 * hastack VRRP in the namespace lab (root): every test builds its own lab (unique
 * names) and tears it down. Nodes are real `hastack up` processes. Timings are
 * waited for, never asserted (except ordering facts recorded by the nodes).
 */

let lab: VrrpLab | undefined;

afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
});

async function pair(
  p1 = 150,
  p2 = 100,
  extra1 = '',
  extra2 = '',
  beforeStart?: (l: VrrpLab) => Promise<string>,
) {
  const l = await VrrpLab.create(2);
  lab = l;
  // `beforeStart` prepares the lab and returns section-level keys for n2.
  const globals2 = (await beforeStart?.(l)) ?? '';
  const n1 = await l.startHastack('n1', hastackYaml(l, 'n1', { priority: p1, extra: extra1, admin: true }));
  const n2 = await l.startHastack(
    'n2',
    hastackYaml(l, 'n2', { priority: p2, extra: extra2, admin: true, globals: globals2 }),
  );
  return { l, n1, n2 };
}

/**
 * A FIFO reader that never blocks: opened O_RDONLY|O_NONBLOCK (no writer needed),
 * read by polling until the text is there.
 */
function fifoReader(path: string) {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let text = '';
  const buf = Buffer.alloc(4096);
  const drain = () => {
    for (;;) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw err;
      }
      if (n === 0) return; // no writer yet
      text += buf.toString('utf8', 0, n);
    }
  };
  return {
    /** Everything read so far. */
    read(): string {
      drain();
      return text;
    },
    close: () => closeSync(fd),
  };
}

/** One VRRP advert captured on the client's wire: its address count and addresses. */
async function captureAdvert(l: VrrpLab, from: string): Promise<{ count: number; addresses: string[] }> {
  const r = await l.exec('c', [
    'timeout',
    '5',
    'tcpdump',
    '-n',
    '-c',
    '1',
    '-x',
    '-i',
    'eth0',
    `ip proto 112 and src host ${from}`,
  ]);
  assert.equal(r.code, 0, `tcpdump: ${r.stderr}`);
  const hex = r.stdout
    .split('\n')
    .filter((line) => /^\s+0x[0-9a-f]+:/.test(line))
    .map((line) => line.replace(/^\s+0x[0-9a-f]+:\s+/, '').replace(/\s/g, ''))
    .join('');
  const packet = Buffer.from(hex, 'hex');
  const vrrp = packet.subarray((packet[0]! & 0x0f) * 4);
  const count = vrrp[3]!;
  const addresses = Array.from({ length: count }, (_, i) =>
    [...vrrp.subarray(8 + 4 * i, 12 + 4 * i)].join('.'),
  );
  return { count, addresses };
}

async function requireTcpdump(t: TestContext): Promise<boolean> {
  if ((await run('tcpdump', ['--version'])).code === 0) return true;
  if (process.env.CI) assert.fail('tcpdump is not installed');
  t.skip('tcpdump is not installed');
  return false;
}

describe('VRRP failover in namespaces (hastack pair)', () => {
  it('kill -9 of the master: the backup takes the VIP and the client ARP entry moves to it', async (t) => {
    if (!(await requireLab(t))) return;
    // n2 writes keepalived's notify FIFO lines into a FIFO made here (hastack opens an existing one).
    let fifo: ReturnType<typeof fifoReader> | undefined;
    t.after(() => fifo?.close());
    const { l, n1 } = await pair(150, 100, '', '', async (lab) => {
      const path = join(lab.dir, 'n2.fifo');
      assert.equal((await run('mkfifo', [path])).code, 0);
      fifo = fifoReader(path);
      return `  notify_fifo: ${path}\n`;
    });
    await l.waitForHolder(VIP, 'n1');
    await waitForState(l, 'n2', 'BACKUP');
    assert.ok(await l.ping('c', VIP), 'the client reaches the VIP');
    assert.equal(await l.neighbour('c', VIP), await l.macOf('n1'));
    // n2 starts in BACKUP. On a loaded machine it may also have gone MASTER for a moment
    // before n1's first advert reached it (both start together), then back to BACKUP.
    const BACKUP = 'INSTANCE "VI_1" BACKUP 100\n';
    const MASTER = 'INSTANCE "VI_1" MASTER 100\n';
    await l.waitFor('n2’s BACKUP line', async () => fifo!.read().endsWith(BACKUP), 5000);
    const settled = fifo!.read();
    assert.match(
      settled,
      /^(INSTANCE "VI_1" BACKUP 100\nINSTANCE "VI_1" MASTER 100\n)*INSTANCE "VI_1" BACKUP 100\n$/,
    );
    if (settled !== BACKUP) t.diagnostic(`n2 was MASTER for a moment at startup: ${JSON.stringify(settled)}`);
    n1.kill('SIGKILL');
    await n1.exited;
    await waitForState(l, 'n2', 'MASTER');
    await l.waitFor('n2 holds the VIP', async () => (await l.holders(VIP)).includes('n2'));
    const n2Mac = await l.macOf('n2');
    // The gratuitous ARP alone moves the entry (no new ARP request from the client).
    await l.waitFor('the client ARP entry on n2', async () => (await l.neighbour('c', VIP)) === n2Mac);
    assert.ok(await l.ping('c', VIP));
    const status = (await nodeStatus(l, 'n2')) as { services: { vrrp: { instances: { state: string }[] } } };
    assert.equal(status.services.vrrp.instances[0]!.state, 'MASTER');
    const expected = settled + MASTER;
    await l
      .waitFor('the FIFO lines', async () => fifo!.read().length >= expected.length, 5000)
      .catch(() => {});
    assert.equal(fifo!.read(), expected, "exactly keepalived's FIFO lines, in order");
  });

  it('virtual_ipaddress_excluded: installed by the master, not in its adverts, removed when it leaves MASTER', async (t) => {
    if (!(await requireLab(t)) || !(await requireTcpdump(t))) return;
    const EXCLUDED = '10.77.0.101';
    const extra = `      virtual_ipaddress_excluded: [${EXCLUDED}/24]\n`;
    const l = await VrrpLab.create(2);
    lab = l;
    await l.startHastack('n1', hastackYaml(l, 'n1', { priority: 100, extra, admin: true }));
    await waitForState(l, 'n1', 'MASTER');
    await l.waitForHolder(EXCLUDED, 'n1');
    assert.deepEqual(await l.holders(VIP), ['n1']);
    // On the wire: one address, the VIP only (keepalived: excluded addresses are not advertised).
    assert.deepEqual(await captureAdvert(l, l.addressOf('n1')), { count: 1, addresses: [VIP] });
    // A higher priority peer with the same settings takes over: n1 accepts its adverts (same
    // address count) and removes the excluded address with the VIP when it leaves MASTER.
    await l.startHastack('n2', hastackYaml(l, 'n2', { priority: 150, extra, admin: true }));
    await waitForState(l, 'n1', 'BACKUP');
    await l.waitFor('only n2 holds both addresses', async () => {
      const both = [...(await l.holders(VIP)), ...(await l.holders(EXCLUDED))];
      return both.length === 2 && both.every((h) => h === 'n2');
    });
    assert.deepEqual(await captureAdvert(l, l.addressOf('n2')), { count: 1, addresses: [VIP] });
    type Status = {
      services: {
        vrrp: {
          instances: {
            state: string;
            drops: Record<string, number>;
            counters: { advertsReceived: number };
          }[];
        };
      };
    };
    const n1 = ((await nodeStatus(l, 'n1')) as Status).services.vrrp.instances[0]!;
    assert.equal(n1.state, 'BACKUP');
    assert.ok(n1.counters.advertsReceived > 0);
    assert.deepEqual(n1.drops, {}, 'no advert was dropped (an address count mismatch would be)');
  });

  it('link down on the master: it goes FAULT and drops the VIP, the backup takes over; link up: it preempts back', async (t) => {
    if (!(await requireLab(t))) return;
    const { l } = await pair();
    await l.waitForHolder(VIP, 'n1');
    await waitForState(l, 'n2', 'BACKUP');
    assert.ok(await l.ping('c', VIP), 'the client reaches the VIP');
    const n1Mac = await l.macOf('n1');
    assert.equal(await l.neighbour('c', VIP), n1Mac);
    await l.exec('n1', ['ip', 'link', 'set', 'eth0', 'down']);
    await waitForState(l, 'n1', 'FAULT');
    await l.waitForHolder(VIP, 'n2');
    // n1 cannot say anything with its link down: n2's gratuitous ARPs alone move the client.
    const n2Mac = await l.macOf('n2');
    await l.waitFor('the client ARP entry on n2', async () => (await l.neighbour('c', VIP)) === n2Mac);
    assert.ok(await l.ping('c', VIP));
    await l.exec('n1', ['ip', 'link', 'set', 'eth0', 'up']);
    await waitForState(l, 'n1', 'MASTER');
    await waitForState(l, 'n2', 'BACKUP');
    await l.waitForHolder(VIP, 'n1');
    await l.waitFor('the client ARP entry back on n1', async () => (await l.neighbour('c', VIP)) === n1Mac);
  });

  it('graceful stop: the master sends priority 0, the backup takes over and counts it', async (t) => {
    if (!(await requireLab(t))) return;
    const { l, n1 } = await pair(150, 100);
    await l.waitForHolder(VIP, 'n1');
    await waitForState(l, 'n2', 'BACKUP');
    assert.ok(await l.ping('c', VIP), 'the client reaches the VIP');
    assert.equal(await l.neighbour('c', VIP), await l.macOf('n1'));
    await n1.stop('SIGTERM');
    assert.equal(await n1.exited, 0);
    assert.equal(await l.lastState('n1'), 'STOP');
    assert.deepEqual(await l.holders(VIP), [], 'the stopped master removed its VIP');
    await l.waitForHolder(VIP, 'n2');
    const n2Mac = await l.macOf('n2');
    await l.waitFor('the client ARP entry on n2', async () => (await l.neighbour('c', VIP)) === n2Mac);
    assert.ok(await l.ping('c', VIP));
    const status = (await nodeStatus(l, 'n2')) as {
      services: { vrrp: { instances: { counters: { priorityZeroReceived: number } }[] } };
    };
    assert.equal(status.services.vrrp.instances[0]!.counters.priorityZeroReceived, 1);
  });

  it('preemption: a returning higher priority node takes the VIP back; nopreempt keeps the current master', async (t) => {
    if (!(await requireLab(t))) return;
    const l = await VrrpLab.create(3);
    lab = l;
    // n2 (100) alone first: it becomes master.
    await l.startHastack('n2', hastackYaml(l, 'n2', { priority: 100 }));
    await l.waitForHolder(VIP, 'n2');
    // n3 (200, nopreempt) joins: it must stay BACKUP behind the lower priority master.
    await l.startHastack('n3', hastackYaml(l, 'n3', { priority: 200, extra: '      nopreempt: true\n' }));
    await waitForState(l, 'n3', 'BACKUP');
    // n1 (150, preempt) joins: it takes over from n2; n3 then sees n1 at 150 and still does not preempt.
    await l.startHastack('n1', hastackYaml(l, 'n1', { priority: 150 }));
    await l.waitForHolder(VIP, 'n1');
    await waitForState(l, 'n2', 'BACKUP');
    // Several Master_Down_Intervals (~0.7 s each) later n3 is still BACKUP.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await l.lastState('n3'), 'BACKUP');
    assert.deepEqual(await l.holders(VIP), ['n1']);
    const n3 = (await l.notifications('n3')).map((n) => n.text);
    assert.ok(!n3.some((s) => s.includes('MASTER')), n3.join('\n'));
  });

  it('preempt_delay: a higher priority node waits preempt_delay before taking over', async (t) => {
    if (!(await requireLab(t))) return;
    const l = await VrrpLab.create(2);
    lab = l;
    await l.startHastack('n2', hastackYaml(l, 'n2', { priority: 100 }));
    await l.waitForHolder(VIP, 'n2');
    await l.startHastack('n1', hastackYaml(l, 'n1', { priority: 150, extra: '      preempt_delay: 3s\n' }));
    await waitForState(l, 'n1', 'MASTER', 20_000);
    await l.waitForHolder(VIP, 'n1');
    const events = await l.notifications('n1');
    const backupAt = events.find((e) => e.text.includes('BACKUP'))!.atNs;
    const masterAt = events.find((e) => e.text.includes('MASTER'))!.atNs;
    // Recorded by n1 itself: BACKUP → MASTER took at least the preempt delay.
    assert.ok(masterAt - backupAt >= 3_000_000_000n, `${(masterAt - backupAt) / 1_000_000n} ms`);
  });

  it('track_script weight: a failing check lowers the master below the backup, recovery takes it back', async (t) => {
    if (!(await requireLab(t))) return;
    const l = await VrrpLab.create(2);
    lab = l;
    const flag = join(l.dir, 'n1.healthy');
    await writeFile(flag, 'ok');
    const globals = `  scripts:\n    - { name: chk, script: "test -f ${flag}", interval: 200ms, weight: -60, fall: 1, rise: 1 }\n`;
    await l.startHastack(
      'n1',
      hastackYaml(l, 'n1', { priority: 150, globals, extra: '      track_script: [chk]\n', admin: true }),
    );
    await l.startHastack('n2', hastackYaml(l, 'n2', { priority: 100 }));
    await l.waitForHolder(VIP, 'n1');
    await rm(flag);
    await l.waitForHolder(VIP, 'n2');
    await waitForState(l, 'n1', 'BACKUP');
    const status = (await nodeStatus(l, 'n1')) as {
      services: { vrrp: { instances: { priority: number; configuredPriority: number }[] } };
    };
    assert.deepEqual(
      [status.services.vrrp.instances[0]!.priority, status.services.vrrp.instances[0]!.configuredPriority],
      [90, 150],
    );
    await writeFile(flag, 'ok');
    await l.waitForHolder(VIP, 'n1');
  });

  it('sync group: a fault in one member moves every member of the group to the other node', async (t) => {
    if (!(await requireLab(t))) return;
    const l = await VrrpLab.create(2);
    lab = l;
    const flag = join(l.dir, 'n1.vi2');
    await writeFile(flag, 'ok');
    const node = (n: 'n1' | 'n2', priority: number, track: boolean) => `admin: false
shutdown_grace: 1s
vrrp:
  scripts:
    - { name: chk, script: "test -f ${flag}", interval: 200ms, fall: 1, rise: 1 }
  instances:
    - { name: VI_1, interface: eth0, virtual_router_id: 51, priority: ${priority}, version: 3, advert_int: 200ms,
        virtual_ipaddress: [10.77.0.100/24], notify: "${l.notifyCommand(n)}" }
    - { name: VI_2, interface: eth0, virtual_router_id: 52, priority: ${priority}, version: 3, advert_int: 200ms,
        virtual_ipaddress: [10.77.0.101/24], notify: "${l.notifyCommand(n)}"${track ? ', track_script: [chk]' : ''} }
  sync_groups:
    - { name: G1, group: [VI_1, VI_2], notify: "${l.notifyCommand(n)}" }
`;
    await l.startHastack('n1', node('n1', 150, true));
    await l.startHastack('n2', node('n2', 100, false));
    await l.waitForHolder('10.77.0.100', 'n1');
    await l.waitForHolder('10.77.0.101', 'n1');
    await rm(flag); // VI_2 on n1 fails: the whole group goes FAULT there
    await l.waitForHolder('10.77.0.100', 'n2');
    await l.waitForHolder('10.77.0.101', 'n2');
    await waitForState(l, 'n1', 'FAULT', 15_000, 'VI_1');
    const n1 = (await l.notifications('n1')).map((n) => n.text);
    assert.ok(n1.includes('GROUP G1 FAULT 0'), n1.join('\n'));
    await writeFile(flag, 'ok');
    await l.waitForHolder('10.77.0.100', 'n1');
    await l.waitForHolder('10.77.0.101', 'n1');
  });

  it('split brain heals: partitioned nodes both go MASTER, exactly one remains when the partition is removed', async (t) => {
    if (!(await requireLab(t))) return;
    const { l } = await pair();
    await l.waitForHolder(VIP, 'n1');
    await waitForState(l, 'n2', 'BACKUP');
    assert.ok(await l.ping('c', VIP), 'the client has an ARP entry for the VIP');
    // Isolated bridge ports cannot reach each other but still reach the client.
    for (const port of ['v-n1', 'v-n2'])
      await l.exec('br', ['bridge', 'link', 'set', 'dev', port, 'isolated', 'on']);
    await waitForState(l, 'n2', 'MASTER');
    assert.deepEqual(await l.holders(VIP), ['n1', 'n2'], 'split brain: both hold the VIP');
    const n2Mac = await l.macOf('n2');
    await l.waitFor(
      'the client follows n2 during the split',
      async () => (await l.neighbour('c', VIP)) === n2Mac,
    );
    for (const port of ['v-n1', 'v-n2'])
      await l.exec('br', ['bridge', 'link', 'set', 'dev', port, 'isolated', 'off']);
    await waitForState(l, 'n2', 'BACKUP');
    await l.waitForHolder(VIP, 'n1');
    // The winner's gratuitous ARP (lower priority advert heard) repairs the client's cache.
    const n1Mac = await l.macOf('n1');
    await l
      .waitFor('client ARP on n1', async () => (await l.neighbour('c', VIP)) === n1Mac)
      .catch(async (err) => {
        throw new Error(
          `${err.message}: client has ${await l.neighbour('c', VIP)}, n1 ${n1Mac}, n2 ${await l.macOf('n2')}, ` +
            `holders ${await l.holders(VIP)}\n${(await l.notifications('n1')).map((n) => n.text).join(', ')}`,
        );
      });
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await l.holders(VIP), ['n1'], 'still exactly one master');
  });

  it('use_vmac: the VIP lives on a macvlan with 00:00:5e:00:01:VRID, which the client keeps across failover', async (t) => {
    if (!(await requireLab(t))) return;
    const { l, n1 } = await pair(150, 100, '      use_vmac: true\n', '      use_vmac: true\n');
    await l.waitForHolder(VIP, 'n1');
    const addr = await l.exec('n1', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'vrrp.51']);
    assert.match(addr.stdout, /10\.77\.0\.100\/24/);
    assert.ok(await l.ping('c', VIP));
    assert.equal(await l.neighbour('c', VIP), '00:00:5e:00:01:33');
    n1.kill('SIGKILL');
    await l.waitFor('n2 holds the VIP', async () => (await l.holders(VIP)).includes('n2'));
    await waitForState(l, 'n2', 'MASTER');
    // The n1 namespace still holds its VMAC with the VIP (kill -9), so take its link down like a dead host.
    await l.exec('n1', ['ip', 'link', 'set', 'eth0', 'down']);
    await l.waitFor('client reaches the VIP through n2', () => l.ping('c', VIP));
    assert.equal(await l.neighbour('c', VIP), '00:00:5e:00:01:33');
  });

  it('unicast: unicast_src_ip and unicast_peer elect and fail over without multicast', async (t) => {
    if (!(await requireLab(t))) return;
    const uni = (self: string, peer: string) =>
      `      unicast_src_ip: ${self}\n      unicast_peer: [${peer}]\n`;
    const { l, n1 } = await pair(150, 100, uni('10.77.0.11', '10.77.0.12'), uni('10.77.0.12', '10.77.0.11'));
    await l.waitForHolder(VIP, 'n1');
    await waitForState(l, 'n2', 'BACKUP');
    n1.kill('SIGKILL');
    await waitForState(l, 'n2', 'MASTER');
  });
});
