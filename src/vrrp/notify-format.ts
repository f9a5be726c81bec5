import type { NotifyScripts } from './config-schema.ts';

/*
 * keepalived's notification formats. Pure.
 *  - notify FIFO lines:    INSTANCE "VI_1" MASTER 100   /   GROUP "G1" BACKUP
 *  - the `notify` script:  SCRIPT INSTANCE|GROUP NAME STATE PRIORITY
 *  - notify_master|backup|fault|stop: the command as configured.
 */

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';
export type NotifyKind = 'INSTANCE' | 'GROUP';

export function fifoLine(kind: NotifyKind, name: string, state: NotifyState, priority?: number): string {
  return kind === 'INSTANCE'
    ? `INSTANCE "${name}" ${state} ${priority ?? 0}\n`
    : `GROUP "${name}" ${state}\n`;
}

const SHELL_SAFE = /^[A-Za-z0-9_\-./:=@%+,^]+$/;

function shellWord(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The /bin/sh command lines to run for a transition, in keepalived's order (specific script, then notify). */
export function notifyCommands(
  scripts: NotifyScripts,
  kind: NotifyKind,
  name: string,
  state: NotifyState,
  priority: number,
): string[] {
  const out: string[] = [];
  const specific =
    state === 'MASTER'
      ? scripts.master
      : state === 'BACKUP'
        ? scripts.backup
        : state === 'FAULT'
          ? scripts.fault
          : scripts.stop;
  if (specific !== undefined) out.push(specific);
  if (scripts.notify !== undefined) {
    out.push(`${scripts.notify} ${kind} ${shellWord(name)} ${state} ${priority}`);
  }
  return out;
}
