/**
 * VRRP failover benchmark (not a test; root only): in the namespace lab a client
 * probes an HTTP server on the VIP every 10 ms; the master node "crashes" (kill -9
 * of its VRRP daemon and of its web responder at once) and the gap until the VIP
 * answers again (from the backup) is measured. A hastack pair and a keepalived
 * pair run with the same settings: VRRPv2 with 1 s adverts and VRRPv3 with
 * 100 ms adverts; several trials each, median and worst reported.
 *
 * Also per trial, from kernel address notifications in both nodes (`ip monitor`):
 * how long the VIP stayed on the crashed node ("left on old node": hastack holds
 * VIPs as leases, keepalived's stay until someone removes them) and how long both
 * nodes had it; and for hastack the backup's own account of its takeover path
 * (down timer lateness, VIPs acknowledged by the kernel, first gratuitous ARP).
 *
 *   npm run bench:failover -- [--trials 5] [--only hastack-v3,keepalived-v3] [--out FILE]
 *
 * Extra scenario (not in the default list): hastack-v3-iproute2, the same pair
 * changing VIPs by spawning `ip` instead of netlink (the fallback path).
 */
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hastackLogEvents, type LabProcess, run, VrrpLab } from '../src/vrrp/lab/lab.ts';
import { median } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';

const VIP = '10.77.0.100';
const PROBE = new URL('./failover-probe.ts', import.meta.url).pathname;
const RESULTS = new URL('./results/', import.meta.url).pathname;

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

interface Trial {
  /** From the kill to the first answer from the backup. */
  gapMs: number;
  /**
   * From the master's last advert on the wire (captured in the backup's namespace) to
   * the first answer: the gap without the random phase of the kill. null without tcpdump.
   */
  sinceLastAdvertMs: number | null;
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

/** One trial: gap, address left behind, takeover path. */
async function trial(s: Scenario): Promise<Trial> {
  const lab = await VrrpLab.create(2);
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
    const capture = tcpdump
      ? await lab.spawn('n2', 'adverts', [
          'tcpdump',
          '-l',
          '-n',
          '-tt',
          '-i',
          'eth0',
          `ip proto 112 and src host ${lab.addressOf('n1')}`,
        ])
      : undefined;
    // Kill at a random phase of the advert cycle: the gap depends on the time since the last advert.
    const killAfterMs = 1000 + Math.round(Math.random() * s.advert * 1000);
    const durationMs = killAfterMs + (s.version === 2 ? 8000 : 3000);
    const probe = lab.exec('c', [process.execPath, PROBE, VIP, String(durationMs)], durationMs + 20_000);
    await n1.prepare();
    await new Promise((r) => setTimeout(r, killAfterMs));
    const killedAt = Date.now();
    await n1.kill9();
    const out = await probe;
    const endedAt = Date.now();
    await capture?.stop('SIGINT');
    const advertTimes = capture === undefined ? [] : advertsIn(await capture.log());
    const lastAdvert = advertTimes.filter((t) => t <= killedAt).at(-1);
    const result = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as {
      answers: { at: number; by: string }[];
    };
    const first = result.answers.find((a) => a.at > killedAt && a.by === 'n2');
    if (first === undefined)
      throw new Error(`${s.name}: the VIP never answered from n2 (${out.stderr.slice(0, 200)})`);
    const gone = old.firstAfter(killedAt, false);
    const taken = backup.firstAfter(killedAt, true) ?? endedAt;
    const trialResult: Trial = {
      gapMs: first.at - killedAt,
      sinceLastAdvertMs: lastAdvert === undefined ? null : Math.round(first.at - lastAdvert),
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
        if (lastAdvert !== undefined && trialResult.takeover !== undefined) {
          trialResult.decisionSinceLastAdvertMs =
            Date.parse(trialResult.takeover.at) - Math.round(lastAdvert);
        }
      }
    }
    return trialResult;
  } finally {
    await lab.destroy();
  }
}

const ms = (v: number) => `${Math.round(v)} ms`;

let tcpdump = false;

/** Wall-clock ms of the adverts in `tcpdump -tt` output ("1795619359.946275 IP …"). */
function advertsIn(text: string): number[] {
  return text.split('\n').flatMap((line) => {
    const m = /^(\d+)\.(\d{6}) IP /.exec(line);
    return m === null ? [] : [Number(m[1]) * 1000 + Number(m[2]) / 1000];
  });
}

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '5' },
      only: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (process.getuid?.() !== 0) throw new Error('bench:failover needs root (network namespaces)');
  if ((await run('/usr/sbin/keepalived', ['--version'])).code !== 0)
    throw new Error('keepalived is not installed');
  tcpdump = (await run('tcpdump', ['--version'])).code === 0;
  if (!tcpdump) process.stderr.write('tcpdump not found: no "since last advert" column\n');
  const trials = Number(values.trials);
  const only = values.only?.split(',');
  const chosen =
    only === undefined ? SCENARIOS : [...SCENARIOS, ...EXTRA].filter((x) => only.includes(x.name));
  const loadBefore = loadavg()[0]!;
  process.stderr.write(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const rows: string[][] = [];
  const raw: Record<string, Trial[]> = {};
  for (const s of chosen) {
    const results: Trial[] = [];
    for (let i = 0; i < trials; i++) {
      const r = await trial(s);
      results.push(r);
      process.stderr.write(
        `${s.name} trial ${i + 1}: gap ${r.gapMs} ms (${r.sinceLastAdvertMs ?? '?'} ms since the last advert), left on old node ${r.leftOnOldMs ?? 'kept'}, ` +
          `both held ${r.bothHeldMs} ms${r.takeover === undefined ? '' : `, takeover ${JSON.stringify(r.takeover)}`}\n`,
      );
    }
    raw[s.name] = results;
    const gaps = results.map((r) => r.gapMs);
    const since = results.flatMap((r) => (r.sinceLastAdvertMs === null ? [] : [r.sinceLastAdvertMs]));
    rows.push([
      s.name,
      `v${s.version}, advert ${s.advert * 1000} ms`,
      String(trials),
      ms(median(gaps)),
      ms(Math.max(...gaps)),
      since.length === 0 ? '-' : `${ms(median(since))} / ${ms(Math.max(...since))}`,
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
        'median gap',
        'worst gap',
        'since last advert (median / worst)',
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
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = values.out ?? join(RESULTS, `failover-${stamp}.json`);
  await writeFile(out, `${JSON.stringify({ loadBefore, loadAfter, trials: raw }, null, 2)}\n`);
  process.stdout.write(`raw results: ${out}\n`);
}

await main();
