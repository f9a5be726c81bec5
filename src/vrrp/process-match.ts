/*
 * vrrp_track_process: which running processes a tracker counts, as keepalived
 * decides it. Pure (no I/O): the watch (process-watch.ts) reads /proc and asks here.
 *  - without params, param_match and full_command: `process` equals the process
 *    name exactly (the comm field of /proc/PID/stat, at most 15 characters);
 *  - otherwise `process` equals argv[0] of /proc/PID/cmdline, then the parameters:
 *    exact (the default) = the same arguments, no more; partial = the first n equal,
 *    more may follow; initial = the first n-1 equal and the nth starts with the last
 *    configured one. param_match with no params = the process has no arguments.
 * Zombies never count.
 */

export interface TrackProcessConfig {
  name: string;
  process: string;
  params?: string[];
  paramMatch?: 'exact' | 'partial' | 'initial';
  fullCommand: boolean;
  weight: number;
  weightReverse: boolean;
  /** Minimum number of matching processes for "up". */
  quorum: number;
  /** Maximum number for "up"; Infinity = unlimited. */
  quorumMax: number;
  forkDelayMs: number;
  terminateDelayMs: number;
}

/** What the matcher needs to know about one process. */
export interface ProcessFacts {
  comm: string;
  /** The state letter of /proc/PID/stat (R, S, D, Z...). */
  state: string;
  /** /proc/PID/cmdline split at NULs; only read when some tracker uses it. */
  argv?: string[];
}

/**
 * The name and state from /proc/PID/stat: "PID (comm) S ...". The name may hold
 * spaces and parentheses, so it runs to the LAST ')'. Malformed text → undefined.
 */
export function parseProcStat(text: string): { comm: string; state: string } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const state = /^ +(\S)/.exec(text.slice(close + 1));
  if (state === null) return undefined;
  return { comm: text.slice(open + 1, close), state: state[1]! };
}

/**
 * argv from /proc/PID/cmdline: NUL-separated, NUL-terminated. A process that
 * rewrote its arguments (setproctitle) may leave no terminating NUL; empty
 * arguments stay (as empty strings). Kernel threads have none: [].
 */
export function splitCmdline(buf: Buffer): string[] {
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0) end--;
  if (end === 0) return buf.length === 0 ? [] : [''];
  return buf.toString('utf8', 0, end).split('\0');
}

/** Whether matching needs /proc/PID/cmdline (else the name in /proc/PID/stat is enough). */
export function usesCmdline(config: TrackProcessConfig): boolean {
  return config.fullCommand || (config.params?.length ?? 0) > 0 || config.paramMatch !== undefined;
}

export function matchesProcess(config: TrackProcessConfig, proc: ProcessFacts): boolean {
  if (proc.state === 'Z') return false;
  if (!usesCmdline(config)) return proc.comm === config.process;
  const argv = proc.argv;
  if (argv === undefined || argv.length === 0 || argv[0] !== config.process) return false;
  const params = config.params ?? [];
  // full_command alone: only argv[0] is compared.
  if (params.length === 0 && config.paramMatch === undefined) return true;
  const args = argv.length - 1;
  if (params.length === 0) return args === 0;
  const n = params.length;
  switch (config.paramMatch ?? 'exact') {
    case 'exact':
      return args === n && params.every((p, i) => argv[i + 1] === p);
    case 'partial':
      return args >= n && params.every((p, i) => argv[i + 1] === p);
    case 'initial':
      return (
        args >= n && params.every((p, i) => (i === n - 1 ? argv[i + 1]!.startsWith(p) : argv[i + 1] === p))
      );
  }
}
