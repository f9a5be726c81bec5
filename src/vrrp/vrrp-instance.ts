import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { errorMessage, HastackError } from '../core/errors.ts';
import { interfaceInfo, sendFrame } from '../core/raw-net.ts';
import { type AdvertCheckSettings, type AdvertDropReason, checkAdvert } from './advert-check.ts';
import { gratuitousArp, parseMac } from './arp-frame.ts';
import type { VrrpInstanceConfig, VrrpScriptConfig } from './config-schema.ts';
import {
  type MachineAction,
  type MachineCounters,
  VrrpInstanceMachine,
  type VrrpState,
} from './instance-machine.ts';
import type { AddressLifetime, PlacedAddress, VipAddresses } from './ip-address-commands.ts';
import { type Ipv4Header, intToIpv4, ipv4ToInt } from './ipv4-header.ts';
import type { LinkWatch } from './link-watch.ts';
import type { Notifier } from './notifier.ts';
import type { VrrpScriptRunner } from './script-runner.ts';
import type { FileTracker } from './track-file.ts';
import {
  effectivePriority,
  fileEffect,
  interfaceEffect,
  processEffect,
  scriptEffect,
  type TrackerEffect,
} from './tracking.ts';
import type { VrrpChannel } from './vrrp-channel.ts';
import {
  type DecodeDropReason,
  decodeAdvert,
  encodeAdvert,
  passAuthData,
  type VrrpAdvert,
} from './vrrp-packet.ts';
import { longestMasterDownMs } from './vrrp-timers.ts';

/*
 * One running VRRP instance: wires the pure state machine to the raw socket
 * (adverts in and out), rtnetlink or iproute2 (VIPs and their leases), AF_PACKET
 * (gratuitous ARPs), trackers and notifications. Everything it does is driven by
 * machine actions. On the takeover path nothing but the advert, the address change
 * and the GARPs runs before the first GARP (notify scripts start afterwards).
 */

export const CODE_INSTANCE = 'HASTACK_VRRP_INSTANCE';

/** track_process quorums by tracker name, with their weights (the service's process watch). */
export interface ProcessStates {
  isUp(name: string): boolean;
  weightOf(name: string): { weight: number; reverse: boolean } | undefined;
  subscribe(listener: (name: string, up: boolean) => void): () => void;
}

export interface InstanceDeps {
  channel: VrrpChannel;
  links: LinkWatch;
  scripts: ReadonlyMap<string, VrrpScriptRunner>;
  files?: ReadonlyMap<string, FileTracker>;
  processes?: ProcessStates;
  ip: VipAddresses;
  notifier: Notifier;
  logger: Logger;
  clock: Clock;
  /** The interface adverts, VIPs and GARPs use (the VMAC when use_vmac). */
  vipInterface: string;
  /** Called after this instance carried out actions (sync groups react to them). */
  afterActions?: (instance: VrrpInstance, actions: readonly MachineAction[]) => void;
  /** Called after this instance's own fault changed. */
  afterFaultChange?: (instance: VrrpInstance) => void;
  /** Fire a BACKUP's down timer to the sub-millisecond (real clocks only). */
  preciseDownTimer?: boolean;
  syncGroup?: string;
}

export interface InstanceCounters extends MachineCounters {
  advertsReceived: number;
  sendErrors: number;
  garpsSent: number;
  garpErrors: number;
  ipErrors: number;
}

/** Where the time of the last takeover went (ms from the down timer's deadline / the decision). */
export interface TakeoverTiming {
  at: string;
  reason: string;
  /** How late the down timer fired (event loop). */
  downTimerLateMs: number | null;
  /** From the decision to the kernel's ack of the VIPs. */
  vipAddMs: number | null;
  /** From the decision to the first gratuitous ARP on the wire. */
  firstGarpMs: number | null;
  backend: 'netlink' | 'iproute2';
}

export interface LeaseSnapshot {
  /** The lifetime the VIPs get while MASTER. */
  seconds: number;
  /** Since the last renewal (MASTER only). */
  renewedAgoMs: number | null;
  renewals: number;
  lapses: number;
  renewErrors: number;
}

export interface InstanceSnapshot {
  name: string;
  state: VrrpState;
  interface: string;
  vrid: number;
  version: 2 | 3;
  advertIntMs: number;
  priority: number;
  configuredPriority: number;
  /** The current master's address (ours while MASTER). */
  masterAddress: string | null;
  masterPriority: number | null;
  sourceAddress: string;
  unicastPeers: string[];
  preempt: boolean;
  vips: string[];
  vipsInstalled: boolean;
  /** How the VIPs reach the kernel. */
  vipBackend: 'netlink' | 'iproute2';
  /** null: permanent VIPs (vip_lease off). */
  vipLease: LeaseSnapshot | null;
  lastTakeover: TakeoverTiming | null;
  syncGroup?: string;
  faultReason?: string;
  lastTransition: { at: string; from: VrrpState; to: VrrpState; reason: string } | null;
  counters: InstanceCounters;
  drops: Record<string, number>;
}

export class VrrpInstance {
  readonly config: VrrpInstanceConfig;
  readonly machine: VrrpInstanceMachine;
  readonly #d: InstanceDeps;
  readonly #sourceIp: string;
  readonly #check: AdvertCheckSettings;
  readonly #advertTemplate: VrrpAdvert;
  readonly #placed: PlacedAddress[];
  readonly #drops: Record<string, number> = {};
  readonly #unsubscribe: (() => void)[] = [];
  readonly #counters = { advertsReceived: 0, sendErrors: 0, garpsSent: 0, garpErrors: 0, ipErrors: 0 };
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #timerAt: number | undefined;
  #ipChain: Promise<void> = Promise.resolve();
  #ipQueued = 0;
  #vipsInstalled = false;
  #lastTransition: InstanceSnapshot['lastTransition'] = null;
  #lastSendError: string | undefined;
  #takeover: TakeoverTiming | null = null;
  #takeoverStartedAt: number | undefined;
  #renewErrors = 0;
  #leaseOkAt: number | undefined;
  #leaseFailing = false;
  #warnedChecksum = false;
  #stopped = false;
  #deferAnnouncements = false;
  #announcements: (() => void)[] = [];

  constructor(config: VrrpInstanceConfig, deps: InstanceDeps) {
    this.config = config;
    this.#d = deps;
    const info = interfaceInfo(config.interface);
    if (info === null) {
      throw new HastackError(
        CODE_INSTANCE,
        `vrrp instance ${config.name}: no interface "${config.interface}"`,
      );
    }
    const source = config.unicastSrcIp ?? config.mcastSrcIp ?? info.ipv4;
    if (source === null) {
      throw new HastackError(
        CODE_INSTANCE,
        `vrrp instance ${config.name}: interface ${config.interface} has no IPv4 address to send adverts from`,
      );
    }
    this.#sourceIp = source;
    const primaryIp = ipv4ToInt(source);
    const vips = config.vips.map((v) => ipv4ToInt(v.address));
    const authData = config.authPass === undefined ? undefined : passAuthData(config.authPass);
    this.#check = {
      vrid: config.vrid,
      version: config.version,
      advertIntMs: config.advertIntMs,
      primaryIp,
      mcastGroup: ipv4ToInt(config.mcastGroup),
      authData,
      vips,
      skipCheckAdvAddr: config.skipCheckAdvAddr,
      unicastPeers: new Map(
        config.unicastPeers.map((p) => [
          ipv4ToInt(p.address),
          {
            ...(p.minTtl !== undefined && { minTtl: p.minTtl }),
            ...(p.maxTtl !== undefined && { maxTtl: p.maxTtl }),
          },
        ]),
      ),
      checkUnicastSrc: config.checkUnicastSrc,
    };
    this.#advertTemplate = {
      version: config.version,
      vrid: config.vrid,
      priority: config.priority,
      advertIntMs: config.advertIntMs,
      addresses: vips,
      authType: authData === undefined ? 0 : 1,
      authData: authData ?? new Uint8Array(0),
    };
    this.#placed = [...config.vips, ...config.excludedVips].map((v) => ({
      ...v,
      dev: v.dev ?? deps.vipInterface,
    }));
    // Run the advert and ARP encoders once: a BACKUP's first takeover should not wait for
    // lazily compiled code.
    encodeAdvert(this.#advertTemplate, { src: primaryIp, dst: this.#check.mcastGroup });
    gratuitousArp(new Uint8Array(6), primaryIp);
    this.machine = new VrrpInstanceMachine(
      {
        version: config.version,
        advertIntMs: config.advertIntMs,
        preempt: config.preempt,
        preemptDelayMs: config.preemptDelayMs,
        primaryIp,
        downTimerAdverts: config.downTimerAdverts,
        lowerPrioNoAdvert: config.lowerPrioNoAdvert,
        higherPrioSendAdvert: config.higherPrioSendAdvert,
        garp: config.garp,
        syncGrouped: deps.syncGroup !== undefined,
        ...(config.vipLease !== undefined && { vipLease: config.vipLease }),
      },
      config.priority,
      deps.clock,
    );
  }

  get name(): string {
    return this.config.name;
  }

  /** Registers with the socket and trackers, then leaves INIT. */
  start(): void {
    const { channel, links, scripts } = this.#d;
    if (this.config.unicastPeers.length === 0) channel.join(this.config.mcastGroup);
    channel.listen(this.config.vrid, (packet, ip) => this.#onPacket(packet, ip));
    const tracked = new Set<string>(this.config.trackInterfaces.map((t) => t.interface));
    if (this.config.trackPrimary) tracked.add(this.config.interface);
    for (const ifname of tracked) links.watch(ifname);
    this.#unsubscribe.push(
      links.subscribe((ifname) => {
        if (tracked.has(ifname)) this.recomputeTracking();
      }),
    );
    for (const t of this.config.trackScripts) {
      const runner = scripts.get(t.script);
      if (runner !== undefined) this.#unsubscribe.push(runner.subscribe(() => this.recomputeTracking()));
    }
    for (const t of this.config.trackFiles) {
      const file = this.#d.files?.get(t.file);
      if (file !== undefined) this.#unsubscribe.push(file.subscribe(() => this.recomputeTracking()));
    }
    const processes = new Set(this.config.trackProcesses.map((t) => t.process));
    if (processes.size > 0 && this.#d.processes !== undefined) {
      this.#unsubscribe.push(
        this.#d.processes.subscribe((name) => {
          if (processes.has(name)) this.recomputeTracking();
        }),
      );
    }
    this.#applyTracking(false);
    this.#warnShortLease();
    // As keepalived: VIPs left behind by a crashed run must not answer while we are BACKUP.
    this.#queueIp('del');
    this.execute(this.machine.start());
  }

  /** Re-reads every tracker and applies the result (priority, FAULT). */
  recomputeTracking(): void {
    if (this.#stopped) return;
    this.#applyTracking(true);
  }

  #applyTracking(announce: boolean): void {
    const effects: TrackerEffect[] = [];
    const { links, scripts } = this.#d;
    if (this.config.trackPrimary) {
      effects.push(
        interfaceEffect(
          { interface: this.config.interface, weight: 0, reverse: false },
          links.isUp(this.config.interface),
        ),
      );
    }
    for (const t of this.config.trackInterfaces) effects.push(interfaceEffect(t, links.isUp(t.interface)));
    for (const t of this.config.trackScripts) {
      const runner = scripts.get(t.script);
      if (runner !== undefined) effects.push(scriptEffect(t, runner.config as VrrpScriptConfig, runner.ok));
    }
    for (const t of this.config.trackFiles) {
      const file = this.#d.files?.get(t.file);
      if (file === undefined) continue;
      const { weight, weightReverse } = file.config;
      effects.push(fileEffect(t.file, file.value, t.weight ?? weight, t.reverse ?? weightReverse));
    }
    const processes = this.#d.processes;
    for (const t of this.config.trackProcesses) {
      const own = processes?.weightOf(t.process);
      if (processes === undefined || own === undefined) continue;
      effects.push(
        processEffect(t.process, processes.isUp(t.process), t.weight ?? own.weight, t.reverse ?? own.reverse),
      );
    }
    const fault = effects.find((e) => e.fault !== undefined)?.fault;
    const priority = effectivePriority(
      this.config.priority,
      effects.map((e) => e.delta),
    );
    const hadFault = this.machine.ownFault;
    const actions = [...this.machine.setPriority(priority), ...this.machine.setFault(fault)];
    if (announce) this.execute(actions);
    else this.#afterExecute(actions);
    if (hadFault !== (fault !== undefined)) this.#d.afterFaultChange?.(this);
  }

  /**
   * Carries out machine actions, then lets the sync group react and re-arms the timer.
   * In a takeover the wire comes first (advert, VIPs, first GARP), then the transition's
   * log line and notify hooks, as keepalived orders it: a log line costs 0.2–0.7 ms after
   * an idle spell, which the GARP should not wait for.
   */
  execute(actions: readonly MachineAction[]): void {
    const takeover = actions.some((a) => a.type === 'enter-master');
    if (takeover) this.#takeoverStartedAt = this.#d.clock.now();
    this.#deferAnnouncements = takeover;
    try {
      for (const action of actions) this.#do(action, actions);
    } finally {
      this.#deferAnnouncements = false;
    }
    // After the GARPs (sent from the address queue) unless they already flushed it.
    if (takeover) this.#enqueue(async () => this.#flushAnnouncements());
    this.#afterExecute(actions);
  }

  /** Log lines and notify hooks of transitions held back during a takeover, in order. */
  #flushAnnouncements(): void {
    const pending = this.#announcements;
    if (pending.length === 0) return;
    this.#announcements = [];
    for (const announce of pending) announce();
  }

  #afterExecute(actions: readonly MachineAction[]): void {
    if (actions.length > 0) this.#d.afterActions?.(this, actions);
    this.#arm();
  }

  /** Graceful stop: priority 0 advert if MASTER, VIPs removed, notify STOP. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.execute(this.machine.stop());
    this.#stopped = true;
    this.#disarm();
    for (const u of this.#unsubscribe) u();
    this.#d.channel.unlisten(this.config.vrid);
    await this.#ipChain;
  }

  snapshot(): InstanceSnapshot {
    const m = this.machine;
    const master = m.masterIp;
    const leaseMs = m.leaseMs;
    const renewedAt = m.leaseRenewedAt;
    return {
      name: this.config.name,
      state: m.state,
      interface: this.config.interface,
      vrid: this.config.vrid,
      version: this.config.version,
      advertIntMs: this.config.advertIntMs,
      priority: m.priority,
      configuredPriority: m.configuredPriority,
      masterAddress: master === undefined ? null : intToIpv4(master),
      masterPriority: m.masterPriority ?? null,
      sourceAddress: this.#sourceIp,
      unicastPeers: this.config.unicastPeers.map((p) => p.address),
      preempt: this.config.preempt,
      vips: this.#placed.map((v) => `${v.address}/${v.prefix} dev ${v.dev}`),
      vipsInstalled: this.#vipsInstalled,
      vipBackend: this.#d.ip.kind,
      vipLease:
        leaseMs === undefined
          ? null
          : {
              seconds: leaseMs / 1000,
              renewedAgoMs: renewedAt === undefined ? null : Math.round(this.#d.clock.now() - renewedAt),
              renewals: m.counters.leaseRenewals,
              lapses: m.counters.leaseLapses,
              renewErrors: this.#renewErrors,
            },
      lastTakeover: this.#takeover,
      ...(this.#d.syncGroup !== undefined && { syncGroup: this.#d.syncGroup }),
      ...(m.faultReason !== undefined && m.state === 'FAULT' && { faultReason: m.faultReason }),
      lastTransition: this.#lastTransition,
      counters: { ...m.counters, ...this.#counters },
      drops: { ...this.#drops },
    };
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #arm(): void {
    if (this.#stopped) return;
    const next = this.machine.nextDeadline();
    if (next === this.#timerAt && (this.#timer !== undefined || this.#immediate !== undefined)) return;
    this.#disarm();
    this.#timerAt = next;
    if (next === undefined) return;
    const fire = () => {
      this.#timer = undefined;
      this.#immediate = undefined;
      this.#timerAt = undefined;
      this.execute(this.machine.tick());
    };
    const delay = next - this.#d.clock.now();
    if (this.#d.preciseDownTimer !== true || this.machine.state !== 'BACKUP') {
      this.#timer = setTimeout(fire, Math.ceil(Math.max(0, delay)));
      return;
    }
    // A BACKUP's deadline is its takeover. libuv timers count whole milliseconds and fire up
    // to ~1–2 ms late, so wake a little early and yield to the event loop (I/O still runs)
    // until the deadline has passed.
    const spin = () => {
      this.#timer = undefined;
      if (this.#d.clock.now() >= next) fire();
      else this.#immediate = setImmediate(spin);
    };
    if (delay <= PRECISE_WAKE_EARLY_MS) this.#immediate = setImmediate(spin);
    else this.#timer = setTimeout(spin, Math.floor(delay - PRECISE_WAKE_EARLY_MS));
  }

  #drop(reason: DecodeDropReason | AdvertDropReason): void {
    this.#drops[reason] = (this.#drops[reason] ?? 0) + 1;
  }

  #onPacket(packet: Buffer, ip: Ipv4Header): void {
    if (this.#stopped) return;
    this.#counters.advertsReceived++;
    const decoded = decodeAdvert(
      packet,
      ip.headerLength,
      ip.totalLength,
      ip.src,
      ip.dst,
      this.config.v3ChecksumAsV2,
    );
    if (!decoded.ok) {
      this.#drop(decoded.reason);
      if (decoded.otherChecksumMethod === true && !this.#warnedChecksum) {
        this.#warnedChecksum = true;
        this.#d.logger.warn({ instance: this.name, from: intToIpv4(ip.src) }, decoded.detail);
      }
      return;
    }
    const reason = checkAdvert(this.#check, ip, decoded.advert);
    if (reason !== undefined) {
      this.#drop(reason);
      return;
    }
    this.execute(
      this.machine.receive({
        priority: decoded.advert.priority,
        src: ip.src,
        advertIntMs: decoded.advert.advertIntMs,
      }),
    );
  }

  #do(action: MachineAction, batch: readonly MachineAction[]): void {
    switch (action.type) {
      case 'transition':
        this.#onTransition(action.from, action.to, action.reason);
        return;
      case 'send-advert':
        this.#sendAdvert(action.priority);
        return;
      case 'enter-master': {
        // Set by execute() before the advert went out: the takeover's timings start at the decision.
        const startedAt = this.#takeoverStartedAt ?? this.#d.clock.now();
        this.#takeoverStartedAt = startedAt;
        this.#queueIp('add', action.leaseMs); // before the GARPs: netlink applies it right here
        const entered = batch.find((a) => a.type === 'transition' && a.to === 'MASTER');
        this.#takeover = {
          at: new Date(this.#d.clock.wallNow() - (this.#d.clock.now() - startedAt)).toISOString(),
          reason: entered?.type === 'transition' ? entered.reason : '',
          downTimerLateMs: action.downTimerLateMs === undefined ? null : round2(action.downTimerLateMs),
          vipAddMs: null,
          firstGarpMs: null,
          backend: this.#d.ip.kind,
        };
        return;
      }
      case 'renew-vips':
        this.#queueIp('renew', action.leaseMs);
        return;
      case 'leave-master':
        this.#takeoverStartedAt = undefined;
        this.#queueIp('del');
        return;
      case 'garp': {
        // After the queued address change: announce addresses we really hold.
        const { repeat, why } = action;
        this.#enqueue(() => this.#sendGarps(repeat, why));
        return;
      }
      case 'want-master':
        return;
    }
  }

  /** A configured lease shorter than a backup's down timer trades a gap for no overlap: say so once. */
  #warnShortLease(): void {
    const leaseMs = this.machine.leaseMs;
    if (leaseMs === undefined || this.config.vipLease?.fixedMs === undefined) return;
    const longest = longestMasterDownMs(this.config.advertIntMs, this.config.downTimerAdverts);
    if (leaseMs >= longest) return;
    this.#d.logger.warn(
      { instance: this.name, leaseMs, longestMasterDownMs: Math.round(longest) },
      `vip_lease ${leaseMs / 1000}s is shorter than a backup's Master_Down_Interval (up to ${Math.round(longest)} ms): ` +
        'a master stalled in between leaves the VIPs with no holder until a backup takes over',
    );
  }

  #onTransition(from: VrrpState, to: VrrpState, reason: string): void {
    this.#lastTransition = { at: new Date(this.#d.clock.wallNow()).toISOString(), from, to, reason };
    const priority = this.machine.priority;
    const announce = () => {
      this.#d.logger.info(
        { instance: this.name, from, to, reason, priority },
        `(${this.name}) Entering ${to} STATE`,
      );
      if (to === 'MASTER' || to === 'BACKUP' || to === 'FAULT' || to === 'STOP') {
        this.#d.notifier.notify(this.config.notify, 'INSTANCE', this.name, to, priority);
      }
    };
    if (this.#deferAnnouncements) {
      this.#announcements.push(announce);
      return;
    }
    this.#flushAnnouncements(); // keep the order of earlier, held-back transitions
    announce();
  }

  #sendAdvert(priority: number): void {
    const advert = { ...this.#advertTemplate, priority };
    try {
      if (this.config.unicastPeers.length === 0) {
        const payload = encodeAdvert(advert, {
          src: this.#check.primaryIp,
          dst: this.#check.mcastGroup,
          v3ChecksumAsV2: this.config.v3ChecksumAsV2,
        });
        this.#d.channel.send(payload, this.config.mcastGroup, this.#sourceIp);
      } else {
        for (const peer of this.config.unicastPeers) {
          const payload = encodeAdvert(advert, {
            src: this.#check.primaryIp,
            dst: ipv4ToInt(peer.address),
            v3ChecksumAsV2: this.config.v3ChecksumAsV2,
          });
          this.#d.channel.send(payload, peer.address, this.#sourceIp);
        }
      }
    } catch (err) {
      this.#counters.sendErrors++;
      const message = errorMessage(err);
      if (message !== this.#lastSendError) {
        this.#lastSendError = message;
        this.#d.logger.warn({ instance: this.name, err: message }, 'sending a VRRP advert failed');
      }
    }
  }

  /** The kernel lifetime for a lease (preferred = valid: the address is never "deprecated" first). */
  static lifetime(leaseMs: number | undefined): AddressLifetime | undefined {
    if (leaseMs === undefined) return undefined;
    const seconds = Math.ceil(leaseMs / 1000);
    return { validLftSec: seconds, preferredLftSec: seconds };
  }

  /**
   * Address changes run one after the other, in the order the machine asked for them.
   * With nothing queued the change starts at once (netlink applies it before this
   * returns), so a takeover's GARPs need not wait for the rest of the transition.
   */
  #queueIp(op: 'add' | 'renew' | 'del', leaseMs?: number): void {
    this.#enqueue(() => this.#ipStep(op, leaseMs));
  }

  /** Runs `work` after everything queued before it (at once when nothing is). Never rejects. */
  #enqueue(work: () => Promise<void>): void {
    const step = async () => {
      try {
        await work();
      } catch (err) {
        this.#d.logger.error({ instance: this.name, err: errorMessage(err) }, 'VIP step failed');
      } finally {
        this.#ipQueued--;
      }
    };
    this.#ipQueued++;
    this.#ipChain = this.#ipQueued === 1 ? step() : this.#ipChain.then(step);
  }

  async #ipStep(op: 'add' | 'renew' | 'del', leaseMs?: number): Promise<void> {
    try {
      if (op === 'del') {
        await this.#d.ip.remove(this.#placed);
        this.#vipsInstalled = false;
        return;
      }
      // A renewal that arrives after the instance left MASTER must not put the VIPs back.
      if (op === 'renew' && this.machine.state !== 'MASTER') return;
      const wasInstalled = this.#vipsInstalled;
      await this.#d.ip.add(this.#placed, VrrpInstance.lifetime(leaseMs));
      this.#vipsInstalled = true;
      if (op === 'add' && this.#takeover !== null && this.#takeoverStartedAt !== undefined) {
        this.#takeover.vipAddMs = round2(this.#d.clock.now() - this.#takeoverStartedAt);
      }
      if (leaseMs !== undefined) this.#leaseRenewed(op, wasInstalled);
    } catch (err) {
      this.#counters.ipErrors++;
      if (op !== 'del' && leaseMs !== undefined) {
        // Retried with the next advert (a renewal re-creates missing addresses).
        if (op === 'renew') this.#renewErrors++;
        this.#leaseFailing = true;
        this.machine.renewFailed();
      }
      this.#d.logger.error(
        { instance: this.name, err: errorMessage(err) },
        `VIP ${op === 'del' ? 'removal' : op === 'renew' ? 'lease renewal' : 'add'} failed`,
      );
    }
  }

  /**
   * A renewal that succeeds after failures may have re-created VIPs the kernel had
   * dropped (or never added): announce them again.
   */
  #leaseRenewed(op: 'add' | 'renew', wasInstalled: boolean): void {
    const now = this.#d.clock.now();
    const leaseMs = this.machine.leaseMs ?? 0;
    const recreated =
      op === 'renew' &&
      this.#leaseFailing &&
      (!wasInstalled || this.#leaseOkAt === undefined || now - this.#leaseOkAt >= leaseMs - 50);
    this.#leaseFailing = false;
    this.#leaseOkAt = now;
    if (recreated) {
      this.#d.logger.warn(
        { instance: this.name },
        'VIPs back after failed lease renewals: announcing them again',
      );
      this.#enqueue(() => this.#sendGarps(this.config.garp.masterRepeat || 1, 'recovered'));
    }
  }

  async #sendGarps(repeat: number, why: string): Promise<void> {
    if (!this.#vipsInstalled || this.machine.state !== 'MASTER') return;
    const sentBefore = this.#counters.garpsSent;
    const macs = new Map<string, Uint8Array>();
    const interval = this.config.garp.intervalMs;
    for (let round = 0; round < repeat; round++) {
      for (const vip of this.#placed) {
        try {
          let mac = macs.get(vip.dev);
          if (mac === undefined) {
            const info = interfaceInfo(vip.dev);
            if (info === null) throw new Error(`no interface ${vip.dev}`);
            mac = parseMac(info.mac);
            macs.set(vip.dev, mac);
          }
          sendFrame(vip.dev, gratuitousArp(mac, ipv4ToInt(vip.address)));
          this.#counters.garpsSent++;
          if (why === 'master' && this.#takeoverStartedAt !== undefined && this.#takeover !== null) {
            this.#takeover.firstGarpMs = round2(this.#d.clock.now() - this.#takeoverStartedAt);
            this.#takeoverStartedAt = undefined;
            this.#flushAnnouncements(); // the rest of a GARP burst need not hold up the log and notify
          }
        } catch (err) {
          this.#counters.garpErrors++;
          this.#d.logger.debug({ instance: this.name, err: errorMessage(err) }, 'gratuitous ARP failed');
        }
        if (interval > 0) await new Promise((resolve) => setTimeout(resolve, interval));
      }
    }
    const sent = this.#counters.garpsSent - sentBefore;
    // Info for the bursts that move a VIP (the lab reads their times); refreshes are routine.
    const level = why === 'master' || why === 'lease' ? 'info' : 'debug';
    this.#d.logger[level](
      { instance: this.name, why, garps: sent, ...(why === 'master' && { takeover: this.#takeover }) },
      `sent ${sent} gratuitous ARPs (${why})`,
    );
  }
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;
/** How early a precise down timer wakes before its deadline. */
const PRECISE_WAKE_EARLY_MS = 2;
