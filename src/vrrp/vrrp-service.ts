import type { Logger } from 'pino';
import { type Clock, systemClock } from '../core/clock.ts';
import { errorMessage, HastackError } from '../core/errors.ts';
import { netlinkAvailable, requireRawNet } from '../core/raw-net.ts';
import type { ManagedService, ServiceDeps } from '../runtime/services.ts';
import { virtualMac } from './arp-frame.ts';
import type { VrrpConfig, VrrpInstanceConfig } from './config-schema.ts';
import type { MachineAction, VrrpState } from './instance-machine.ts';
import { IpAddressCommands, type VipAddresses } from './ip-address-commands.ts';
import { LinkWatch } from './link-watch.ts';
import { NetlinkAddresses } from './netlink-addresses.ts';
import { Notifier } from './notifier.ts';
import { type ProcessTrackStatus, ProcessWatch } from './process-watch.ts';
import { type ScriptStatus, VrrpScriptRunner } from './script-runner.ts';
import { SyncGroup } from './sync-group.ts';
import { FileTracker, type TrackFileStatus } from './track-file.ts';
import { Vmac } from './vmac.ts';
import { type ChannelCounters, VrrpChannel } from './vrrp-channel.ts';
import { type InstanceSnapshot, type ProcessStates, VrrpInstance } from './vrrp-instance.ts';

/*
 * The `vrrp` component: runs every configured VRRP instance, the vrrp_scripts,
 * track_files and track_processes they track, and their sync groups. A reload
 * restarts only the instances whose settings (or trackers, or sync group)
 * changed, so unchanged ones keep their state and VIPs.
 */

export const CODE_START = 'HASTACK_VRRP_START';

export interface VrrpSnapshot {
  instances: InstanceSnapshot[];
  syncGroups: { name: string; state: VrrpState; members: string[] }[];
  scripts: ScriptStatus[];
  files: TrackFileStatus[];
  processes: ProcessTrackStatus[];
  channels: ({ interface: string } & ChannelCounters)[];
  notify: { fifo: string | null; fifoDropped: number; scriptsRun: number; scriptFailures: number };
}

export interface VrrpServiceOptions {
  clock?: Clock;
  /** iproute2: VMAC links, and VIPs when netlink is not available. */
  ip?: IpAddressCommands;
  /** How VIPs reach the kernel; default rtnetlink through the addon, else `ip`. */
  addresses?: VipAddresses;
}

/**
 * rtnetlink when the addon has it, iproute2 otherwise (an addon built before
 * netlink support). HASTACK_VRRP_VIP_BACKEND=iproute2 forces the fallback
 * (measurements, odd kernels).
 */
function defaultAddresses(ip: IpAddressCommands): VipAddresses {
  if (process.env.HASTACK_VRRP_VIP_BACKEND === 'iproute2' || !netlinkAvailable()) return ip;
  return new NetlinkAddresses();
}

interface Running {
  instance: VrrpInstance;
  key: string;
  vmac?: Vmac;
}

export class VrrpService implements ManagedService<VrrpConfig> {
  #config: VrrpConfig;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #ip: IpAddressCommands;
  #addresses: VipAddresses;
  readonly #links = new LinkWatch();
  readonly #notifier: Notifier;
  readonly #channels = new Map<string, VrrpChannel>();
  readonly #scripts = new Map<string, VrrpScriptRunner>();
  readonly #files = new Map<string, FileTracker>();
  /** One watch for every tracked process; replaced when their settings change. */
  #processWatch: ProcessWatch | undefined;
  #processKey = '[]';
  readonly #processListeners = new Set<(name: string, up: boolean) => void>();
  /** What instances see: stable across a replaced watch. */
  readonly #processStates: ProcessStates = {
    isUp: (name) => this.#processWatch?.isUp(name) ?? false,
    weightOf: (name) => {
      const p = this.#config.trackProcesses.find((t) => t.name === name);
      return p === undefined ? undefined : { weight: p.weight, reverse: p.weightReverse };
    },
    subscribe: (listener) => {
      this.#processListeners.add(listener);
      return () => this.#processListeners.delete(listener);
    },
  };
  readonly #running = new Map<string, Running>();
  readonly #groups = new Map<string, SyncGroup>();
  readonly #groupOf = new Map<string, SyncGroup>();
  readonly #groupState = new Map<string, VrrpState>();
  #stopped = false;

  constructor(config: VrrpConfig, deps: Pick<ServiceDeps, 'logger'>, options: VrrpServiceOptions = {}) {
    this.#config = config;
    this.#logger = deps.logger;
    this.#clock = options.clock ?? systemClock;
    this.#ip = options.ip ?? new IpAddressCommands();
    // An injected `ip` (tests) takes the VIPs too unless `addresses` is given.
    this.#addresses =
      options.addresses ?? (options.ip !== undefined ? options.ip : defaultAddresses(this.#ip));
    this.#notifier = new Notifier(deps.logger);
  }

  async start(): Promise<void> {
    // Fail at start, with the reason, when the addon or the privileges are missing.
    requireRawNet();
    if (this.#addresses instanceof NetlinkAddresses) {
      try {
        this.#addresses.prepare();
      } catch (err) {
        this.#logger.warn({ err: errorMessage(err) }, 'netlink is not usable here: VIPs go through iproute2');
        this.#addresses = this.#ip;
      }
    }
    this.#logger.info(
      { vipBackend: this.#addresses.kind },
      `VRRP VIPs are changed through ${this.#addresses.kind}`,
    );
    if (this.#config.startupDelayMs > 0) await new Promise((r) => setTimeout(r, this.#config.startupDelayMs));
    try {
      this.#openFifo(this.#config);
      await this.#startInstances(this.#config, this.#config.instances);
    } catch (err) {
      await this.stop(0);
      throw err;
    }
  }

  async update(config: VrrpConfig): Promise<void> {
    if (this.#stopped) throw new HastackError(CODE_START, 'the vrrp service is stopped');
    // Refused before anything stops: a reload with a bad track_file leaves the running instances alone.
    const usedFiles = new Set(config.instances.flatMap((i) => i.trackFiles.map((t) => t.file)));
    for (const f of config.trackFiles) if (usedFiles.has(f.name)) FileTracker.check(f);
    const wanted = new Map(config.instances.map((i) => [i.name, i]));
    const keys = new Map(config.instances.map((i) => [i.name, instanceKey(config, i)]));
    const restart: VrrpInstanceConfig[] = [];
    const stopping: string[] = [];
    for (const [name, running] of this.#running) {
      if (keys.get(name) !== running.key) stopping.push(name);
    }
    for (const inst of config.instances) {
      if (!this.#running.has(inst.name) || stopping.includes(inst.name)) restart.push(inst);
    }
    // A group with a restarted member restarts as a whole: its coordinator holds every member.
    for (const group of config.syncGroups) {
      if (group.members.some((m) => restart.some((r) => r.name === m))) {
        for (const m of group.members) {
          if (!restart.some((r) => r.name === m)) restart.push(wanted.get(m)!);
          if (this.#running.has(m) && !stopping.includes(m)) stopping.push(m);
        }
      }
    }
    for (const name of stopping) await this.#stopInstance(name);
    this.#config = config;
    this.#openFifo(config);
    await this.#startInstances(config, restart);
    this.#closeIdle();
    this.#logger.info(
      { restarted: restart.map((r) => r.name), stopped: stopping },
      'vrrp configuration applied',
    );
  }

  async stop(graceMs: number): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const name of [...this.#running.keys()]) await this.#stopInstance(name);
    for (const script of this.#scripts.values()) script.stop();
    this.#scripts.clear();
    for (const file of this.#files.values()) file.stop();
    this.#files.clear();
    this.#processWatch?.stop();
    this.#processWatch = undefined;
    this.#processListeners.clear();
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
    this.#links.close();
    if (this.#addresses instanceof NetlinkAddresses) this.#addresses.close();
    await this.#notifier.settle(Math.min(graceMs, 5_000));
    this.#notifier.closeFifo();
  }

  snapshot(): VrrpSnapshot {
    return {
      instances: [...this.#running.values()].map((r) => r.instance.snapshot()),
      syncGroups: [...this.#groups.values()].map((g) => ({
        name: g.name,
        state: g.state,
        members: g.members.map((m) => m.name),
      })),
      scripts: [...this.#scripts.values()].map((s) => s.status()),
      files: [...this.#files.values()].map((f) => f.status()),
      processes: this.#processWatch?.status() ?? [],
      channels: [...this.#channels.values()].map((c) => ({ interface: c.ifname, ...c.counters })),
      notify: {
        fifo: this.#config.notifyFifo ?? null,
        fifoDropped: this.#notifier.fifoDropped,
        scriptsRun: this.#notifier.scriptsRun,
        scriptFailures: this.#notifier.scriptFailures,
      },
    };
  }

  /** A running instance by name (tests, admin). */
  instance(name: string): VrrpInstance | undefined {
    return this.#running.get(name)?.instance;
  }

  #openFifo(config: VrrpConfig): void {
    if (config.notifyFifo === undefined) this.#notifier.closeFifo();
    else this.#notifier.openFifo(config.notifyFifo, config.notifyFifoScript);
  }

  #channel(ifname: string): VrrpChannel {
    let channel = this.#channels.get(ifname);
    if (channel === undefined) {
      try {
        channel = new VrrpChannel(ifname);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const hint =
          code === 'EPERM' || code === 'EACCES'
            ? ' (VRRP needs root, or CAP_NET_RAW and CAP_NET_ADMIN)'
            : code === 'ENODEV'
              ? ' (no such interface)'
              : '';
        throw new HastackError(
          CODE_START,
          `cannot open a VRRP socket on ${ifname}: ${errorMessage(err)}${hint}`,
          {
            cause: err,
          },
        );
      }
      this.#channels.set(ifname, channel);
    }
    return channel;
  }

  #script(name: string, config: VrrpConfig): void {
    keepOrReplace(this.#scripts, name, config.scripts, (wanted) => new VrrpScriptRunner(wanted));
  }

  #file(name: string, config: VrrpConfig): void {
    keepOrReplace(
      this.#files,
      name,
      config.trackFiles,
      (wanted) => new FileTracker(wanted, { logger: this.#logger }),
    );
  }

  /** Starts, replaces or ends the process watch so that it covers what the instances track. */
  async #syncProcessWatch(config: VrrpConfig): Promise<void> {
    const used = new Set(config.instances.flatMap((i) => i.trackProcesses.map((t) => t.process)));
    const wanted = config.trackProcesses.filter((p) => used.has(p.name));
    const key = JSON.stringify(wanted);
    if (key === this.#processKey) return;
    // The new watch scans before it replaces the old one: instances never see a gap (all down).
    let next: ProcessWatch | undefined;
    if (wanted.length > 0) {
      const watch = new ProcessWatch(wanted, { logger: this.#logger });
      next = watch;
      watch.subscribe((name, up) => {
        if (this.#processWatch !== watch) return;
        for (const listener of this.#processListeners) listener(name, up);
      });
      await watch.start();
    }
    const old = this.#processWatch;
    this.#processWatch = next;
    this.#processKey = next === undefined ? '[]' : key;
    old?.stop();
    // Instances kept across the swap re-read the states of the new watch.
    for (const p of wanted)
      for (const listener of this.#processListeners) listener(p.name, next!.isUp(p.name));
  }

  async #startInstances(config: VrrpConfig, instances: readonly VrrpInstanceConfig[]): Promise<void> {
    await this.#syncProcessWatch(config);
    const started: VrrpInstance[] = [];
    for (const inst of instances) {
      let vmac: Vmac | undefined;
      if (inst.vmac !== undefined) {
        vmac = new Vmac(inst.vmac.name, inst.interface, inst.vmac.mac ?? virtualMac(inst.vrid), this.#ip);
        await vmac.create();
      }
      const vipInterface = vmac?.name ?? inst.interface;
      for (const t of inst.trackScripts) this.#script(t.script, config);
      for (const t of inst.trackFiles) this.#file(t.file, config);
      const group = config.syncGroups.find((g) => g.members.includes(inst.name));
      let instance: VrrpInstance;
      try {
        instance = new VrrpInstance(inst, {
          channel: this.#channel(vipInterface),
          links: this.#links,
          scripts: this.#scripts,
          files: this.#files,
          processes: this.#processStates,
          ip: this.#addresses,
          notifier: this.#notifier,
          logger: this.#logger,
          clock: this.#clock,
          vipInterface,
          ...(group !== undefined && { syncGroup: group.name }),
          afterActions: (source, actions) => this.#afterActions(source, actions),
          afterFaultChange: (source) => this.#afterFaultChange(source),
          preciseDownTimer: this.#clock === systemClock,
        });
      } catch (err) {
        await vmac?.remove();
        throw err;
      }
      this.#running.set(inst.name, {
        instance,
        key: instanceKey(config, inst),
        ...(vmac !== undefined && { vmac }),
      });
      started.push(instance);
    }
    // Sync groups whose members are all running get a (new) coordinator.
    for (const g of config.syncGroups) {
      if (!g.members.some((m) => started.some((s) => s.name === m))) continue;
      const members = g.members.map((m) => ({ name: m, machine: this.#running.get(m)!.instance.machine }));
      const group = new SyncGroup(g.name, members);
      this.#groups.set(g.name, group);
      for (const m of g.members) this.#groupOf.set(m, group);
    }
    for (const instance of started) instance.start();
    for (const instance of started) {
      const group = this.#groupOf.get(instance.name);
      if (group !== undefined) this.#dispatch(group.syncFault());
    }
  }

  async #stopInstance(name: string): Promise<void> {
    const running = this.#running.get(name);
    if (running === undefined) return;
    this.#running.delete(name);
    const group = this.#groupOf.get(name);
    if (group !== undefined) {
      this.#groupOf.delete(name);
      if (![...this.#groupOf.values()].includes(group)) {
        this.#groups.delete(group.name);
        this.#groupState.delete(group.name);
      }
    }
    try {
      await running.instance.stop();
    } catch (err) {
      this.#logger.error({ instance: name, err: errorMessage(err) }, 'stopping a vrrp instance failed');
    }
    await running.vmac?.remove();
  }

  #closeIdle(): void {
    for (const [ifname, channel] of this.#channels) {
      if (channel.size === 0) {
        channel.close();
        this.#channels.delete(ifname);
      }
    }
    stopUnused(this.#scripts, new Set(this.#config.scripts.map((s) => s.name)));
    stopUnused(this.#files, new Set(this.#config.instances.flatMap((i) => i.trackFiles.map((t) => t.file))));
  }

  #afterActions(source: VrrpInstance, actions: readonly MachineAction[]): void {
    const group = this.#groupOf.get(source.name);
    if (group === undefined) return;
    const member = group.members.find((m) => m.name === source.name)!;
    this.#dispatch(group.react(member, actions));
    this.#notifyGroup(group);
  }

  #afterFaultChange(source: VrrpInstance): void {
    const group = this.#groupOf.get(source.name);
    if (group === undefined) return;
    this.#dispatch(group.syncFault());
    this.#notifyGroup(group);
  }

  #dispatch(reactions: readonly { member: { name: string }; actions: MachineAction[] }[]): void {
    for (const r of reactions) this.#running.get(r.member.name)?.instance.execute(r.actions);
  }

  #notifyGroup(group: SyncGroup): void {
    const state = group.state;
    if (this.#groupState.get(group.name) === state) return;
    this.#groupState.set(group.name, state);
    const config = this.#config.syncGroups.find((g) => g.name === group.name);
    if (config === undefined || state === 'INIT') return;
    this.#logger.info({ group: group.name, state }, `VRRP sync group ${group.name} is ${state}`);
    this.#notifier.notify(config.notify, 'GROUP', group.name, state, 0);
  }
}

interface Tracker<C> {
  readonly config: C;
  start(): void;
  stop(): void;
}

/**
 * A tracker (vrrp_script, track_file) by name: kept while its settings are the
 * same, so a reload does not reset its state; replaced otherwise. A new one is
 * only kept once it started (start may refuse, e.g. a missing directory).
 */
function keepOrReplace<C extends { name: string }, T extends Tracker<C>>(
  running: Map<string, T>,
  name: string,
  configured: readonly C[],
  create: (config: C) => T,
): void {
  const wanted = configured.find((c) => c.name === name);
  if (wanted === undefined) return;
  const existing = running.get(name);
  if (existing !== undefined && JSON.stringify(existing.config) === JSON.stringify(wanted)) return;
  existing?.stop();
  running.delete(name);
  const tracker = create(wanted);
  tracker.start();
  running.set(name, tracker);
}

function stopUnused(running: Map<string, { stop(): void }>, used: ReadonlySet<string>): void {
  for (const [name, tracker] of running) {
    if (used.has(name)) continue;
    tracker.stop();
    running.delete(name);
  }
}

/** Everything that, when changed, restarts an instance on reload. */
function instanceKey(config: VrrpConfig, inst: VrrpInstanceConfig): string {
  const scripts = inst.trackScripts.map((t) => config.scripts.find((s) => s.name === t.script));
  const files = inst.trackFiles.map((t) => config.trackFiles.find((f) => f.name === t.file));
  const processes = inst.trackProcesses.map((t) => config.trackProcesses.find((p) => p.name === t.process));
  const group = config.syncGroups.find((g) => g.members.includes(inst.name));
  return JSON.stringify({ inst, scripts, files, processes, group: group?.members ?? null });
}
