import { readFile, writeFile } from 'node:fs/promises';
import type { IpAddressCommands } from './ip-address-commands.ts';

/*
 * use_vmac: a macvlan interface on top of the instance's interface carrying the
 * RFC's virtual MAC (00:00:5e:00:01:VRID), so a takeover moves the MAC rather
 * than asking every host to re-learn it. As keepalived: mode private, no IPv6
 * link-local address, and arp_ignore=1 on both interfaces so only the VMAC
 * answers ARP for the VIPs; arp_announce=2 on the base interface so its own ARP
 * requests (replies from a VIP leave through it) announce its own address, not
 * the VIP with the base MAC. The previous sysctl values are restored on removal.
 */

async function readSysctl(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function writeSysctl(path: string, value: string): Promise<void> {
  try {
    await writeFile(path, value);
  } catch {
    // The interface may be gone already; nothing to restore then.
  }
}

const conf = (ifname: string, key: string) => `/proc/sys/net/ipv4/conf/${ifname}/${key}`;

export class Vmac {
  readonly name: string;
  readonly base: string;
  readonly mac: string;
  readonly #ip: IpAddressCommands;
  #savedBaseArpIgnore: string | undefined;
  #savedBaseArpAnnounce: string | undefined;
  #created = false;

  constructor(name: string, base: string, mac: string, ip: IpAddressCommands) {
    this.name = name;
    this.base = base;
    this.mac = mac;
    this.#ip = ip;
  }

  async create(): Promise<void> {
    // A leftover from a crashed run would carry stale state: start clean.
    await this.#ip.run(['link', 'del', this.name]).catch(() => {});
    await this.#ip.run([
      'link',
      'add',
      'link',
      this.base,
      'name',
      this.name,
      'address',
      this.mac,
      'type',
      'macvlan',
      'mode',
      'private',
    ]);
    this.#created = true;
    await this.#ip.run(['link', 'set', 'dev', this.name, 'addrgenmode', 'none']).catch(() => {});
    this.#savedBaseArpIgnore = await readSysctl(conf(this.base, 'arp_ignore'));
    await writeSysctl(conf(this.base, 'arp_ignore'), '1');
    this.#savedBaseArpAnnounce = await readSysctl(conf(this.base, 'arp_announce'));
    await writeSysctl(conf(this.base, 'arp_announce'), '2');
    await writeSysctl(conf(this.name, 'arp_ignore'), '1');
    await writeSysctl(conf(this.name, 'rp_filter'), '0');
    await this.#ip.run(['link', 'set', 'dev', this.name, 'up']);
  }

  async remove(): Promise<void> {
    if (!this.#created) return;
    this.#created = false;
    await this.#ip.run(['link', 'del', this.name]).catch(() => {});
    if (this.#savedBaseArpIgnore !== undefined) {
      await writeSysctl(conf(this.base, 'arp_ignore'), this.#savedBaseArpIgnore);
    }
    if (this.#savedBaseArpAnnounce !== undefined) {
      await writeSysctl(conf(this.base, 'arp_announce'), this.#savedBaseArpAnnounce);
    }
  }
}
