import type { MachineAction, VrrpInstanceMachine, VrrpState } from './instance-machine.ts';

/*
 * vrrp_sync_group: instances that change state together, as keepalived does —
 * the group goes MASTER only when every member wants to (it prefers BACKUP, to
 * avoid thrashing); one member yielding to a higher priority takes the others to
 * BACKUP; one member in FAULT puts the others in FAULT until none has a fault.
 * Pure: it returns the actions each member must carry out.
 */

export interface GroupMember {
  name: string;
  machine: VrrpInstanceMachine;
}

export type GroupReaction = { member: GroupMember; actions: MachineAction[] };

export class SyncGroup {
  readonly name: string;
  readonly members: readonly GroupMember[];
  #reacting = false;

  constructor(name: string, members: readonly GroupMember[]) {
    this.name = name;
    this.members = members;
  }

  /** The group's state as keepalived reports it: the state all members share, else the "worst". */
  get state(): VrrpState {
    const states = this.members.map((m) => m.machine.state);
    if (states.includes('FAULT')) return 'FAULT';
    if (states.every((s) => s === 'MASTER')) return 'MASTER';
    if (states.every((s) => s === 'STOP')) return 'STOP';
    if (states.includes('INIT')) return 'INIT';
    return 'BACKUP';
  }

  /** What the other members must do after `source` produced `actions`. */
  react(source: GroupMember, actions: readonly MachineAction[]): GroupReaction[] {
    if (this.#reacting) return [];
    this.#reacting = true;
    try {
      return this.#react(source, actions);
    } finally {
      this.#reacting = false;
    }
  }

  #react(source: GroupMember, actions: readonly MachineAction[]): GroupReaction[] {
    const out: GroupReaction[] = [];
    const others = this.members.filter((m) => m !== source);
    // FAULT is not handled here: syncFault() runs after every tracker change.
    for (const action of actions) {
      if (action.type === 'want-master') {
        const ready = this.members.every(
          (m) => m.machine.state === 'MASTER' || (m.machine.state === 'BACKUP' && m.machine.wantsMaster),
        );
        if (ready) {
          for (const m of this.members) {
            out.push({
              member: m,
              actions: m.machine.forceMaster(`sync group ${this.name}: all members want MASTER`),
            });
          }
        }
      } else if (action.type === 'transition') {
        if (action.to === 'MASTER') {
          for (const m of others) {
            out.push({
              member: m,
              actions: m.machine.forceMaster(`sync group ${this.name}: ${source.name} became MASTER`),
            });
          }
        } else if (action.to === 'BACKUP' && action.from === 'MASTER') {
          for (const m of others) {
            out.push({
              member: m,
              actions: m.machine.forceBackup(`sync group ${this.name}: ${source.name} went BACKUP`),
            });
          }
        }
      }
    }
    return out.filter((r) => r.actions.length > 0);
  }

  /** After any member's own fault changed: every member is in FAULT while one of them has a fault. */
  syncFault(): GroupReaction[] {
    const fault = this.members.some((m) => m.machine.ownFault);
    const out: GroupReaction[] = [];
    this.#reacting = true;
    try {
      for (const m of this.members) out.push({ member: m, actions: m.machine.setGroupFault(fault) });
    } finally {
      this.#reacting = false;
    }
    return out.filter((r) => r.actions.length > 0);
  }
}
