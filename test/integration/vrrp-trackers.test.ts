import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { VrrpLab } from '../../src/vrrp/lab/lab.ts';
import { hastackYaml, nodeStatus, requireLab, VIP, waitForState } from './vrrp-helpers.ts';

/*
 * track_file and track_process in the namespace lab: real `hastack up` nodes, a
 * real file written as an operator would, a real process started and killed.
 */

let lab: VrrpLab | undefined;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await lab?.destroy();
  lab = undefined;
});

type VrrpStatus = {
  services: {
    vrrp: {
      instances: { priority: number; configuredPriority: number; faultReason?: string }[];
      files: { name: string; value: number }[];
      processes: { name: string; up: boolean; count: number; source: string }[];
    };
  };
};

describe('VRRP trackers in namespaces', () => {
  it('track_file weight 0 (a maintenance switch): non-zero is FAULT and the backup takes the VIP; 0 takes it back', async (t) => {
    if (!(await requireLab(t))) return;
    const l = await VrrpLab.create(2);
    lab = l;
    const file = join(l.dir, 'n1.maint');
    const globals = `  track_files:\n    - { name: maint, file: ${file}, weight: 0, init_file: 0 }\n`;
    await l.startHastack(
      'n1',
      hastackYaml(l, 'n1', { priority: 150, globals, extra: '      track_file: [maint]\n', admin: true }),
    );
    await l.startHastack('n2', hastackYaml(l, 'n2', { priority: 100 }));
    await l.waitForHolder(VIP, 'n1');
    await writeFile(file, '1\n');
    await waitForState(l, 'n1', 'FAULT');
    await l.waitForHolder(VIP, 'n2');
    const status = (await nodeStatus(l, 'n1')) as VrrpStatus;
    assert.match(status.services.vrrp.instances[0]!.faultReason ?? '', /file maint reads 1/);
    assert.deepEqual(
      status.services.vrrp.files.map((f) => [f.name, f.value]),
      [['maint', 1]],
    );
    await writeFile(file, '0\n');
    await l.waitForHolder(VIP, 'n1');
  });

  it('track_file with a weight: the value × weight moves the priority below the backup and back', async (t) => {
    if (!(await requireLab(t))) return;
    const l = await VrrpLab.create(2);
    lab = l;
    const file = join(l.dir, 'n1.drain');
    await writeFile(file, '0');
    const globals = `  track_files:\n    - { name: drain, file: ${file}, weight: -10 }\n`;
    await l.startHastack(
      'n1',
      hastackYaml(l, 'n1', { priority: 150, globals, extra: '      track_file: [drain]\n', admin: true }),
    );
    await l.startHastack('n2', hastackYaml(l, 'n2', { priority: 100 }));
    await l.waitForHolder(VIP, 'n1');
    await writeFile(file, '6'); // 150 − 60 = 90 < 100
    await l.waitForHolder(VIP, 'n2');
    await waitForState(l, 'n1', 'BACKUP');
    const status = (await nodeStatus(l, 'n1')) as VrrpStatus;
    assert.deepEqual(
      [status.services.vrrp.instances[0]!.priority, status.services.vrrp.instances[0]!.configuredPriority],
      [90, 150],
    );
    await writeFile(file, '2'); // 130 > 100: preempts back
    await l.waitForHolder(VIP, 'n1');
  });

  it('reload (SIGHUP): a track_file added to the running master applies; a missing directory is refused first', async (t) => {
    if (!(await requireLab(t))) return;
    const l = await VrrpLab.create(2);
    lab = l;
    const n1 = await l.startHastack('n1', hastackYaml(l, 'n1', { priority: 150 }));
    await l.startHastack('n2', hastackYaml(l, 'n2', { priority: 100 }));
    await l.waitForHolder(VIP, 'n1');
    const reload = async (file: string) => {
      const globals = `  track_files:\n    - { name: maint, file: ${file}, weight: 0 }\n`;
      await writeFile(
        join(l.dir, 'n1.yaml'),
        hastackYaml(l, 'n1', { priority: 150, globals, extra: '      track_file: [maint]\n' }),
      );
      n1.kill('SIGHUP');
    };
    // Refused as a whole before anything stops: VI_1 stays MASTER with its VIP.
    await reload(join(l.dir, 'no-such-dir', 'maint'));
    await l.waitFor('the refused reload in the log', async () =>
      (await n1.log()).includes('HASTACK_VRRP_TRACK_FILE'),
    );
    assert.equal(await l.lastState('n1', 'VI_1'), 'MASTER');
    await l.waitForHolder(VIP, 'n1', 1_000);
    const file = join(l.dir, 'n1.maint');
    await writeFile(file, '1\n');
    await reload(file);
    await waitForState(l, 'n1', 'FAULT');
    await l.waitForHolder(VIP, 'n2');
    await writeFile(file, '0\n');
    // Before hastack held its loop open itself, n1 exited here (13: nothing left to wait on).
    assert.equal(n1.running, true, (await n1.log()).slice(-3000));
    await l.waitForHolder(VIP, 'n1');
  });

  it('track_process weight 0: killing the tracked process on the master moves the VIP; restarting it moves it back', async (t) => {
    if (!(await requireLab(t))) return;
    const l = await VrrpLab.create(2);
    lab = l;
    // A process name nothing else on the host has: a copy of sleep under a random name.
    const name = `hs${randomBytes(4).toString('hex')}`;
    const binary = join(l.dir, name);
    await copyFile('/bin/sleep', binary);
    await chmod(binary, 0o755);
    const startTracked = () => {
      const child = spawn(binary, ['600'], { stdio: 'ignore' });
      children.push(child);
      return child;
    };
    let tracked = startTracked();
    const globals = `  track_processes:\n    - { name: app, process: ${name}, weight: 0 }\n`;
    await l.startHastack(
      'n1',
      hastackYaml(l, 'n1', { priority: 150, globals, extra: '      track_process: [app]\n', admin: true }),
    );
    await l.startHastack('n2', hastackYaml(l, 'n2', { priority: 100 }));
    await l.waitForHolder(VIP, 'n1');
    const up = (await nodeStatus(l, 'n1')) as VrrpStatus;
    assert.deepEqual(
      up.services.vrrp.processes.map((p) => [p.name, p.up, p.count]),
      [['app', true, 1]],
    );
    tracked.kill('SIGKILL');
    await waitForState(l, 'n1', 'FAULT');
    await l.waitForHolder(VIP, 'n2');
    const down = (await nodeStatus(l, 'n1')) as VrrpStatus;
    assert.match(down.services.vrrp.instances[0]!.faultReason ?? '', /process app is down/);
    tracked = startTracked();
    await l.waitForHolder(VIP, 'n1');
  });
});
