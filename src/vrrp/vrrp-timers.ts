import type { VrrpVersion } from './vrrp-packet.ts';

/*
 * VRRP's timers (RFC 3768 §6.1, RFC 9568 §6.1), in milliseconds:
 *   Skew_Time            = (256 − Priority) × Master_Adver_Interval / 256
 *   Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time
 * v2 uses the instance's own (whole second) interval; a v3 backup uses the one the
 * master advertises. keepalived makes the 3 configurable (down_timer_adverts).
 */

export function skewTimeMs(priority: number, masterAdvertIntMs: number): number {
  return ((256 - priority) * masterAdvertIntMs) / 256;
}

export function masterDownIntervalMs(
  priority: number,
  masterAdvertIntMs: number,
  downTimerAdverts = 3,
): number {
  return downTimerAdverts * masterAdvertIntMs + skewTimeMs(priority, masterAdvertIntMs);
}

/** The interval a backup times the master with: v3 learns the master's, v2 requires equal intervals. */
export function masterIntervalFor(
  version: VrrpVersion,
  ownMs: number,
  learnedMs: number | undefined,
): number {
  return version === 3 && learnedMs !== undefined ? learnedMs : ownMs;
}

/*
 * VIP leases (kernel address lifetimes). The kernel counts them in whole seconds
 * and removes expired addresses from a delayed work item (net/ipv4/devinet.c
 * check_lifetime): up to HZ/50 = 20 ms early, and late by its rounding to whole
 * seconds (≤ 250 ms; 10–250 ms measured on 6.18) — or, on kernels that stop
 * re-running the check on every renewal, by up to its 1 s minimum interval more.
 */
export const KERNEL_LEASE_EARLY_MS = 20;
export const KERNEL_LEASE_LATE_MS = 1300;
/** Margin kept between a lease's end and a backup's takeover: the early expiry plus scheduling. */
export const LEASE_MARGIN_MS = 50;

/** The longest Master_Down_Interval a backup can have (priority 1). */
export function longestMasterDownMs(masterAdvertIntMs: number, downTimerAdverts = 3): number {
  return masterDownIntervalMs(1, masterAdvertIntMs, downTimerAdverts);
}

/**
 * The lease a master holds its VIPs with: `fixedMs` when configured, else the
 * longest backup Master_Down_Interval plus LEASE_MARGIN_MS, rounded up to whole
 * seconds — so a master that loses its lease has been silent long enough for every
 * backup to have taken over.
 */
export function vipLeaseMs(
  fixedMs: number | undefined,
  masterAdvertIntMs: number,
  downTimerAdverts = 3,
): number {
  if (fixedMs !== undefined) return fixedMs;
  const longest = longestMasterDownMs(masterAdvertIntMs, downTimerAdverts) + LEASE_MARGIN_MS;
  return Math.max(1000, Math.ceil(longest / 1000) * 1000);
}
