import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type KeepalivedProcess, type LabProcess, VrrpLab } from '../../src/vrrp/lab/lab.ts';
import { hastackYaml, keepalivedConf, requireLab, VIP, waitForState } from './vrrp-helpers.ts';

/*
 * hastack and keepalived 2.2.x in one VRID, VRRPv2 and VRRPv3, both ways: the
 * elections agree, and each side takes over when the other is killed (-9) and
 * gives the VIP back when it returns (preemption).
 */

let lab: VrrpLab | undefined;

afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
});

type Side = 'hastack' | 'keepalived';

async function start(
  l: VrrpLab,
  side: Side,
  node: 'n1' | 'n2',
  priority: number,
  version: 2 | 3,
  label: string,
) {
  const options = { priority, version };
  if (side === 'hastack') {
    const p = await l.startHastack(node, hastackYaml(l, node, options), label);
    return {
      kill9: async () => {
        p.kill('SIGKILL');
        await p.exited;
      },
      process: p as LabProcess,
    };
  }
  const k: KeepalivedProcess = await l.startKeepalived(node, keepalivedConf(l, node, options), label);
  return { kill9: () => k.kill9(), process: k.process };
}

for (const version of [2, 3] as const) {
  for (const [masterSide, backupSide] of [
    ['keepalived', 'hastack'],
    ['hastack', 'keepalived'],
  ] as const) {
    describe(`interop VRRPv${version}: ${masterSide} master, ${backupSide} backup`, () => {
      it('elect the same master, take over on kill -9, give the VIP back on return', async (t) => {
        if (!(await requireLab(t, true))) return;
        const l = await VrrpLab.create(2);
        lab = l;
        const slow = version === 2 ? 20_000 : 15_000;
        const master = await start(l, masterSide, 'n1', 150, version, 'n1-a');
        await start(l, backupSide, 'n2', 100, version, 'n2-a');
        await waitForState(l, 'n1', 'MASTER', slow);
        await waitForState(l, 'n2', 'BACKUP', slow);
        await l.waitForHolder(VIP, 'n1', slow);
        assert.ok(await l.ping('c', VIP));
        // Backups stay backups while the master advertises (checked over a few intervals).
        await new Promise((r) => setTimeout(r, version === 2 ? 3000 : 1000));
        assert.equal(await l.lastState('n2'), 'BACKUP');
        await master.kill9();
        await waitForState(l, 'n2', 'MASTER', slow);
        await l.waitFor('n2 holds the VIP', async () => (await l.holders(VIP)).includes('n2'), slow);
        const n2Mac = await l.macOf('n2');
        await l.waitFor(
          'the client ARP entry on n2',
          async () => (await l.neighbour('c', VIP)) === n2Mac,
          slow,
        );
        // The old master returns (removing its stale VIP at start) and preempts.
        await start(l, masterSide, 'n1', 150, version, 'n1-b');
        await waitForState(l, 'n2', 'BACKUP', slow);
        await l.waitForHolder(VIP, 'n1', slow);
        await waitForState(l, 'n1', 'MASTER', slow);
      });
    });
  }
}
