import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { rawNetAvailable } from '../../src/core/raw-net.ts';
import { labAvailable, run, type VrrpLab } from '../../src/vrrp/lab/lab.ts';

/** Skips (or, with CI set, fails) when the lab cannot run here. */
export async function requireLab(t: TestContext, needKeepalived = false): Promise<boolean> {
  const why =
    (await labAvailable()) ??
    (rawNetAvailable() ? undefined : 'the native addon did not build') ??
    (needKeepalived && (await run('/usr/sbin/keepalived', ['--version'])).code !== 0
      ? 'keepalived is not installed'
      : undefined);
  if (why === undefined) return true;
  if (process.env.CI) assert.fail(`VRRP lab: ${why}`);
  t.skip(why);
  return false;
}

export interface NodeOptions {
  priority: number;
  version?: 2 | 3;
  advertInt?: string;
  vrid?: number;
  vip?: string;
  extra?: string;
  globals?: string;
  admin?: boolean;
}

/** hastack.yaml for one lab node with one instance VI_1 (plus `extra` instance keys). */
export function hastackYaml(lab: VrrpLab, node: `n${number}`, o: NodeOptions): string {
  return `admin: ${o.admin === true ? '{ listen: 127.0.0.1:9090 }' : 'false'}
log: { level: info }
shutdown_grace: 1s
vrrp:
${o.globals ?? ''}  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: ${o.vrid ?? 51}
      priority: ${o.priority}
      version: ${o.version ?? 3}
      advert_int: ${o.advertInt ?? (o.version === 2 ? '1s' : '200ms')}
      virtual_ipaddress: [${o.vip ?? '10.77.0.100'}/24]
      notify: "${lab.notifyCommand(node)}"
${o.extra ?? ''}`;
}

/** keepalived.conf for one lab node with VI_1. */
export function keepalivedConf(lab: VrrpLab, node: `n${number}`, o: NodeOptions): string {
  return `global_defs {
    router_id ${node}
    enable_script_security
    script_user root
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id ${o.vrid ?? 51}
    priority ${o.priority}
    advert_int ${o.advertInt ?? (o.version === 2 ? '1' : '0.2')}
    version ${o.version ?? 3}
    virtual_ipaddress {
        ${o.vip ?? '10.77.0.100'}/24
    }
    notify "${lab.notifyCommand(node)}"
${o.extra ?? ''}}
`;
}

export const VIP = '10.77.0.100';

/** Waits for a node's recorded state of VI_1 (from its notify script). */
export function waitForState(
  lab: VrrpLab,
  node: `n${number}`,
  state: string,
  timeoutMs = 15_000,
  instance = 'VI_1',
) {
  return lab.waitFor(
    `${node} ${instance} ${state}`,
    async () => (await lab.lastState(node, instance)) === state,
    timeoutMs,
  );
}

/** `hastack status --json` inside a node (admin on the node's own loopback). */
export async function nodeStatus(lab: VrrpLab, node: `n${number}`): Promise<Record<string, unknown>> {
  const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
  const r = await lab.exec(node, [process.execPath, main, 'status', '--json']);
  if (r.code !== 0) throw new Error(`status in ${node} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}
