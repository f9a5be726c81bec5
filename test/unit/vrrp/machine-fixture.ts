import { ManualClock } from '../../../src/core/clock.ts';
import type { GarpSettings } from '../../../src/vrrp/config-schema.ts';
import {
  type MachineAction,
  type MachineSettings,
  VrrpInstanceMachine,
} from '../../../src/vrrp/instance-machine.ts';

/* A VRRP instance machine on a manual clock, shared by the state-machine tests. */

export const OWN_IP = 0x0a00000b; // 10.0.0.11
export const LOWER_IP = 0x0a00000a;
export const HIGHER_IP = 0x0a00000c;

export const NO_GARP: GarpSettings = {
  masterDelayMs: 0,
  masterRepeat: 0,
  masterRefreshMs: 0,
  masterRefreshRepeat: 1,
  lowerPrioRepeat: 0,
  lowerPrioDelayMs: 5000,
  intervalMs: 0,
};

/** VRRPv2 at 1 s, preempting, no GARPs, owning OWN_IP; `settings` override any of it. The clock starts at 1000. */
export function newMachine(priority: number, settings: Partial<MachineSettings> = {}) {
  const clock = new ManualClock(1000);
  const m = new VrrpInstanceMachine(
    {
      version: 2,
      advertIntMs: 1000,
      preempt: true,
      preemptDelayMs: 0,
      primaryIp: OWN_IP,
      downTimerAdverts: 3,
      lowerPrioNoAdvert: false,
      higherPrioSendAdvert: false,
      garp: NO_GARP,
      syncGrouped: false,
      ...settings,
    },
    priority,
    clock,
  );
  return { m, clock };
}

/** The state changes among `actions`, as "FROM->TO". */
export const transitions = (actions: readonly MachineAction[]) =>
  actions.flatMap((a) => (a.type === 'transition' ? [`${a.from}->${a.to}`] : []));
