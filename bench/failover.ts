/**
 * VRRP failover benchmark (not a test; root only): in the namespace lab a client
 * probes an HTTP server on the VIP every 10 ms; the master node "crashes" (kill -9
 * of its VRRP daemon and of its web responder at once) and the gap until the VIP
 * answers again (from the backup) is measured. A hastack pair and a keepalived
 * pair run with the same settings: VRRPv2 with 1 s adverts and VRRPv3 with
 * 100 ms adverts; several trials each, median and worst reported.
 *
 * The kill phase is controlled: the master's adverts are captured on the wire
 * (tcpdump in the client's namespace) and the kill lands a fixed offset after one
 * (--kill-offset, 20 ms by default), the same for both daemons, so the gap no longer
 * depends on where in the advert cycle the crash happened. `--phase random` kills
 * at a random point of the cycle instead (the realistic spread).
 *
 * Also per trial, from kernel address notifications in both nodes (`ip monitor`):
 * how long the VIP stayed on the crashed node ("left on old node": hastack holds
 * VIPs as leases, keepalived's stay until someone removes them) and how long both
 * nodes had it; and for hastack the backup's own account of its takeover path
 * (down timer lateness, VIPs acknowledged by the kernel, first gratuitous ARP).
 *
 *   npm run bench:failover -- [--trials 5] [--only hastack-v3,keepalived-v3]
 *     [--phase advert|random] [--kill-offset 20ms] [--out FILE]
 *
 * Extra scenario (not in the default list): hastack-v3-iproute2, the same pair
 * changing VIPs by spawning `ip` instead of netlink (the fallback path).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/core/duration.ts';
import { hastackLogEvents, type LabProcess, run, VrrpLab } from '../src/vrrp/lab/lab.ts';
import { AdvertWatch } from './lib/advert-watch.ts';
import { resultsPath, writeResults } from './lib/results.ts';
import { median } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';

const VIP = '10.77.0.100';
const PROBE = new URL('./failover-probe.ts', import.meta.url).pathname;

interface Scenario {
  name: string;
  daemon: 'hastack' | 'keepalived';
  version: 2 | 3;
  /** advert_int in seconds */
  advert: number;
  env?: NodeJS.ProcessEnv;
}

const SCENARIOS: Scenario[] = [
  { name: 'hastack-v2', daemon: 'hastack', version: 2, advert: 1 },
  { name: 'keepalived-v2', daemon: 'keepalived', version: 2, advert: 1 },
  { name: 'hastack-v3', daemon: 'hastack', version: 3, advert: 0.1 },
  { name: 'keepalived-v3', daemon: 'keepalived', version: 3, advert: 0.1 },
];
const EXTRA: Scenario[] = [
  {
    name: 'hastack-v3-iproute2',
    daemon: 'hastack',
    version: 3,
    advert: 0.1,
    env: { HASTACK_VRRP_VIP_BACKEND: 'iproute2' },
  },
];

const RESPONDER = `require('node:http').createServer((q, s) => s.end(process.argv[1] + '\\n')).listen(80, '0.0.0.0')`;

function hastackYaml(s: Scenario, priority: number): string {
  return `admin: false
log: { level: info }
shutdown_grace: 1s
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: 51
      priority: ${priority}
      version: ${s.version}
      advert_int: ${s.advert * 1000}ms
      virtual_ipaddress: [${VIP}/24]
`;
}

function keepalivedConf(s: Scenario, priority: number): string {
  return `global_defs {
    router_id n${priority}
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int ${s.advert}
    version ${s.version}
    virtual_ipaddress {
        ${VIP}/24
    }
}
`;
}

interface Node {
  /** Looks up what the kill needs (keepalived's VRRP pid) so the kill itself is immediate. */
  prepare(): Promise<void>;
  kill9(): Promise<void>;
  daemon?: LabProcess;
}

async function startNode(lab: VrrpLab, s: Scenario, node: 'n1' | 'n2', priority: number): Promise<Node> {
  const web: LabProcess = await lab.spawn(node, `${node}-web`, [process.execPath, '-e', RESPONDER, node]);
  if (s.daemon === 'hastack') {
    const daemon = await lab.startHastack(node, hastackYaml(s, priority), node, s.env ?? {});
    return {
      daemon,
      prepare: async () => {},
      kill9: async () => {
        daemon.kill('SIGKILL');
        web.kill('SIGKILL');
        await Promise.all([daemon.exited, web.exited]);
      },
    };
  }
  const k = await lab.startKeepalived(node, keepalivedConf(s, priority));
  let vrrpPid: number | undefined;
  return {
    prepare: async () => {
      vrrpPid = await k.vrrpPid();
    },
    kill9: async () => {
      // keepalived's VRRP child first (it holds the VIPs), then its parent and the web responder.
      if (vrrpPid !== undefined) process.kill(vrrpPid, 'SIGKILL');
      k.process.kill('SIGKILL');
      web.kill('SIGKILL');
      await Promise.all([k.process.exited, web.exited]);
    },
  };
}

/** When in the advert cycle the master is killed. */
interface KillPhase {
  /** advert: `offsetMs` after an advert seen on the wire; random: anywhere in the cycle. */
  mode: 'advert' | 'random';
  offsetMs: number;
}

interface Trial {
  /** From the kill to the first answer from the backup. */
  gapMs: number;
  /** From the master's last advert on the wire to the kill (the phase actually hit). */
  killPhaseMs: number;
  /**
   * From the master's last advert on the wire (captured in the client's namespace) to
   * the first answer: the gap without the phase of the kill.
   */
  sinceLastAdvertMs: number;
  /**
   * From the master's last advert to the backup's first packet as master on the wire
   * (its first advert or ARP for the VIP, whichever came first): the takeover decision
   * and path, exact to the capture, without the 10 ms spacing of the probe. null: none seen.
   */
  backupOnWireMs: number | null;
  /** The same for the backup's first advert and first ARP for the VIP separately. */
  backupFirstAdvertMs: number | null;
  backupFirstArpMs: number | null;
  /** From the kill until the VIP left the crashed node; null: still there when the trial ended. */
  leftOnOldMs: number | null;
  /** How long both nodes had the VIP (until the end of the trial when it never left). */
  bothHeldMs: number;
  /** How long the trial watched after the kill. */
  watchedMs: number;
  /** hastack only: the backup's account of its takeover. */
  takeover?: {
    at: string;
    downTimerLateMs: number | null;
    vipAddMs: number | null;
    firstGarpMs: number | null;
  };
  /** hastack only: from the master's last advert (on the wire) to the backup's decision. */
  decisionSinceLastAdvertMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Waits for an advert from the master and kills it `offsetMs` after the advert's
 * capture time (timer, then a short spin for the last ms). An advert whose line
 * arrives too late to make the offset is skipped for the next one.
 */
async function killAfterAdvert(
  adverts: AdvertWatch,
  s: Scenario,
  offsetMs: number,
  kill: () => Promise<void>,
): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const advertAt = await adverts.next(s.advert * 3000 + 2000);
    const target = advertAt + offsetMs;
    if (Date.now() > target) continue;
    await sleep(target - Date.now() - 2);
    while (Date.now() < target) {
      // spin: setTimeout alone can be a few ms late
    }
    const killedAt = Date.now();
    await kill();
    return killedAt;
  }
  throw new Error(`${s.name}: adverts kept arriving later than the kill offset (${offsetMs} ms)`);
}

/** One trial: gap, address left behind, takeover path. */
async function trial(s: Scenario, phase: KillPhase): Promise<Trial> {
  const lab = await VrrpLab.create(2);
  let adverts: AdvertWatch | undefined;
  try {
    const n1 = await startNode(lab, s, 'n1', 150);
    const n2 = await startNode(lab, s, 'n2', 100);
    await lab.waitForHolder(VIP, 'n1', 30_000);
    // Let the backup settle into BACKUP and the client resolve the VIP.
    await new Promise((r) => setTimeout(r, Math.max(1500, s.advert * 4000)));
    await lab.waitFor(
      'the VIP answers',
      async () =>
        (
          await lab.exec('c', [
            process.execPath,
            '-e',
            `require('node:http').get('http://${VIP}/', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))`,
          ])
        ).code === 0,
      10_000,
    );
    const [old, backup] = await Promise.all([lab.watchAddress('n1', VIP), lab.watchAddress('n2', VIP)]);
    // In the client's namespace: the view of the rest of the LAN, no extra load on either node.
    adverts = await AdvertWatch.start(lab.ns('c'), lab.addressOf('n1'));
    const watchAfterMs = s.version === 2 ? 8000 : 3000;
    // random: anywhere in the cycle after a 1 s lead-in; advert: the first advert after the
    // lead-in (at most one interval later, a few more when lines arrive late) plus the offset.
    const randomKillAfterMs = 1000 + Math.round(Math.random() * s.advert * 1000);
    const durationMs =
      phase.mode === 'random'
        ? randomKillAfterMs + watchAfterMs
        : 1000 + Math.round(s.advert * 1000 * 4) + phase.offsetMs + watchAfterMs;
    const probeStarted = Date.now();
    const probe = lab.exec('c', [process.execPath, PROBE, VIP, String(durationMs)], durationMs + 20_000);
    await n1.prepare();
    let killedAt: number;
    if (phase.mode === 'random') {
      await sleep(randomKillAfterMs);
      killedAt = Date.now();
      await n1.kill9();
    } else {
      await sleep(1000);
      killedAt = await killAfterAdvert(adverts, s, phase.offsetMs, () => n1.kill9());
    }
    const out = await probe;
    const endedAt = Date.now();
    if (endedAt - killedAt < watchAfterMs * 0.8)
      throw new Error(`${s.name}: the kill came too late (${killedAt - probeStarted} ms into the probe)`);
    // Late lines of adverts sent before the kill.
    await sleep(50);
    await adverts.stop();
    const lastAdvert = adverts.lastAtOrBefore(killedAt);
    if (lastAdvert === undefined) throw new Error(`${s.name}: no advert from n1 captured before the kill`);
    const result = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as {
      answers: { at: number; by: string }[];
    };
    const first = result.answers.find((a) => a.at > killedAt && a.by === 'n2');
    if (first === undefined)
      throw new Error(`${s.name}: the VIP never answered from n2 (${out.stderr.slice(0, 200)})`);
    const gone = old.firstAfter(killedAt, false);
    const taken = backup.firstAfter(killedAt, true) ?? endedAt;
    const sinceAdvert = (at: number | undefined) =>
      at === undefined ? null : Math.round((at - lastAdvert) * 10) / 10;
    const backupAdvert = adverts.firstFrom(lab.addressOf('n2'), 'vrrp', killedAt)?.at;
    const backupArp = adverts.firstFrom(VIP, 'arp', killedAt)?.at;
    const trialResult: Trial = {
      gapMs: first.at - killedAt,
      killPhaseMs: Math.round((killedAt - lastAdvert) * 10) / 10,
      sinceLastAdvertMs: Math.round(first.at - lastAdvert),
      backupOnWireMs: sinceAdvert(
        backupAdvert === undefined || backupArp === undefined
          ? (backupAdvert ?? backupArp)
          : Math.min(backupAdvert, backupArp),
      ),
      backupFirstAdvertMs: sinceAdvert(backupAdvert),
      backupFirstArpMs: sinceAdvert(backupArp),
      leftOnOldMs: gone === undefined ? null : Math.round(gone - killedAt),
      bothHeldMs: Math.max(0, Math.round((gone ?? endedAt) - taken)),
      watchedMs: endedAt - killedAt,
    };
    if (n2.daemon !== undefined) {
      const line = (await hastackLogEvents(n2.daemon)).find(
        (e) => e.why === 'master' && e.takeover && (e.time as number) >= killedAt,
      );
      if (line !== undefined) {
        trialResult.takeover = line.takeover as Trial['takeover'];
        if (trialResult.takeover !== undefined) {
          trialResult.decisionSinceLastAdvertMs =
            Date.parse(trialResult.takeover.at) - Math.round(lastAdvert);
        }
      }
    }
    return trialResult;
  } finally {
    await adverts?.stop();
    await lab.destroy();
  }
}

const ms = (v: number) => `${Math.round(v)} ms`;

function leftOnOld(trials: readonly Trial[]): string {
  const gone = trials.flatMap((t) => (t.leftOnOldMs === null ? [] : [t.leftOnOldMs]));
  const kept = trials.length - gone.length;
  if (gone.length === 0)
    return `kept (all ${kept}, ≥${(Math.min(...trials.map((t) => t.watchedMs)) / 1000).toFixed(1)} s)`;
  const text = `gone after ${ms(median(gone))} (worst ${ms(Math.max(...gone))})`;
  return kept === 0 ? text : `${text}, kept in ${kept}`;
}

function takeoverPath(trials: readonly Trial[]): string {
  const pick = (key: 'downTimerLateMs' | 'vipAddMs' | 'firstGarpMs') =>
    trials.flatMap((t) => (typeof t.takeover?.[key] === 'number' ? [t.takeover[key]] : []));
  const late = pick('downTimerLateMs');
  const add = pick('vipAddMs');
  const garp = pick('firstGarpMs');
  if (garp.length === 0) return '-';
  const f = (v: number[]) => (v.length === 0 ? '-' : median(v).toFixed(2));
  return `late ${f(late)} / VIPs ${f(add)} / GARP ${f(garp)} ms`;
}

const HELP = `Usage: npm run bench:failover -- [options]   (root; needs keepalived, tcpdump, iproute2)

  --trials N           trials per pair (default 5)
  --only A,B           pairs to run: ${[...SCENARIOS, ...EXTRA].map((x) => x.name).join(', ')}
                       (default: all but hastack-v3-iproute2)
  --phase advert|random
                       advert (default): kill the master --kill-offset after one of its adverts
                       seen on the wire, identically for every pair; random: at a random point
                       of the advert cycle (the gap then varies by up to one interval)
  --kill-offset T      with --phase advert: 20ms (default), 0, 50ms...; bare numbers are ms;
                       must be below the advert interval of every chosen pair
  --out FILE           raw results (default bench/results/failover-<time>.json)
  -h, --help
`;

function parseOffset(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : parseDuration(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--kill-offset: "${text}" is not a duration ≥ 0`);
  return value;
}

function stats(values: readonly number[], format: (v: number) => string = ms): string {
  return values.length === 0 ? '-' : `${format(median(values))} / ${format(Math.max(...values))}`;
}

const ms1 = (v: number) => `${v.toFixed(1)} ms`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '5' },
      only: { type: 'string' },
      phase: { type: 'string', default: 'advert' },
      'kill-offset': { type: 'string', default: '20ms' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  const trials = Number(values.trials);
  if (!Number.isInteger(trials) || trials < 1)
    throw new Error(`--trials: "${values.trials}" is not an integer ≥ 1`);
  if (values.phase !== 'advert' && values.phase !== 'random')
    throw new Error(`--phase: "${values.phase}" is not advert or random`);
  const phase: KillPhase = { mode: values.phase, offsetMs: parseOffset(values['kill-offset']) };
  const all = [...SCENARIOS, ...EXTRA];
  const only = values.only?.split(',').map((x) => x.trim());
  const unknown = only?.filter((name) => !all.some((x) => x.name === name)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown pair(s) ${unknown.join(', ')}`);
  const chosen = only === undefined ? SCENARIOS : all.filter((x) => only.includes(x.name));
  if (phase.mode === 'advert') {
    const tooLong = chosen.filter((x) => phase.offsetMs >= x.advert * 1000);
    if (tooLong.length > 0)
      throw new Error(
        `--kill-offset ${phase.offsetMs} ms is not below the advert interval of ${tooLong.map((x) => x.name).join(', ')}`,
      );
  }
  if (process.getuid?.() !== 0) throw new Error('bench:failover needs root (network namespaces)');
  if ((await run('/usr/sbin/keepalived', ['--version'])).code !== 0)
    throw new Error('keepalived is not installed');
  if ((await run('tcpdump', ['--version'])).code !== 0)
    throw new Error('tcpdump is not installed (it times the kill against the adverts on the wire)');
  const loadBefore = loadavg()[0]!;
  process.stderr.write(
    `phase: ${phase.mode === 'advert' ? `kill ${phase.offsetMs} ms after an advert` : 'random'}; load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const rows: string[][] = [];
  const raw: Record<string, Trial[]> = Object.fromEntries(chosen.map((x) => [x.name, []]));
  // Round by round (each pair once per round), so a change in the machine's load hits all pairs alike.
  for (let i = 0; i < trials; i++) {
    for (const s of chosen) {
      const r = await trial(s, phase);
      raw[s.name]!.push(r);
      process.stderr.write(
        `${s.name} trial ${i + 1}: gap ${r.gapMs} ms (killed ${r.killPhaseMs} ms after an advert, backup on the wire ` +
          `${r.backupOnWireMs ?? '?'} ms (advert ${r.backupFirstAdvertMs ?? '?'}, ARP ${r.backupFirstArpMs ?? '?'}) and answering ${r.sinceLastAdvertMs} ms after it), ` +
          `left on old node ${r.leftOnOldMs ?? 'kept'}, both held ${r.bothHeldMs} ms` +
          `${r.takeover === undefined ? '' : `, takeover ${JSON.stringify(r.takeover)}`}\n`,
      );
    }
  }
  for (const s of chosen) {
    const results = raw[s.name]!;
    rows.push([
      s.name,
      `v${s.version}, advert ${s.advert * 1000} ms`,
      String(trials),
      stats(
        results.map((r) => r.killPhaseMs),
        ms1,
      ),
      ms(median(results.map((r) => r.gapMs))),
      ms(Math.max(...results.map((r) => r.gapMs))),
      stats(results.map((r) => r.sinceLastAdvertMs)),
      stats(
        results.flatMap((r) => (r.backupOnWireMs === null ? [] : [r.backupOnWireMs])),
        ms1,
      ),
      leftOnOld(results),
      ms(median(results.map((r) => r.bothHeldMs))),
      takeoverPath(results),
    ]);
  }
  const loadAfter = loadavg()[0]!;
  process.stdout.write(
    formatTable(
      [
        'pair',
        'settings',
        'trials',
        'kill after advert (median / worst)',
        'median gap',
        'worst gap',
        'since last advert (median / worst)',
        'backup on wire since last advert',
        'VIP left on old node',
        'both held (median)',
        'takeover path (median)',
      ],
      rows,
    ),
  );
  process.stdout.write(
    `\nload average (1 min): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after\n`,
  );
  const out = values.out ?? resultsPath('failover');
  await writeResults(out, { phase, loadBefore, loadAfter, trials: raw });
  process.stdout.write(`raw results: ${out}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench:failover: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
