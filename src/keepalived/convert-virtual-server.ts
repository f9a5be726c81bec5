import { SCHEDULER_NAMES, type SchedulerName } from '../config/model.ts';
import { formatHostPort } from '../core/address.ts';
import { expandAddressRange } from './address-range.ts';
import type { ConfigNode } from './block-parser.ts';
import {
  CHECKER_TYPES,
  type CheckerDraft,
  emitChecks,
  KEEPALIVED_CHECK_DEFAULTS,
  parseChecker,
  setter,
  type TimingDraft,
  timingKeywords,
} from './convert-checkers.ts';
import {
  type Diagnostics,
  dispatch,
  firstArg,
  type Handler,
  ignored,
  keywordTable,
  type Located,
  located,
  silent,
  unsupported,
} from './convert-context.ts';
import { KEEPALIVED_CODES, type SourcePos } from './diagnostics.ts';
import type { SourceMap } from './line-map.ts';
import { scriptToShellCommand } from './script-command.ts';
import { boolArg, parseIp, parsePort, parseUnsigned, unsignedArg } from './values.ts';

/*
 * virtual_server / real_server / virtual_server_group → hastack virtual servers.
 * hastack is a full proxy (it accepts the client connection and opens its own to
 * the real server), which is what keepalived calls NAT; DR and TUN rewrite
 * packets in the kernel and are refused until hastack has a kernel data plane.
 */

/** keepalived persistence_timeout without a value. */
export const DEFAULT_PERSISTENCE_MS = 360_000;
/** IPVS's own idle timeouts when lvs_timeouts does not set them. */
export const IPVS_TCP_TIMEOUT_MS = 900_000;
export const IPVS_UDP_TIMEOUT_MS = 300_000;
/** Listeners one group entry may expand to: hastack opens one socket per address. */
export const MAX_GROUP_ADDRESSES = 256;

export interface RealServerDraft extends TimingDraft {
  node: ConfigNode;
  host: string;
  /** Missing: the virtual server's port, as keepalived does for NAT. */
  port?: number;
  weight?: Located<number>;
  uthreshold?: Located<number>;
  lthreshold?: Located<number>;
  notifyUp?: Located<string>;
  notifyDown?: Located<string>;
  inhibit?: Located<boolean>;
  virtualhost?: Located<string>;
  checkers: CheckerDraft[];
}

export type VirtualServerTarget =
  | { kind: 'address'; host: string; port: number }
  | { kind: 'group'; name: string };

export interface VirtualServerDraft extends TimingDraft {
  node: ConfigNode;
  target: VirtualServerTarget;
  protocol?: Located<'tcp' | 'udp'>;
  scheduler?: Located<SchedulerName>;
  hashPort?: Located<boolean>;
  fallback?: Located<boolean>;
  persistenceTimeout?: Located<number>;
  granularity?: Located<number | string>;
  sorry?: Located<{ host: string; port?: number }>;
  sorryInhibit?: Located<boolean>;
  quorum?: Located<number>;
  hysteresis?: Located<number>;
  quorumUp?: Located<string>;
  quorumDown?: Located<string>;
  omega?: Located<boolean>;
  inhibit?: Located<boolean>;
  virtualhost?: Located<string>;
  /** Default real server weight (newer keepalived). */
  weight?: Located<number>;
  realServers: RealServerDraft[];
}

export interface GroupDraft {
  node: ConfigNode;
  used: boolean;
}

/** Global settings that change virtual servers (global_defs lvs_timeouts). */
export interface LvsDefaults {
  tcpTimeout?: Located<number>;
  udpTimeout?: Located<number>;
}

/** lb_kind / lvs_method: only NAT (full proxy) is possible without a kernel data plane. */
const forwardingMethod: Handler<unknown> = (node, _draft, diag) => {
  const method = firstArg(node, diag, 'NAT, DR or TUN');
  if (method === undefined) return;
  const upper = method.toUpperCase();
  if (upper === 'NAT') return;
  if (upper === 'DR' || upper === 'TUN') {
    diag.error(
      KEEPALIVED_CODES.lbKind,
      node,
      `"${node.keyword} ${method}" is not supported: hastack only forwards as NAT (a full proxy that opens ` +
        'its own connection to the real server); DR and TUN need a kernel data plane, which hastack does not have yet',
    );
    return;
  }
  diag.bad(node, `"${node.keyword}": unknown forwarding method "${method}" (NAT, DR or TUN)`);
};

function script<D>(key: keyof D & string): Handler<D> {
  return (node, draft, diag) => {
    const text = firstArg(node, diag, 'a script');
    if (text === undefined) return;
    if (node.args.length > 1) {
      diag.warn(
        KEEPALIVED_CODES.ignored,
        node,
        `"${node.keyword}": user/group "${node.args.slice(1).join(' ')}" ignored: hastack runs scripts as its own user`,
      );
    }
    try {
      (draft as Record<string, unknown>)[key] = located(scriptToShellCommand(text), node);
    } catch (err) {
      diag.bad(node, `"${node.keyword}": ${(err as Error).message}`);
    }
  };
}

const stringArg = (node: ConfigNode, diag: Diagnostics) => firstArg(node, diag);
const flagOn = () => true;

const checkerHandlers: Record<string, Handler<RealServerDraft>> = {};
for (const keyword of CHECKER_TYPES.keys()) {
  checkerHandlers[keyword] = (node, rs, diag) => {
    const checker = parseChecker(node, diag);
    if (checker !== undefined) rs.checkers.push(checker);
  };
}

const REAL_SERVER_KEYWORDS = keywordTable<RealServerDraft>({
  ...timingKeywords<RealServerDraft>(),
  ...checkerHandlers,
  weight: setter<RealServerDraft>('weight', (n, d) => unsignedArg(n, d)),
  lb_kind: forwardingMethod,
  lvs_method: forwardingMethod,
  notify_up: script<RealServerDraft>('notifyUp'),
  notify_down: script<RealServerDraft>('notifyDown'),
  uthreshold: setter<RealServerDraft>('uthreshold', (n, d) => unsignedArg(n, d)),
  lthreshold: setter<RealServerDraft>('lthreshold', (n, d) => unsignedArg(n, d)),
  inhibit_on_failure: setter<RealServerDraft>('inhibit', boolArg),
  virtualhost: setter<RealServerDraft>('virtualhost', stringArg),
  smtp_alert: ignored('e-mail alerts are not supported; use notify_up/notify_down'),
  snmp_name: silent(),
  BFD_CHECK: unsupported('BFD needs a BFD session, which hastack does not run'),
  UDP_CHECK: unsupported('UDP payload checks are planned; use MISC_CHECK meanwhile'),
  FILE_CHECK: unsupported('weights read from track files are planned'),
});

function parseRealServer(node: ConfigNode, vs: VirtualServerDraft, diag: Diagnostics): void {
  const hostText = firstArg(node, diag, 'an IP address and port');
  if (hostText === undefined) return;
  const host = parseIp(hostText, node, diag, 'real server address');
  const portText = node.args[1];
  const port = portText === undefined ? undefined : parsePort(portText, node, diag);
  if (host === undefined || (portText !== undefined && port === undefined)) return;
  const rs: RealServerDraft = { node, host, ...(port !== undefined && { port }), checkers: [] };
  dispatch(node.children ?? [], REAL_SERVER_KEYWORDS, rs, diag, 'real_server');
  vs.realServers.push(rs);
}

const VIRTUAL_SERVER_KEYWORDS = keywordTable<VirtualServerDraft>({
  ...timingKeywords<VirtualServerDraft>(),
  real_server: (node, vs, diag) => parseRealServer(node, vs, diag),
  lb_algo: setter<VirtualServerDraft>('scheduler', parseScheduler),
  lvs_sched: setter<VirtualServerDraft>('scheduler', parseScheduler),
  lb_kind: forwardingMethod,
  lvs_method: forwardingMethod,
  sorry_server_lvs_method: forwardingMethod,
  protocol: setter<VirtualServerDraft>('protocol', (node, diag) => {
    const text = firstArg(node, diag, 'TCP or UDP');
    if (text === undefined) return undefined;
    const upper = text.toUpperCase();
    if (upper === 'TCP') return 'tcp';
    if (upper === 'UDP') return 'udp';
    if (upper === 'SCTP') {
      return diag.error(
        KEEPALIVED_CODES.unsupportedFeature,
        node,
        'protocol SCTP is not supported (TCP and UDP are)',
      );
    }
    return diag.bad(node, `"protocol": unknown protocol "${text}" (TCP or UDP)`);
  }),
  persistence_timeout: setter<VirtualServerDraft>('persistenceTimeout', (node, diag) => {
    if (node.args[0] === undefined) return DEFAULT_PERSISTENCE_MS;
    const seconds = parseUnsigned(node.args[0], node, diag, { max: 2_147_483 });
    return seconds === undefined ? undefined : seconds * 1000;
  }),
  persistence_granularity: setter<VirtualServerDraft>('granularity', (node, diag) => {
    const text = firstArg(node, diag, 'a netmask');
    if (text === undefined) return undefined;
    return /^\d+$/.test(text) ? Number(text) : text;
  }),
  sorry_server: setter<VirtualServerDraft>('sorry', (node, diag) => {
    const hostText = firstArg(node, diag, 'an IP address and port');
    if (hostText === undefined) return undefined;
    const host = parseIp(hostText, node, diag, 'sorry server address');
    const port = node.args[1] === undefined ? undefined : parsePort(node.args[1], node, diag);
    if (host === undefined || (node.args[1] !== undefined && port === undefined)) return undefined;
    return { host, ...(port !== undefined && { port }) };
  }),
  sorry_server_inhibit: setter<VirtualServerDraft>('sorryInhibit', boolArg),
  quorum: setter<VirtualServerDraft>('quorum', (n, d) => unsignedArg(n, d, { min: 1 })),
  hysteresis: setter<VirtualServerDraft>('hysteresis', (n, d) => unsignedArg(n, d)),
  quorum_up: script<VirtualServerDraft>('quorumUp'),
  quorum_down: script<VirtualServerDraft>('quorumDown'),
  omega: setter<VirtualServerDraft>('omega', boolArg),
  inhibit_on_failure: setter<VirtualServerDraft>('inhibit', boolArg),
  'sh-port': setter<VirtualServerDraft>('hashPort', flagOn),
  'mh-port': setter<VirtualServerDraft>('hashPort', flagOn),
  'flag-2': setter<VirtualServerDraft>('hashPort', flagOn),
  'sh-fallback': setter<VirtualServerDraft>('fallback', flagOn),
  'mh-fallback': setter<VirtualServerDraft>('fallback', flagOn),
  'flag-1': setter<VirtualServerDraft>('fallback', flagOn),
  'flag-3': ignored('no scheduler uses the third IPVS flag'),
  virtualhost: setter<VirtualServerDraft>('virtualhost', stringArg),
  weight: setter<VirtualServerDraft>('weight', (n, d) => unsignedArg(n, d)),
  ops: unsupported('one-packet scheduling: hastack keeps a UDP session per client address and port'),
  persistence_engine: unsupported('SIP Call-ID persistence'),
  ha_suspend: ignored('hastack checks real servers whether or not the virtual address is configured'),
  smtp_alert: ignored('e-mail alerts are not supported; use quorum_up/quorum_down'),
  ip_family: ignored('the family follows from the addresses'),
  nat_mask: ignored('hastack does not rewrite addresses in the kernel'),
  snmp_name: silent(),
});

function parseScheduler(node: ConfigNode, diag: Diagnostics): SchedulerName | undefined {
  const text = firstArg(node, diag, 'a scheduler name');
  if (text === undefined) return undefined;
  const name = text.toLowerCase();
  if ((SCHEDULER_NAMES as readonly string[]).includes(name)) return name as SchedulerName;
  return diag.bad(
    node,
    `"${node.keyword}": unknown scheduler "${text}" (one of ${SCHEDULER_NAMES.join(', ')})`,
  );
}

export function parseVirtualServer(node: ConfigNode, diag: Diagnostics): VirtualServerDraft | undefined {
  const first = firstArg(node, diag, 'an IP address and port, "fwmark N" or "group NAME"');
  if (first === undefined) return undefined;
  let target: VirtualServerTarget;
  if (first === 'fwmark') {
    return diag.error(
      KEEPALIVED_CODES.unsupportedFeature,
      node,
      'virtual_server fwmark is not supported: firewall marks need a kernel data plane; use IP and port',
    );
  }
  if (first === 'group') {
    const name = node.args[1];
    if (name === undefined) return diag.bad(node, '"virtual_server group" needs a group name');
    target = { kind: 'group', name };
  } else {
    const host = parseIp(first, node, diag, 'virtual server address');
    const portText = node.args[1];
    if (portText === undefined) {
      return diag.bad(
        node,
        `virtual_server ${first}: missing port (hastack listens on one port; all-ports persistent services need the kernel)`,
      );
    }
    const port = parsePort(portText, node, diag);
    if (host === undefined || port === undefined) return undefined;
    target = { kind: 'address', host, port };
  }
  const draft: VirtualServerDraft = { node, target, realServers: [] };
  dispatch(node.children ?? [], VIRTUAL_SERVER_KEYWORDS, draft, diag, 'virtual_server');
  return draft;
}

interface Listener {
  draft: VirtualServerDraft;
  host: string;
  port: number;
  pos: SourcePos;
}

function listenersOf(
  draft: VirtualServerDraft,
  groups: ReadonlyMap<string, GroupDraft>,
  diag: Diagnostics,
): Listener[] {
  const target = draft.target;
  if (target.kind === 'address') return [{ draft, host: target.host, port: target.port, pos: draft.node }];
  const group = groups.get(target.name);
  if (group === undefined) {
    diag.bad(draft.node, `virtual_server group "${target.name}": no virtual_server_group of that name`);
    return [];
  }
  group.used = true;
  const out: Listener[] = [];
  for (const entry of group.node.children ?? []) {
    if (entry.keyword === 'fwmark') {
      diag.error(
        KEEPALIVED_CODES.unsupportedFeature,
        entry,
        'fwmark entries are not supported: firewall marks need a kernel data plane',
      );
      continue;
    }
    const portText = entry.args[0];
    if (portText === undefined) {
      diag.bad(entry, `virtual_server_group entry ${entry.keyword}: missing port`);
      continue;
    }
    const port = parsePort(portText, entry, diag);
    const range = expandAddressRange(entry.keyword, MAX_GROUP_ADDRESSES);
    if (!range.ok) {
      diag.bad(entry, `virtual_server_group entry: ${range.message}`);
      continue;
    }
    if (port === undefined) continue;
    for (const host of range.addresses) out.push({ draft, host, port, pos: entry });
  }
  return out;
}

const ms = (value: number) => `${value}ms`;

/** Writes hastack virtual servers (one per listening address) into `virtual_servers`. */
export function emitVirtualServers(
  drafts: readonly VirtualServerDraft[],
  groups: ReadonlyMap<string, GroupDraft>,
  lvs: LvsDefaults,
  map: SourceMap,
  diag: Diagnostics,
): Record<string, unknown>[] {
  const listeners = drafts.flatMap((d) => listenersOf(d, groups, diag));
  for (const [name, group] of groups) {
    if (!group.used) {
      diag.warn(
        KEEPALIVED_CODES.ignored,
        group.node,
        `virtual_server_group "${name}" is not used by any virtual_server`,
      );
    }
  }
  for (const draft of drafts) {
    if (draft.protocol === undefined) {
      diag.warn(
        KEEPALIVED_CODES.adjusted,
        draft.node,
        'virtual_server has no "protocol": hastack uses TCP (keepalived versions disagree on the default; set it)',
      );
    }
  }
  const names = uniqueNames(listeners);
  return listeners.map((listener, i) => emitOne(listener, names[i]!, ['virtual_servers', i], lvs, map, diag));
}

/** IP:PORT, with a protocol suffix only where a TCP and a UDP service share an address. */
function uniqueNames(listeners: readonly Listener[]): string[] {
  const base = listeners.map((l) => formatHostPort(l.host, l.port));
  const protocols = new Map<string, Set<string>>();
  listeners.forEach((l, i) => {
    const set = protocols.get(base[i]!) ?? new Set<string>();
    set.add(l.draft.protocol?.value ?? 'tcp');
    protocols.set(base[i]!, set);
  });
  return listeners.map((l, i) =>
    protocols.get(base[i]!)!.size > 1 ? `${base[i]}-${l.draft.protocol?.value ?? 'tcp'}` : base[i]!,
  );
}

function emitOne(
  listener: Listener,
  name: string,
  path: readonly PropertyKey[],
  lvs: LvsDefaults,
  map: SourceMap,
  diag: Diagnostics,
): Record<string, unknown> {
  const { draft, host, port } = listener;
  const vs: Record<string, unknown> = {};
  map.set(path, draft.node);
  const put = (key: string, value: unknown, pos: SourcePos = draft.node) => {
    vs[key] = value;
    map.set([...path, key], pos);
  };
  put('name', name);
  put('listen', formatHostPort(host, port), listener.pos);
  const protocol = draft.protocol?.value ?? 'tcp';
  put('protocol', protocol, draft.protocol?.pos);
  put('scheduler', draft.scheduler?.value ?? 'wlc', draft.scheduler?.pos);
  const scheduler = draft.scheduler?.value ?? 'wlc';
  for (const flag of [draft.hashPort, draft.fallback]) {
    if (flag !== undefined && scheduler !== 'sh' && scheduler !== 'mh') {
      diag.warn(
        KEEPALIVED_CODES.ignored,
        flag.pos,
        `scheduler flag has no effect with scheduler ${scheduler}`,
      );
    }
  }
  put('hash_port', draft.hashPort?.value ?? false, draft.hashPort?.pos);
  put('fallback', draft.fallback?.value ?? false, draft.fallback?.pos);
  put('persistence_timeout', ms(draft.persistenceTimeout?.value ?? 0), draft.persistenceTimeout?.pos);
  if (draft.granularity !== undefined) {
    if (host.includes(':')) {
      diag.warn(
        KEEPALIVED_CODES.unsupported,
        draft.granularity.pos,
        'persistence_granularity is not supported for IPv6 yet: persistence uses the whole client address',
      );
    } else {
      put('persistence_granularity', draft.granularity.value, draft.granularity.pos);
    }
  }
  if (draft.sorry !== undefined) {
    put(
      'sorry_server',
      formatHostPort(draft.sorry.value.host, draft.sorry.value.port ?? port),
      draft.sorry.pos,
    );
  }
  put('sorry_server_inhibit', draft.sorryInhibit?.value ?? false, draft.sorryInhibit?.pos);

  const weights = draft.realServers.map((rs) => rs.weight?.value ?? draft.weight?.value ?? 1);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  let quorum = draft.quorum?.value ?? 1;
  if (draft.quorum !== undefined && weightSum >= 1 && quorum > weightSum) {
    diag.warn(
      KEEPALIVED_CODES.adjusted,
      draft.quorum.pos,
      `quorum ${quorum} exceeds the total weight ${weightSum} of the real servers: lowered to ${weightSum}, as keepalived does`,
    );
    quorum = weightSum;
  }
  put('quorum', quorum, draft.quorum?.pos);
  let hysteresis = draft.hysteresis?.value ?? 0;
  if (draft.hysteresis !== undefined && hysteresis >= quorum) {
    diag.warn(
      KEEPALIVED_CODES.adjusted,
      draft.hysteresis.pos,
      `hysteresis ${hysteresis} is not below quorum ${quorum}: lowered to ${quorum - 1}, as keepalived does`,
    );
    hysteresis = quorum - 1;
  }
  put('hysteresis', hysteresis, draft.hysteresis?.pos);
  if (draft.quorumUp !== undefined) put('quorum_up', draft.quorumUp.value, draft.quorumUp.pos);
  if (draft.quorumDown !== undefined) put('quorum_down', draft.quorumDown.value, draft.quorumDown.pos);
  put('alpha', draft.alpha?.value ?? false, draft.alpha?.pos);
  put('omega', draft.omega?.value ?? false, draft.omega?.pos);
  const inhibit = inhibitOnFailure(draft, diag);
  put('inhibit_on_failure', inhibit.value, inhibit.pos);
  const delayLoop = draft.delayLoop?.value ?? KEEPALIVED_CHECK_DEFAULTS.delayLoopMs;
  put('delay_loop', ms(delayLoop), draft.delayLoop?.pos);
  const idle =
    protocol === 'tcp'
      ? (lvs.tcpTimeout ?? { value: IPVS_TCP_TIMEOUT_MS, pos: draft.node })
      : (lvs.udpTimeout ?? { value: IPVS_UDP_TIMEOUT_MS, pos: draft.node });
  put('idle_timeout', ms(idle.value), idle.pos);
  put('checks', []);

  const realServers = draft.realServers.map((rs, j) => {
    const rsPath = [...path, 'real_servers', j];
    const out: Record<string, unknown> = {};
    map.set(rsPath, rs.node);
    const set = (key: string, value: unknown, pos: SourcePos = rs.node) => {
      out[key] = value;
      map.set([...rsPath, key], pos);
    };
    set('address', formatHostPort(rs.host, rs.port ?? port));
    set('weight', weights[j], rs.weight?.pos ?? draft.weight?.pos);
    if (rs.uthreshold !== undefined) set('uthreshold', rs.uthreshold.value, rs.uthreshold.pos);
    if (rs.lthreshold !== undefined) set('lthreshold', rs.lthreshold.value, rs.lthreshold.pos);
    if (rs.notifyUp !== undefined) set('notify_up', rs.notifyUp.value, rs.notifyUp.pos);
    if (rs.notifyDown !== undefined) set('notify_down', rs.notifyDown.value, rs.notifyDown.pos);
    set(
      'checks',
      emitChecks(rs.checkers, { realServer: rs, virtualServer: draft }, [...rsPath, 'checks'], map, diag),
    );
    return out;
  });
  put('real_servers', realServers);
  return vs;
}

/**
 * hastack has inhibit_on_failure per virtual server only. When every real server
 * ends up with the same value (its own or the inherited one) that value is used;
 * otherwise the virtual server's value applies and each differing server is reported.
 */
function inhibitOnFailure(draft: VirtualServerDraft, diag: Diagnostics): { value: boolean; pos: SourcePos } {
  const vsValue = draft.inhibit?.value ?? false;
  const effective = draft.realServers.map((rs) => rs.inhibit?.value ?? vsValue);
  if (effective.length > 0 && effective.every((v) => v === effective[0])) {
    const setBy = draft.realServers.find((rs) => rs.inhibit !== undefined)?.inhibit;
    return { value: effective[0]!, pos: draft.inhibit?.pos ?? setBy?.pos ?? draft.node };
  }
  for (const rs of draft.realServers) {
    if (rs.inhibit !== undefined && rs.inhibit.value !== vsValue) {
      diag.warn(
        KEEPALIVED_CODES.unsupported,
        rs.inhibit.pos,
        `per-real-server inhibit_on_failure is not supported yet: the virtual server's setting (${vsValue ? 'on' : 'off'}) applies`,
      );
    }
  }
  return { value: vsValue, pos: draft.inhibit?.pos ?? draft.node };
}
