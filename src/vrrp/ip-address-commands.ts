import { spawn } from 'node:child_process';
import { HastackError } from '../core/errors.ts';
import type { VirtualAddress } from './config-schema.ts';

/*
 * IP takeover through iproute2, the fallback when the addon has no netlink
 * (netlink-addresses.ts is the default): `ip -batch` adds or removes every VIP of
 * an instance in one process, so a transition costs one spawn. Adding uses
 * `replace`, which creates the address or refreshes it, so the same call renews a
 * lease (valid_lft/preferred_lft). The command lines are built by a pure function
 * (tested without root).
 */

export const CODE_IP_FAILED = 'HASTACK_VRRP_IP_FAILED';

/** A VIP with the interface it goes on resolved. */
export interface PlacedAddress extends VirtualAddress {
  dev: string;
}

/** Kernel address lifetime in whole seconds; absent = forever (keepalived's behaviour). */
export interface AddressLifetime {
  validLftSec: number;
  preferredLftSec: number;
}

export type AddressOp = 'add' | 'replace' | 'del' | 'change';

/**
 * What IP takeover needs from the kernel: put the VIPs in place (or refresh their
 * lease) and take them away. Implemented with rtnetlink (the addon) and iproute2.
 */
export interface VipAddresses {
  readonly kind: 'netlink' | 'iproute2';
  /** Adds the addresses, or refreshes them (lifetime included) when they exist. */
  add(vips: readonly PlacedAddress[], lifetime?: AddressLifetime): Promise<void>;
  /** Removes them; addresses or interfaces already gone are not an error. */
  remove(vips: readonly PlacedAddress[]): Promise<void>;
}

/** One `ip -batch` line (without the leading `ip`). */
export function addressCommand(op: AddressOp, vip: PlacedAddress, lifetime?: AddressLifetime): string {
  const words = ['addr', op, `${vip.address}/${vip.prefix}`];
  if (op !== 'del') {
    if (vip.brd !== undefined) words.push('brd', vip.brd);
    if (vip.scope !== undefined) words.push('scope', vip.scope);
  }
  words.push('dev', vip.dev);
  if (op !== 'del' && vip.label !== undefined) words.push('label', vip.label);
  if (op !== 'del' && lifetime !== undefined) {
    words.push('valid_lft', String(lifetime.validLftSec), 'preferred_lft', String(lifetime.preferredLftSec));
  }
  return words.join(' ');
}

/** stderr lines that mean "already done": adding an existing address, removing a missing one. */
const HARMLESS: Record<AddressOp, RegExp> = {
  add: /File exists/,
  replace: /^$/,
  change: /^$/,
  // Older iproute2 prints the errno text, newer the kernel's extended ack.
  del: /Cannot assign requested address|No such device|Address not found/,
};

/** The errors in `ip -batch -force` stderr output that are real failures. */
export function batchErrors(op: AddressOp, stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Command failed/.test(l) && !HARMLESS[op].test(l));
}

export type IpRunner = (
  args: readonly string[],
  stdin: string,
) => Promise<{ code: number | null; stderr: string }>;

export const spawnIp: IpRunner = (args, stdin) =>
  new Promise((resolve) => {
    const child = spawn('ip', [...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 16_384) stderr += chunk.toString('utf8');
    });
    child.on('error', (err) => resolve({ code: null, stderr: `cannot run ip: ${err.message}` }));
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });

export class IpAddressCommands implements VipAddresses {
  readonly kind = 'iproute2';
  readonly #run: IpRunner;

  constructor(run: IpRunner = spawnIp) {
    this.#run = run;
  }

  async apply(op: AddressOp, vips: readonly PlacedAddress[], lifetime?: AddressLifetime): Promise<void> {
    if (vips.length === 0) return;
    const lines = vips.map((v) => addressCommand(op, v, lifetime)).join('\n');
    const { code, stderr } = await this.#run(['-4', '-force', '-batch', '-'], `${lines}\n`);
    const errors = code === null ? [stderr] : batchErrors(op, stderr);
    if (errors.length > 0) {
      throw new HastackError(CODE_IP_FAILED, `ip addr ${op} failed: ${errors.join('; ')}`, {
        details: { op, addresses: vips.map((v) => `${v.address}/${v.prefix} dev ${v.dev}`) },
      });
    }
  }

  add(vips: readonly PlacedAddress[], lifetime?: AddressLifetime): Promise<void> {
    return this.apply('replace', vips, lifetime);
  }

  remove(vips: readonly PlacedAddress[]): Promise<void> {
    return this.apply('del', vips);
  }

  /** Runs `ip ARGS` (link and sysctl helpers of the VMAC). */
  async run(args: readonly string[]): Promise<void> {
    const { code, stderr } = await this.#run(args, '');
    if (code !== 0) {
      throw new HastackError(
        CODE_IP_FAILED,
        `ip ${args.join(' ')} failed: ${stderr.trim() || `exit ${code}`}`,
      );
    }
  }
}
