import type { Clock } from '../core/clock.ts';
import type { GarpSettings } from './config-schema.ts';
import type { VrrpVersion } from './vrrp-packet.ts';
import {
  KERNEL_LEASE_LATE_MS,
  LEASE_MARGIN_MS,
  longestMasterDownMs,
  masterDownIntervalMs,
  masterIntervalFor,
  skewTimeMs,
  vipLeaseMs,
} from './vrrp-timers.ts';

/*
 * One VRRP instance's state machine (RFC 3768 / RFC 9568 §6.4, with keepalived's
 * FAULT state, preempt_delay, sync groups and GARP schedule). Pure: time comes
 * from the injected clock, nothing is sent — every method returns the actions the
 * shell must carry out, and `nextDeadline()` tells when to call `tick()` next.
 *
 * VIP leases (issue 7): a MASTER holds its VIPs as kernel addresses with a
 * lifetime and renews it along with its adverts — only as often as needed for the
 * lease never to run out while the adverts still hold the backups back. A master
 * that finds its lease may have lapsed (it was stopped, hung or starved for about
 * the lease time) knows every backup has taken over meanwhile, so it returns to
 * BACKUP instead of putting the VIPs back, and VRRP decides again.
 */

/** Renew a little before the last moment the lease still outlasts a backup's down timer. */
const LEASE_RENEW_GUARD_MS = LEASE_MARGIN_MS;
/** Treat the lease as gone this long before its end (the kernel may remove it 20 ms early). */
const LEASE_LAPSE_GUARD_MS = LEASE_MARGIN_MS;

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface MachineSettings {
  version: VrrpVersion;
  advertIntMs: number;
  preempt: boolean;
  preemptDelayMs: number;
  /** Our advert source address (u32): breaks ties between equal priorities. */
  primaryIp: number;
  downTimerAdverts: number;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  garp: GarpSettings;
  /** In a sync group, an expired down timer asks the group before going MASTER. */
  syncGrouped: boolean;
  /** VIP lease: absent = permanent addresses (keepalived); `fixedMs` overrides the derived lifetime. */
  vipLease?: { fixedMs?: number };
}

export type MachineAction =
  | { type: 'transition'; from: VrrpState; to: VrrpState; reason: string }
  | { type: 'send-advert'; priority: number }
  /** Add the VIPs (before the GARPs that follow), with `leaseMs` as their lifetime when leased. */
  | { type: 'enter-master'; leaseMs?: number; downTimerLateMs?: number }
  /** Refresh the VIPs' lease (same addresses, new lifetime from now). */
  | { type: 'renew-vips'; leaseMs: number }
  /** Remove the VIPs. */
  | { type: 'leave-master' }
  | {
      type: 'garp';
      repeat: number;
      /** lease: after the silent master's lease must have run out (its node no longer answers ARP). */
      why: 'master' | 'master-delay' | 'refresh' | 'lower-prio' | 'lease';
    }
  /** Down timer expired inside a sync group: the group decides. */
  | { type: 'want-master' };

/** A validated advert (checkAdvert passed) from another router. */
export interface ReceivedAdvert {
  priority: number;
  /** Source address (u32). */
  src: number;
  advertIntMs: number;
}

export interface MachineCounters {
  becameMaster: number;
  releasedMaster: number;
  advertsSent: number;
  advertsAccepted: number;
  priorityZeroReceived: number;
  priorityZeroSent: number;
  /** Lower priority adverts a preempting BACKUP ignored. */
  lowerPriorityIgnored: number;
  /** Lower priority adverts a MASTER answered (split brain). */
  lowerPriorityAnswered: number;
  leaseRenewals: number;
  /** Times this MASTER found its lease run out (stopped or stalled) and went BACKUP. */
  leaseLapses: number;
}

export class VrrpInstanceMachine {
  readonly #s: MachineSettings;
  readonly #clock: Clock;
  readonly #configuredPriority: number;
  #priority: number;
  #state: VrrpState = 'INIT';
  #ownFault: string | undefined;
  #groupFault = false;
  #wantMaster = false;
  #downAt: number | undefined;
  #advertAt: number | undefined;
  #garpDelayAt: number | undefined;
  #garpRefreshAt: number | undefined;
  #garpLowerPrioAt: number | undefined;
  #garpLeaseAt: number | undefined;
  #leaseRenewedAt: number | undefined;
  #renewNext = false;
  #lastMasterAdvertAt: number | undefined;
  #preemptUntil: number | undefined;
  #lastLowerPrioGarpAt: number | undefined;
  #masterIp: number | undefined;
  #masterPriority: number | undefined;
  #learnedIntervalMs: number | undefined;
  #lastTransitionAt: number;
  readonly counters: MachineCounters = {
    becameMaster: 0,
    releasedMaster: 0,
    advertsSent: 0,
    advertsAccepted: 0,
    priorityZeroReceived: 0,
    priorityZeroSent: 0,
    lowerPriorityIgnored: 0,
    lowerPriorityAnswered: 0,
    leaseRenewals: 0,
    leaseLapses: 0,
  };

  constructor(settings: MachineSettings, configuredPriority: number, clock: Clock) {
    this.#s = settings;
    this.#clock = clock;
    this.#configuredPriority = configuredPriority;
    this.#priority = configuredPriority;
    this.#lastTransitionAt = clock.now();
  }

  get state(): VrrpState {
    return this.#state;
  }

  get priority(): number {
    return this.#priority;
  }

  get configuredPriority(): number {
    return this.#configuredPriority;
  }

  /** The current master's address (ours while MASTER), when known. */
  get masterIp(): number | undefined {
    return this.#state === 'MASTER' ? this.#s.primaryIp : this.#masterIp;
  }

  get masterPriority(): number | undefined {
    return this.#state === 'MASTER' ? this.#priority : this.#masterPriority;
  }

  get wantsMaster(): boolean {
    return this.#wantMaster;
  }

  /** Why the instance is in FAULT (own trackers), if it is. */
  get faultReason(): string | undefined {
    return this.#ownFault ?? (this.#groupFault ? 'sync group member in FAULT' : undefined);
  }

  get ownFault(): boolean {
    return this.#ownFault !== undefined;
  }

  get lastTransitionAt(): number {
    return this.#lastTransitionAt;
  }

  /** The interval a backup currently times the master with. */
  get masterAdvertIntMs(): number {
    return masterIntervalFor(this.#s.version, this.#s.advertIntMs, this.#learnedIntervalMs);
  }

  masterDownIntervalMs(): number {
    return masterDownIntervalMs(this.#priority, this.masterAdvertIntMs, this.#s.downTimerAdverts);
  }

  /** The lifetime our VIPs get as MASTER, or undefined when they are permanent. */
  get leaseMs(): number | undefined {
    const lease = this.#s.vipLease;
    if (lease === undefined) return undefined;
    return vipLeaseMs(lease.fixedMs, this.#s.advertIntMs, this.#s.downTimerAdverts);
  }

  /** When the current lease was last given (MASTER only). */
  get leaseRenewedAt(): number | undefined {
    return this.#state === 'MASTER' ? this.#leaseRenewedAt : undefined;
  }

  /** The shell could not renew: renew again with the next advert, whatever the slack. */
  renewFailed(): void {
    this.#renewNext = true;
  }

  /** The earliest time `tick()` has something to do. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const t of [
      this.#downAt,
      this.#advertAt,
      this.#garpDelayAt,
      this.#garpRefreshAt,
      this.#garpLowerPrioAt,
      this.#garpLeaseAt,
    ]) {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /** INIT → MASTER (owner), BACKUP, or FAULT. */
  start(): MachineAction[] {
    const out: MachineAction[] = [];
    if (this.#state !== 'INIT') return out;
    if (this.#faulty()) this.#goFault(out, this.faultReason ?? 'fault');
    else if (this.#priority === 255) this.#goMaster(out, 'address owner (priority 255)');
    else this.#goBackup(out, 'started');
    return out;
  }

  tick(): MachineAction[] {
    const now = this.#clock.now();
    const out: MachineAction[] = [];
    this.#checkLease(out, now);
    if (this.#state === 'BACKUP' && this.#downAt !== undefined && this.#downAt <= now) {
      if (this.#s.syncGrouped) {
        // keepalived prefers BACKUP: the group goes MASTER only when every member wants to.
        this.#wantMaster = true;
        this.#downAt = now + this.masterDownIntervalMs();
        out.push({ type: 'want-master' });
      } else {
        this.#goMaster(out, this.#masterIp === undefined ? 'no master heard' : 'master down timer expired');
      }
    }
    if (this.#state === 'MASTER') {
      if (this.#advertAt !== undefined && this.#advertAt <= now) this.#advertise(out, now);
      if (this.#garpDelayAt !== undefined && this.#garpDelayAt <= now) {
        this.#garpDelayAt = undefined;
        out.push({ type: 'garp', repeat: this.#s.garp.masterRepeat, why: 'master-delay' });
      }
      if (this.#garpRefreshAt !== undefined && this.#garpRefreshAt <= now) {
        this.#garpRefreshAt = now + this.#s.garp.masterRefreshMs;
        out.push({ type: 'garp', repeat: this.#s.garp.masterRefreshRepeat, why: 'refresh' });
      }
      if (this.#garpLowerPrioAt !== undefined && this.#garpLowerPrioAt <= now) {
        this.#garpLowerPrioAt = undefined;
        out.push({ type: 'garp', repeat: this.#s.garp.lowerPrioRepeat, why: 'lower-prio' });
      }
      if (this.#garpLeaseAt !== undefined && this.#garpLeaseAt <= now) {
        this.#garpLeaseAt = undefined;
        out.push({ type: 'garp', repeat: this.#s.garp.masterRepeat, why: 'lease' });
      }
    }
    return out;
  }

  /** An advert that passed checkAdvert. */
  receive(advert: ReceivedAdvert): MachineAction[] {
    const now = this.#clock.now();
    const out: MachineAction[] = [];
    // After a stop or stall the queued adverts are read first: a lapsed lease means BACKUP before anything else.
    this.#checkLease(out, now);
    if (advert.priority === 0) this.counters.priorityZeroReceived++;
    if (this.#state === 'BACKUP') {
      if (advert.priority === 0) {
        // The master is leaving: take over after Skew_Time only.
        this.#masterIp = undefined;
        this.#masterPriority = undefined;
        this.#downAt = now + skewTimeMs(this.#priority, this.masterAdvertIntMs);
        return out;
      }
      const lower = advert.priority < this.#priority;
      if (lower && this.#s.preempt) {
        if (this.#s.preemptDelayMs > 0) {
          this.#preemptUntil ??= now + this.#s.preemptDelayMs;
          if (now < this.#preemptUntil) {
            this.#acceptMaster(advert, now);
            return out;
          }
        }
        this.counters.lowerPriorityIgnored++;
        return out;
      }
      this.#preemptUntil = undefined;
      this.#acceptMaster(advert, now);
      return out;
    }
    if (this.#state === 'MASTER') {
      if (advert.priority === 0) {
        this.#advertise(out, now);
        return out;
      }
      const higher =
        advert.priority > this.#priority ||
        (advert.priority === this.#priority && advert.src > this.#s.primaryIp);
      if (higher) {
        if (this.#s.higherPrioSendAdvert) this.#advertise(out, now, false);
        this.#leaveMaster(out, `higher priority advert (${advert.priority}) received`);
        this.#acceptMaster(advert, now);
        return out;
      }
      // RFC 9568: answer a lower priority master at once so it yields (split brain healing).
      this.counters.lowerPriorityAnswered++;
      if (!this.#s.lowerPrioNoAdvert) this.#advertise(out, now);
      // A set of GARPs now and a second after garp_lower_prio_delay (the other node's own
      // GARPs may still be on their way), at most one pair per delay.
      const g = this.#s.garp;
      if (
        g.lowerPrioRepeat > 0 &&
        this.#garpLowerPrioAt === undefined &&
        (this.#lastLowerPrioGarpAt === undefined || now - this.#lastLowerPrioGarpAt >= g.lowerPrioDelayMs)
      ) {
        this.#lastLowerPrioGarpAt = now;
        out.push({ type: 'garp', repeat: g.lowerPrioRepeat, why: 'lower-prio' });
        if (g.lowerPrioDelayMs > 0) this.#garpLowerPrioAt = now + g.lowerPrioDelayMs;
      }
    }
    return out;
  }

  /** The effective priority from trackers (already clamped; 255 owners never change). */
  setPriority(priority: number): MachineAction[] {
    const out: MachineAction[] = [];
    if (priority === this.#priority) return out;
    this.#checkLease(out, this.#clock.now());
    this.#priority = priority;
    // Tell the backups at once, so a higher priority one can preempt without waiting an interval.
    if (this.#state === 'MASTER') this.#advertise(out, this.#clock.now());
    return out;
  }

  /** Own trackers (interfaces, scripts with weight 0) failing or recovering. */
  setFault(reason: string | undefined): MachineAction[] {
    this.#ownFault = reason;
    return this.#applyFault();
  }

  /** Sync group: another member is in FAULT. */
  setGroupFault(fault: boolean): MachineAction[] {
    this.#groupFault = fault;
    return this.#applyFault();
  }

  /** Sync group: every member wants MASTER, or another member became MASTER. */
  forceMaster(reason: string): MachineAction[] {
    const out: MachineAction[] = [];
    if (this.#state === 'BACKUP') this.#goMaster(out, reason);
    return out;
  }

  /** Sync group: another member went BACKUP. */
  forceBackup(reason: string): MachineAction[] {
    const out: MachineAction[] = [];
    if (this.#state === 'MASTER') this.#leaveMaster(out, reason);
    return out;
  }

  /** Graceful stop: a MASTER sends priority 0 so a backup takes over after Skew_Time. */
  stop(): MachineAction[] {
    const out: MachineAction[] = [];
    if (this.#state === 'STOP') return out;
    if (this.#state === 'MASTER') this.#releaseMaster(out);
    this.#transition(out, 'STOP', 'stopping');
    this.#clearTimers();
    return out;
  }

  #faulty(): boolean {
    return this.#ownFault !== undefined || this.#groupFault;
  }

  #applyFault(): MachineAction[] {
    const out: MachineAction[] = [];
    if (this.#state === 'INIT' || this.#state === 'STOP') return out;
    if (this.#faulty() && this.#state !== 'FAULT') {
      this.#goFault(out, this.faultReason!);
    } else if (!this.#faulty() && this.#state === 'FAULT') {
      if (this.#priority === 255) this.#goMaster(out, 'fault cleared, address owner');
      else this.#goBackup(out, 'fault cleared');
    }
    return out;
  }

  #acceptMaster(advert: ReceivedAdvert, now: number): void {
    this.counters.advertsAccepted++;
    this.#lastMasterAdvertAt = now;
    this.#wantMaster = false;
    this.#masterIp = advert.src;
    this.#masterPriority = advert.priority;
    if (this.#s.version === 3) this.#learnedIntervalMs = advert.advertIntMs;
    this.#downAt = now + this.masterDownIntervalMs();
  }

  /** Sends an advert and, while MASTER, renews the lease when waiting for the next one would be too late. */
  #advertise(out: MachineAction[], now: number, renew = true): void {
    out.push({ type: 'send-advert', priority: this.#priority });
    this.counters.advertsSent++;
    this.#advertAt = now + this.#s.advertIntMs;
    const leaseMs = this.leaseMs;
    if (!renew || leaseMs === undefined || this.#state !== 'MASTER' || this.#leaseRenewedAt === undefined)
      return;
    // Skipping is safe while a backup that hears this advert still takes over before the lease ends.
    const slack =
      leaseMs - longestMasterDownMs(this.#s.advertIntMs, this.#s.downTimerAdverts) - LEASE_RENEW_GUARD_MS;
    if (this.#renewNext || now - this.#leaseRenewedAt > slack) {
      this.#renewNext = false;
      this.#leaseRenewedAt = now;
      this.counters.leaseRenewals++;
      out.push({ type: 'renew-vips', leaseMs });
    }
  }

  /**
   * A MASTER whose lease may have run out (no renewal for about its lifetime: the
   * process was stopped, hung or starved) has lost its VIPs in the kernel and, by
   * the lease's length, every backup has taken over: back to BACKUP, VIPs removed
   * (whatever is left of them), no advert — the current master's adverts decide.
   */
  #checkLease(out: MachineAction[], now: number): void {
    const leaseMs = this.leaseMs;
    if (this.#state !== 'MASTER' || leaseMs === undefined || this.#leaseRenewedAt === undefined) return;
    const silentMs = now - this.#leaseRenewedAt;
    if (silentMs < leaseMs - LEASE_LAPSE_GUARD_MS) return;
    this.counters.leaseLapses++;
    this.counters.releasedMaster++;
    this.#transition(
      out,
      'BACKUP',
      `VIP lease lapsed: not renewed for ${Math.round(silentMs)} ms (lease ${leaseMs / 1000}s; stopped or stalled)`,
    );
    out.push({ type: 'leave-master' });
    this.#clearMasterTimers();
    this.#masterIp = undefined;
    this.#masterPriority = undefined;
    this.#downAt = now + this.masterDownIntervalMs();
  }

  #goMaster(out: MachineAction[], reason: string): void {
    const now = this.#clock.now();
    const downTimerLateMs =
      this.#downAt !== undefined && this.#downAt <= now ? now - this.#downAt : undefined;
    // A master that went silent (no priority 0) may still hold the VIPs until its lease runs out.
    const silentMasterLeaseEnd =
      this.#masterIp !== undefined && this.#lastMasterAdvertAt !== undefined && this.#s.vipLease !== undefined
        ? this.#lastMasterAdvertAt +
          vipLeaseMs(this.#s.vipLease.fixedMs, this.masterAdvertIntMs, this.#s.downTimerAdverts)
        : undefined;
    this.#transition(out, 'MASTER', reason);
    this.counters.becameMaster++;
    this.#wantMaster = false;
    this.#downAt = undefined;
    this.#preemptUntil = undefined;
    this.#masterIp = undefined;
    this.#masterPriority = undefined;
    const leaseMs = this.leaseMs;
    this.#leaseRenewedAt = leaseMs === undefined ? undefined : now;
    this.#renewNext = false;
    // RFC 5798 6.4.2 and keepalived: the advert first (other backups stop their timers), then the VIPs.
    this.#advertise(out, now, false); // the add carries the lease
    out.push({
      type: 'enter-master',
      ...(leaseMs !== undefined && { leaseMs }),
      ...(downTimerLateMs !== undefined && { downTimerLateMs }),
    });
    const g = this.#s.garp;
    if (g.masterRepeat > 0) out.push({ type: 'garp', repeat: g.masterRepeat, why: 'master' });
    this.#garpDelayAt = g.masterDelayMs > 0 && g.masterRepeat > 0 ? now + g.masterDelayMs : undefined;
    this.#garpRefreshAt = g.masterRefreshMs > 0 ? now + g.masterRefreshMs : undefined;
    // Announce again once the silent master's node has surely dropped the VIPs, so the last word
    // in every ARP cache is ours even if that node answered an ARP request meanwhile.
    const leaseGarpAt =
      silentMasterLeaseEnd === undefined ? undefined : silentMasterLeaseEnd + KERNEL_LEASE_LATE_MS;
    this.#garpLeaseAt =
      g.masterRepeat > 0 && leaseGarpAt !== undefined && leaseGarpAt > now ? leaseGarpAt : undefined;
  }

  /** MASTER → BACKUP because another router wins. */
  #leaveMaster(out: MachineAction[], reason: string): void {
    this.#transition(out, 'BACKUP', reason);
    this.counters.releasedMaster++;
    out.push({ type: 'leave-master' });
    this.#clearMasterTimers();
    this.#downAt = this.#clock.now() + this.masterDownIntervalMs();
  }

  /** Priority 0 advert and VIP removal: on stop and on FAULT. */
  #releaseMaster(out: MachineAction[]): void {
    out.push({ type: 'send-advert', priority: 0 });
    this.counters.advertsSent++;
    this.counters.priorityZeroSent++;
    this.counters.releasedMaster++;
    out.push({ type: 'leave-master' });
    this.#clearMasterTimers();
  }

  #goBackup(out: MachineAction[], reason: string): void {
    this.#transition(out, 'BACKUP', reason);
    this.#wantMaster = false;
    this.#masterIp = undefined;
    this.#masterPriority = undefined;
    this.#learnedIntervalMs = undefined;
    this.#downAt = this.#clock.now() + this.masterDownIntervalMs();
  }

  #goFault(out: MachineAction[], reason: string): void {
    if (this.#state === 'MASTER') this.#releaseMaster(out);
    this.#transition(out, 'FAULT', reason);
    this.#clearTimers();
    this.#masterIp = undefined;
    this.#masterPriority = undefined;
  }

  #transition(out: MachineAction[], to: VrrpState, reason: string): void {
    const from = this.#state;
    this.#state = to;
    this.#lastTransitionAt = this.#clock.now();
    out.push({ type: 'transition', from, to, reason });
  }

  #clearMasterTimers(): void {
    this.#advertAt = undefined;
    this.#garpDelayAt = undefined;
    this.#garpRefreshAt = undefined;
    this.#garpLowerPrioAt = undefined;
    this.#garpLeaseAt = undefined;
    this.#leaseRenewedAt = undefined;
    this.#renewNext = false;
  }

  #clearTimers(): void {
    this.#clearMasterTimers();
    this.#downAt = undefined;
    this.#preemptUntil = undefined;
    this.#wantMaster = false;
  }
}
