import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The VRRP namespace lab from Node: creates it with lab.sh under a name unique to
 * this run (parallel runs do not collide), starts hastack / keepalived / helpers
 * inside its namespaces, reads addresses and neighbour entries, and tears
 * everything down — the processes it started (by PID), then the namespaces.
 * Needs root, iproute2 (ip, bridge).
 */

const LAB_SCRIPT = new URL('./lab.sh', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;
const MAIN = join(ROOT, 'src/cli/main.ts');

export const LAB_SUBNET = '10.77.0';
export type LabHost = 'c' | 'w' | `n${number}`;

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: readonly string[], timeoutMs = 20_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Whether this process may build a lab (root with ip and keepalived where asked). */
export async function labAvailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the VRRP lab needs root';
  const ip = await run('ip', ['-V']);
  if (ip.code !== 0) return 'iproute2 (ip) is not installed';
  return undefined;
}

export class LabProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly logFile: string;

  constructor(name: string, child: ChildProcess, logFile: string) {
    this.name = name;
    this.child = child;
    this.logFile = logFile;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /** Sends a signal and waits for the exit (SIGKILL after graceMs). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.kill(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.exited,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.kill('SIGKILL');
          resolve();
        }, graceMs);
      }),
    ]);
    clearTimeout(timer);
    await this.exited;
  }

  async log(): Promise<string> {
    return readFile(this.logFile, 'utf8').catch(() => '');
  }
}

export class VrrpLab {
  readonly name: string;
  readonly nodes: number;
  readonly dir: string;
  readonly #processes: LabProcess[] = [];

  private constructor(name: string, nodes: number, dir: string) {
    this.name = name;
    this.nodes = nodes;
    this.dir = dir;
  }

  /** Builds a lab: client, `nodes` LB nodes, web server, one bridge. */
  static async create(nodes = 2): Promise<VrrpLab> {
    const name = `hs${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
    const dir = await mkdtemp(join(tmpdir(), `${name}-`));
    const lab = new VrrpLab(name, nodes, dir);
    const made = await run('bash', [LAB_SCRIPT, 'create', name, String(nodes)], 60_000);
    if (made.code !== 0) {
      await lab.destroy();
      throw new Error(`lab.sh create failed: ${made.stderr || made.stdout}`);
    }
    // A notify helper every instance can use: appends "NODE TYPE NAME STATE PRIO" with a timestamp.
    await writeFile(
      join(dir, 'record.sh'),
      '#!/bin/sh\nnode=$1; shift\necho "$(date +%s%N) $*" >> "$LAB_DIR/$node.notify"\n',
      {
        mode: 0o755,
      },
    );
    return lab;
  }

  ns(host: LabHost | 'br'): string {
    return `${this.name}-${host}`;
  }

  addressOf(host: LabHost): string {
    if (host === 'c') return `${LAB_SUBNET}.10`;
    if (host === 'w') return `${LAB_SUBNET}.20`;
    return `${LAB_SUBNET}.1${host.slice(1)}`;
  }

  /** The notify command recording transitions of `node` (for notify / keepalived's notify). */
  notifyCommand(node: LabHost): string {
    return `env LAB_DIR=${this.dir} ${join(this.dir, 'record.sh')} ${node}`;
  }

  /** Lines "INSTANCE VI_1 MASTER 150" recorded for a node, oldest first (timestamps stripped). */
  async notifications(node: LabHost): Promise<{ atNs: bigint; text: string }[]> {
    const text = await readFile(join(this.dir, `${node}.notify`), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const space = l.indexOf(' ');
        return { atNs: BigInt(l.slice(0, space)), text: l.slice(space + 1) };
      });
  }

  async lastState(node: LabHost, instance = 'VI_1'): Promise<string | undefined> {
    const lines = (await this.notifications(node)).filter((n) => n.text.startsWith(`INSTANCE ${instance} `));
    return lines.at(-1)?.text.split(' ')[2];
  }

  exec(host: LabHost | 'br', args: readonly string[], timeoutMs?: number): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', this.ns(host), ...args], timeoutMs);
  }

  /** Starts a process inside a namespace; its output goes to DIR/<label>.log. */
  async spawn(
    host: LabHost,
    label: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
  ): Promise<LabProcess> {
    const logFile = join(this.dir, `${label}.log`);
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync(logFile, 'a');
    const child = spawn('ip', ['netns', 'exec', this.ns(host), ...args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
      cwd: ROOT,
    });
    closeSync(fd);
    const proc = new LabProcess(label, child, logFile);
    this.#processes.push(proc);
    return proc;
  }

  /** `hastack up -c FILE` in a node (ip netns exec execs: the PID is hastack's). */
  async startHastack(
    node: LabHost,
    yaml: string,
    label: string = node,
    env: NodeJS.ProcessEnv = {},
  ): Promise<LabProcess> {
    const file = join(this.dir, `${label}.yaml`);
    await writeFile(file, yaml);
    return this.spawn(node, label, [process.execPath, MAIN, 'up', '-c', file], {
      HASTACK_LOG_LEVEL: 'info',
      ...env,
    });
  }

  /**
   * Records when `address` appears on and disappears from a host, from the kernel's
   * own notifications (`ip -ts monitor address`, stamped as they arrive), so no
   * change between two polls can be missed. Stopped with the lab.
   */
  async watchAddress(host: LabHost, address: string): Promise<AddressTimeline> {
    const child = spawn('ip', ['-n', this.ns(host), '-o', '-ts', '-4', 'monitor', 'address'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const proc = new LabProcess(`${host}-monitor`, child, '/dev/null');
    this.#processes.push(proc);
    const timeline = new AddressTimeline(host, address);
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) timeline.onMonitorLine(line);
    });
    // The monitor subscribes as it starts: give it a moment, then take the current state.
    await new Promise((r) => setTimeout(r, 300));
    const now = await run('ip', ['-n', this.ns(host), '-4', '-o', 'addr', 'show']);
    timeline.initial(
      Date.now(),
      now.stdout.split('\n').some((l) => l.includes(` ${address}/`)),
    );
    return timeline;
  }

  /**
   * Samples which nodes hold `vip` every `everyMs` (each node read in turn) until
   * stopped: the "poll both namespaces" view of a takeover.
   */
  pollHolders(vip: string, everyMs = 10): { stop(): Promise<{ at: number; holders: LabHost[] }[]> } {
    const samples: { at: number; holders: LabHost[] }[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const at = Date.now();
        samples.push({ at, holders: await this.holders(vip) });
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return samples;
      },
    };
  }

  /** keepalived 2.x, VRRP only, foreground, no respawn: killing its VRRP process kills it. */
  async startKeepalived(
    node: LabHost,
    conf: string,
    label = `${node}-keepalived`,
  ): Promise<KeepalivedProcess> {
    const file = join(this.dir, `${label}.conf`);
    await writeFile(file, conf);
    const pidFile = join(this.dir, `${label}.pid`);
    const vrrpPidFile = join(this.dir, `${label}.vrrp.pid`);
    const proc = await this.spawn(node, label, [
      '/usr/sbin/keepalived',
      '--dont-fork',
      '--log-console',
      '--log-detail',
      '--vrrp',
      '--dont-respawn',
      '--use-file',
      file,
      '--pid',
      pidFile,
      '--vrrp_pid',
      vrrpPidFile,
    ]);
    return new KeepalivedProcess(proc, vrrpPidFile);
  }

  /** Nodes (n1..nN) that hold `vip` on any interface. */
  async holders(vip: string): Promise<LabHost[]> {
    const out: LabHost[] = [];
    for (let i = 1; i <= this.nodes; i++) {
      const node = `n${i}` as LabHost;
      const r = await run('ip', ['-n', this.ns(node), '-4', '-o', 'addr', 'show']);
      if (r.stdout.split('\n').some((l) => l.includes(` ${vip}/`))) out.push(node);
    }
    return out;
  }

  async macOf(host: LabHost, ifname = 'eth0'): Promise<string> {
    const r = await run('ip', ['-n', this.ns(host), '-o', 'link', 'show', ifname]);
    const m = /link\/ether ([0-9a-f:]{17})/.exec(r.stdout);
    if (m === null) throw new Error(`no MAC for ${host}/${ifname}: ${r.stderr}`);
    return m[1]!;
  }

  /** The client's neighbour entry (MAC) for an address, if any. */
  async neighbour(host: LabHost, ip: string): Promise<string | undefined> {
    const r = await run('ip', ['-n', this.ns(host), 'neigh', 'show', ip]);
    return /lladdr ([0-9a-f:]{17})/.exec(r.stdout)?.[1];
  }

  async ping(host: LabHost, ip: string): Promise<boolean> {
    return (await this.exec(host, ['ping', '-n', '-c', '1', '-W', '1', ip])).code === 0;
  }

  /** Polls `check` until it returns a value other than undefined/false, or throws after timeoutMs. */
  async waitFor<T>(
    what: string,
    check: () => Promise<T | undefined | false>,
    timeoutMs = 15_000,
    everyMs = 100,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined | false;
    for (;;) {
      last = await check();
      if (last !== undefined && last !== false) return last;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** Waits until exactly `node` holds `vip`. */
  waitForHolder(vip: string, node: LabHost, timeoutMs = 15_000): Promise<true> {
    return this.waitFor(
      `${vip} on ${node} only`,
      async () => {
        const h = await this.holders(vip);
        return h.length === 1 && h[0] === node ? true : undefined;
      },
      timeoutMs,
    );
  }

  /** Kills the processes this lab started (by PID), removes the namespaces and the directory. */
  async destroy(): Promise<void> {
    for (const p of this.#processes) p.kill('SIGKILL');
    await Promise.all(this.#processes.map((p) => p.exited));
    await run('bash', [LAB_SCRIPT, 'destroy', this.name], 60_000);
    if (process.env.HASTACK_LAB_KEEP !== '1') await rm(this.dir, { recursive: true, force: true });
  }
}

/** One host's history of holding an address (wall-clock ms, as Date.now()). */
export class AddressTimeline {
  readonly host: LabHost;
  readonly address: string;
  /** Changes in order; renewals of a lease show up as repeated `present: true`. */
  readonly events: { at: number; present: boolean }[] = [];
  #initial: { at: number; present: boolean } | undefined;

  constructor(host: LabHost, address: string) {
    this.host = host;
    this.address = address;
  }

  /** A line of `ip -o -ts monitor address`: "[2026-11-25T14:58:20.119126] [Deleted ]3: eth0 inet A/24 …". */
  onMonitorLine(line: string): void {
    const m =
      /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)\]\s+(Deleted\s+)?\d+:\s+\S+\s+inet\s+([\d.]+)\//.exec(line);
    if (m === null || m[4] !== this.address) return;
    // Local time, as ip prints it; the fraction is microseconds.
    const at = new Date(m[1]!).getTime() + Number(`0.${m[2]}`) * 1000;
    this.events.push({ at, present: m[3] === undefined });
  }

  initial(at: number, present: boolean): void {
    this.#initial = { at, present };
  }

  /** Whether the host held the address at `at` (by the last event before it). */
  heldAt(at: number): boolean {
    let held = this.#initial !== undefined && this.#initial.at <= at ? this.#initial.present : false;
    for (const e of this.events) {
      if (e.at > at) break;
      held = e.present;
    }
    return held;
  }

  /** The first time after `from` the address appeared / disappeared. */
  firstAfter(from: number, present: boolean): number | undefined {
    return this.events.find((e) => e.at >= from && e.present === present)?.at;
  }

  /** Times the address appeared anew (was absent before) after `from`. */
  addedAfter(from: number): number[] {
    const out: number[] = [];
    let held = this.heldAt(from);
    for (const e of this.events) {
      if (e.at < from) continue;
      if (e.present && !held) out.push(e.at);
      held = e.present;
    }
    return out;
  }
}

/** Lines of a hastack JSON log (pino: `time` in epoch ms, `msg`). */
export async function hastackLogEvents(proc: LabProcess): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const line of (await proc.log()).split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial last line
    }
  }
  return out;
}

export class KeepalivedProcess {
  readonly process: LabProcess;
  readonly #vrrpPidFile: string;

  constructor(process: LabProcess, vrrpPidFile: string) {
    this.process = process;
    this.#vrrpPidFile = vrrpPidFile;
  }

  async vrrpPid(): Promise<number | undefined> {
    const text = await readFile(this.#vrrpPidFile, 'utf8').catch(() => '');
    const pid = Number.parseInt(text, 10);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  }

  /** kill -9 of keepalived's VRRP process and of its parent: no priority 0 advert, VIPs left behind. */
  async kill9(): Promise<void> {
    const vrrp = await this.vrrpPid();
    if (vrrp !== undefined) {
      try {
        process.kill(vrrp, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.process.kill('SIGKILL');
    await this.process.exited;
  }
}
