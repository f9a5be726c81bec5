import type { ConfigNode } from './block-parser.ts';
import {
  type Diagnostics,
  dispatch,
  firstArg,
  type Handler,
  ignored,
  type KeywordTable,
  keywordTable,
  silent,
  unsupported,
} from './convert-context.ts';
import { KEEPALIVED_CODES, type SourcePos } from './diagnostics.ts';
import type { SourceMap } from './line-map.ts';
import { scriptToShellCommand } from './script-command.ts';
import { boolArg, parseIp, parseUnsigned, timerArg, unsignedArg } from './values.ts';

/*
 * vrrp_instance / vrrp_script / track_file / vrrp_track_process / vrrp_sync_group
 * and the VRRP keys of global_defs
 * → the `vrrp` section of hastack's raw config (YAML-shaped, same key names).
 * Each kind of block has a keyword table; what hastack cannot honour is reported
 * with its line, never dropped silently.
 */

/** A raw YAML-shaped object being built, with the statement that set each key. */
export interface RawDraft {
  node: ConfigNode;
  raw: Record<string, unknown>;
  pos: Map<string, SourcePos>;
}

export interface VrrpDraft {
  globals: Record<string, unknown>;
  globalPos: Map<string, SourcePos>;
  instances: RawDraft[];
  scripts: RawDraft[];
  trackFiles: RawDraft[];
  trackProcesses: RawDraft[];
  groups: RawDraft[];
}

export function emptyVrrpDraft(): VrrpDraft {
  return {
    globals: {},
    globalPos: new Map(),
    instances: [],
    scripts: [],
    trackFiles: [],
    trackProcesses: [],
    groups: [],
  };
}

const NO_IPV6 = 'hastack runs VRRP over IPv4 only';
const PROCESS = 'keepalived process setting without effect in hastack';
const SCRIPT_USER = 'hastack runs scripts as its own user';

function put(
  draft: { raw: Record<string, unknown>; pos: Map<string, SourcePos> },
  key: string,
  value: unknown,
  node: ConfigNode,
) {
  draft.raw[key] = value;
  draft.pos.set(key, { file: node.file, line: node.line });
}

function scriptText(node: ConfigNode, diag: Diagnostics): string | undefined {
  const text = firstArg(node, diag, 'a script');
  if (text === undefined) return undefined;
  if (node.args.length > 1) {
    diag.warn(
      KEEPALIVED_CODES.ignored,
      node,
      `"${node.keyword}": user "${node.args.slice(1).join(' ')}" ignored: ${SCRIPT_USER}`,
    );
  }
  try {
    return scriptToShellCommand(text);
  } catch (err) {
    return diag.bad(node, `"${node.keyword}": ${(err as Error).message}`);
  }
}

// ---- shared value handlers -------------------------------------------------

type Target = { raw: Record<string, unknown>; pos: Map<string, SourcePos> };

function timerKey<D extends Target>(key: string): Handler<D> {
  return (node, d, diag) => {
    const ms = timerArg(node, diag);
    if (ms !== undefined) put(d, key, `${ms}ms`, node);
  };
}

function intKey<D extends Target>(key: string, range: { min?: number; max?: number }): Handler<D> {
  return (node, d, diag) => {
    const n = unsignedArg(node, diag, range);
    if (n !== undefined) put(d, key, n, node);
  };
}

function boolKey<D extends Target>(key: string): Handler<D> {
  return (node, d, diag) => {
    const b = boolArg(node, diag);
    if (b !== undefined) put(d, key, b, node);
  };
}

function scriptKey<D extends Target>(key: string): Handler<D> {
  return (node, d, diag) => {
    const text = scriptText(node, diag);
    if (text !== undefined) put(d, key, text, node);
  };
}

function versionKey<D extends Target>(key: string): Handler<D> {
  return (node, d, diag) => {
    const v = unsignedArg(node, diag, { min: 2, max: 3 });
    if (v !== undefined) put(d, key, v, node);
  };
}

function ipKey<D extends Target>(key: string): Handler<D> {
  return (node, d, diag) => {
    const ip = parseIp(firstArg(node, diag, 'an address') ?? '', node, diag);
    if (ip !== undefined) put(d, key, ip, node);
  };
}

function pathKey<D extends Target>(key: string): Handler<D> {
  return (node, d, diag) => {
    const path = firstArg(node, diag, 'a path');
    if (path !== undefined) put(d, key, path, node);
  };
}

/** The notify scripts, the same keys on vrrp_instance and vrrp_sync_group. */
const notifyKeys = <D extends Target>() => ({
  notify_master: scriptKey<D>('notify_master'),
  notify_backup: scriptKey<D>('notify_backup'),
  notify_fault: scriptKey<D>('notify_fault'),
  notify_stop: scriptKey<D>('notify_stop'),
  notify: scriptKey<D>('notify'),
});

/** A signed weight -limit..limit (253 for scripts and interfaces, 254 for files and processes). */
function parseWeight(
  text: string | undefined,
  node: ConfigNode,
  diag: Diagnostics,
  limit = 253,
): number | undefined {
  if (text === undefined || !/^[-+]?\d+$/.test(text))
    return diag.bad(node, `"${node.keyword}": weight needs a number`);
  const n = Number(text);
  if (n < -limit || n > limit)
    return diag.bad(node, `"${node.keyword}": weight ${n} is outside -${limit}..${limit}`);
  return n;
}

/** `weight W [reverse]` of a tracker block: weight, and reverse when given. */
function weightKey(limit: number, reverseKey: string): Handler<RawDraft> {
  return (node, d, diag) => {
    const w = parseWeight(node.args[0], node, diag, limit);
    if (w !== undefined) put(d, 'weight', w, node);
    if (node.args[1] === 'reverse') put(d, reverseKey, true, node);
    else if (node.args[1] !== undefined) diag.bad(node, `"weight": unknown option "${node.args[1]}"`);
  };
}

// ---- virtual_ipaddress -----------------------------------------------------

const VIP_OPTIONS = new Set(['dev', 'brd', 'broadcast', 'label', 'scope']);
const VIP_FLAGS_IGNORED = new Set(['no_track', 'home', '-', 'nodad', 'noprefixroute', 'autojoin']);

/** One line of virtual_ipaddress: `IP[/M] [brd IP] [dev IF] [scope S] [label L] ...`. */
function virtualAddress(node: ConfigNode, diag: Diagnostics): Record<string, string> | undefined {
  const address = node.keyword;
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(address);
  if (m === null || parseIp(m[1]!, node, diag) === undefined) return undefined;
  if (m[1]!.includes(':')) {
    diag.warn(KEEPALIVED_CODES.unsupported, node, `IPv6 address ${address} skipped: ${NO_IPV6}`);
    return undefined;
  }
  const out: Record<string, string> = { address };
  for (let i = 0; i < node.args.length; i++) {
    const word = node.args[i]!;
    if (VIP_OPTIONS.has(word)) {
      const value = node.args[++i];
      if (value === undefined) return diag.bad(node, `${address}: "${word}" needs a value`);
      out[word === 'broadcast' ? 'brd' : word] = value;
    } else if (VIP_FLAGS_IGNORED.has(word)) {
      diag.warn(KEEPALIVED_CODES.ignored, node, `${address}: "${word}" ignored`);
    } else if (word === 'peer' || word === 'metric' || word === 'preferred_lft' || word === 'valid_lft') {
      i++;
      diag.warn(
        KEEPALIVED_CODES.unsupported,
        node,
        `${address}: "${word}" is not supported yet and is skipped`,
      );
    } else if (word === 'use_vmac' || word === 'track_group') {
      diag.warn(
        KEEPALIVED_CODES.unsupported,
        node,
        `${address}: per-address "${word}" is not supported yet; set it on the instance`,
      );
      if (word === 'track_group') i++;
    } else {
      return diag.bad(node, `${address}: unknown option "${word}"`);
    }
  }
  return out;
}

function vipBlock(key: string): Handler<RawDraft> {
  return (node, d, diag) => {
    const list: Record<string, string>[] = [];
    for (const child of node.children ?? []) {
      const vip = virtualAddress(child, diag);
      if (vip !== undefined) list.push(vip);
    }
    put(d, key, list, node);
  };
}

/** A named block (`vrrp_instance NAME { ... }`) read through its keyword table; undefined without a name. */
function namedBlock(
  kind: string,
  node: ConfigNode,
  table: KeywordTable<RawDraft>,
  diag: Diagnostics,
): { name: string; d: RawDraft } | undefined {
  const name = node.args[0];
  if (name === undefined) return diag.bad(node, `"${kind}" needs a name`);
  const d: RawDraft = { node, raw: {}, pos: new Map() };
  put(d, 'name', name, node);
  dispatch(node.children ?? [], table, d, diag, `${kind} ${name}`);
  return { name, d };
}

// ---- vrrp_instance ----------------------------------------------------------

const authentication: Handler<RawDraft> = (node, d, diag) => {
  let type: string | undefined;
  let pass: string | undefined;
  for (const child of node.children ?? []) {
    if (child.keyword === 'auth_type') type = firstArg(child, diag, 'PASS or AH');
    else if (child.keyword === 'auth_pass') pass = firstArg(child, diag, 'a password');
    else
      diag.warn(
        KEEPALIVED_CODES.unknownKeyword,
        child,
        `unknown keyword "${child.keyword}" in authentication`,
      );
  }
  if (type === undefined) return void diag.bad(node, 'authentication needs auth_type PASS');
  if (type.toUpperCase() === 'AH') {
    diag.error(
      KEEPALIVED_CODES.unsupportedFeature,
      node,
      'auth_type AH (IPsec authentication header) is not supported: use PASS or no authentication',
    );
    return;
  }
  if (type.toUpperCase() !== 'PASS') return void diag.bad(node, `auth_type "${type}": expected PASS or AH`);
  if (pass === undefined) return void diag.bad(node, 'auth_type PASS needs auth_pass');
  put(d, 'authentication', { auth_type: 'PASS', auth_pass: pass }, node);
};

const unicastPeers: Handler<RawDraft> = (node, d, diag) => {
  const peers: unknown[] = [];
  for (const child of node.children ?? []) {
    const address = parseIp(child.keyword, child, diag, 'peer');
    if (address === undefined) continue;
    const peer: Record<string, unknown> = { address };
    for (let i = 0; i < child.args.length; i += 2) {
      const key = child.args[i]!;
      const value = child.args[i + 1];
      if ((key === 'min_ttl' || key === 'max_ttl') && value !== undefined) {
        const n = parseUnsigned(value, child, diag, { max: 255 });
        if (n !== undefined) peer[key] = n;
      } else {
        diag.bad(child, `unicast_peer ${address}: unknown option "${key}" (min_ttl N, max_ttl N)`);
      }
    }
    peers.push(Object.keys(peer).length === 1 ? address : peer);
  }
  put(d, 'unicast_peer', peers, node);
};

/** track_interface / track_script / track_file / track_process: one `NAME [weight W] [reverse|noreverse]` per line. */
function trackList(key: string, nameKey: string, weightLimit = 253): Handler<RawDraft> {
  return (node, d, diag) => {
    const list: unknown[] = [];
    for (const child of node.children ?? []) {
      const entry: Record<string, unknown> = { [nameKey]: child.keyword };
      for (let i = 0; i < child.args.length; i++) {
        const word = child.args[i]!;
        if (word === 'weight') {
          const w = parseWeight(child.args[++i], child, diag, weightLimit);
          if (w !== undefined) entry.weight = w;
        } else if (word === 'reverse') entry.reverse = true;
        else if (word === 'noreverse') entry.reverse = false;
        else diag.bad(child, `${key} ${child.keyword}: unknown option "${word}"`);
      }
      list.push(entry);
    }
    put(d, key, list, node);
  };
}

const useVmac: Handler<RawDraft> = (node, d, diag) => {
  const [name, mac] = node.args;
  put(d, 'use_vmac', name ?? true, node);
  if (mac !== undefined) {
    if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac))
      return void diag.bad(node, `use_vmac: invalid MAC "${mac}"`);
    put(d, 'vmac_mac', mac, node);
  }
};

const garpKeys = <D extends Target>(prefix: string) => ({
  [`${prefix}garp_master_delay`]: timerKey<D>('garp_master_delay'),
  [`${prefix}garp_master_repeat`]: intKey<D>('garp_master_repeat', { max: 255 }),
  [`${prefix}garp_master_refresh`]: timerKey<D>('garp_master_refresh'),
  [`${prefix}garp_master_refresh_repeat`]: intKey<D>('garp_master_refresh_repeat', { min: 1, max: 255 }),
  [`${prefix}garp_lower_prio_delay`]: timerKey<D>('garp_lower_prio_delay'),
  [`${prefix}garp_lower_prio_repeat`]: intKey<D>('garp_lower_prio_repeat', { max: 255 }),
  [`${prefix}garp_interval`]: timerKey<D>('garp_interval'),
});

const INSTANCE_KEYWORDS = keywordTable<RawDraft>({
  state: (node, d, diag) => {
    const s = firstArg(node, diag, 'MASTER or BACKUP')?.toUpperCase();
    if (s === 'MASTER' || s === 'BACKUP') put(d, 'state', s, node);
    else if (s !== undefined) diag.bad(node, `"state": expected MASTER or BACKUP, got "${node.args[0]}"`);
  },
  interface: (node, d, diag) => {
    const i = firstArg(node, diag, 'an interface');
    if (i !== undefined) put(d, 'interface', i, node);
  },
  virtual_router_id: intKey('virtual_router_id', { min: 1, max: 255 }),
  priority: intKey('priority', { min: 1, max: 255 }),
  advert_int: timerKey('advert_int'),
  version: versionKey('version'),
  nopreempt: (node, d) => put(d, 'nopreempt', true, node),
  preempt: (node, d) => put(d, 'nopreempt', false, node),
  preempt_delay: timerKey('preempt_delay'),
  authentication,
  virtual_ipaddress: vipBlock('virtual_ipaddress'),
  virtual_ipaddress_excluded: vipBlock('virtual_ipaddress_excluded'),
  no_virtual_ipaddress: silent(),
  unicast_src_ip: ipKey('unicast_src_ip'),
  unicast_peer: unicastPeers,
  mcast_src_ip: ipKey('mcast_src_ip'),
  mcast_dst_ip: ipKey('mcast_group'),
  track_interface: trackList('track_interface', 'interface'),
  track_script: trackList('track_script', 'script'),
  dont_track_primary: (node, d) => put(d, 'dont_track_primary', true, node),
  ...notifyKeys<RawDraft>(),
  use_vmac: useVmac,
  ...garpKeys<RawDraft>(''),
  down_timer_adverts: intKey('down_timer_adverts', { min: 1, max: 100 }),
  v3_checksum_as_v2: boolKey('v3_checksum_as_v2'),
  lower_prio_no_advert: boolKey('lower_prio_no_advert'),
  higher_prio_send_advert: boolKey('higher_prio_send_advert'),
  check_unicast_src: boolKey('check_unicast_src'),
  skip_check_adv_addr: boolKey('skip_check_adv_addr'),
  accept: ignored('hastack does not filter traffic to the VIPs (accept mode is always on)'),
  no_accept: ignored('hastack does not filter traffic to the VIPs'),
  smtp_alert: ignored('e-mail alerts are not supported; use notify scripts'),
  debug: ignored(PROCESS),
  vmac_xmit_base: ignored('adverts always leave through the VMAC interface'),
  unicast_ttl: ignored('unicast adverts are sent with TTL 255'),
  garp_extra_if: unsupported('extra GARP interfaces'),
  strict_mode: unsupported('VRRP strict mode'),
  use_ipvlan: unsupported('ipvlan interfaces'),
  native_ipv6: unsupported(NO_IPV6),
  track_file: trackList('track_file', 'file', 254),
  track_process: trackList('track_process', 'process', 254),
  track_bfd: unsupported('BFD is not implemented'),
  track_group: unsupported('track_group'),
  virtual_routes: unsupported('hastack does not manage routes'),
  virtual_rules: unsupported('hastack does not manage routing rules'),
  auth_hmac: unsupported("keepalived's HMAC trailer"),
  old_unicast_checksum: unsupported('the pre-1.3 unicast checksum'),
  kernel_rx_buf_size: ignored(PROCESS),
});

export function parseVrrpInstance(node: ConfigNode, vrrp: VrrpDraft, diag: Diagnostics): void {
  const block = namedBlock('vrrp_instance', node, INSTANCE_KEYWORDS, diag);
  if (block === undefined) return;
  const { name, d } = block;
  if (d.raw.interface === undefined) return void diag.bad(node, `vrrp_instance ${name} has no interface`);
  if (d.raw.virtual_router_id === undefined)
    return void diag.bad(node, `vrrp_instance ${name} has no virtual_router_id`);
  vrrp.instances.push(d);
}

// ---- vrrp_script ------------------------------------------------------------

const SCRIPT_KEYWORDS = keywordTable<RawDraft>({
  script: scriptKey('script'),
  interval: timerKey('interval'),
  timeout: timerKey('timeout'),
  weight: weightKey(253, 'weight_reverse'),
  rise: intKey('rise', { min: 1, max: 1000 }),
  fall: intKey('fall', { min: 1, max: 1000 }),
  init_fail: (node, d) => put(d, 'init_fail', true, node),
  user: ignored(SCRIPT_USER),
});

/** A named block that must set `required` (`vrrp_script X { script … }`), added to `into` when it does. */
function collectBlock(
  node: ConfigNode,
  table: KeywordTable<RawDraft>,
  required: string,
  into: RawDraft[],
  diag: Diagnostics,
): void {
  const block = namedBlock(node.keyword, node, table, diag);
  if (block === undefined) return;
  if (block.d.raw[required] === undefined)
    return void diag.bad(node, `${node.keyword} ${block.name} has no ${required}`);
  into.push(block.d);
}

export function parseVrrpScript(node: ConfigNode, vrrp: VrrpDraft, diag: Diagnostics): void {
  collectBlock(node, SCRIPT_KEYWORDS, 'script', vrrp.scripts, diag);
}

// ---- track_file (vrrp_track_file) ----------------------------------------------

const INT32 = 2_147_483_647;

const TRACK_FILE_KEYWORDS = keywordTable<RawDraft>({
  file: pathKey('file'),
  weight: weightKey(INT32, 'reverse'),
  init_file: (node, d, diag) => {
    let value = 0;
    let overwrite = false;
    for (const word of node.args) {
      if (word === 'overwrite') overwrite = true;
      else if (/^[-+]?\d+$/.test(word) && Math.abs(Number(word)) <= INT32) value = Number(word);
      else return void diag.bad(node, `"init_file": expected [VALUE] [overwrite], got "${word}"`);
    }
    put(d, 'init_file', { value, overwrite }, node);
  },
});

export function parseTrackFile(node: ConfigNode, vrrp: VrrpDraft, diag: Diagnostics): void {
  collectBlock(node, TRACK_FILE_KEYWORDS, 'file', vrrp.trackFiles, diag);
}

// ---- vrrp_track_process ---------------------------------------------------------

const TRACK_PROCESS_KEYWORDS = keywordTable<RawDraft>({
  process: (node, d, diag) => {
    const name = firstArg(node, diag, 'a process name');
    if (name === undefined) return;
    put(d, 'process', name, node);
    if (node.args.length > 1) put(d, 'params', node.args.slice(1), node);
  },
  param_match: (node, d, diag) => {
    const how = node.args[0] ?? 'exact';
    if (how !== 'initial' && how !== 'partial' && how !== 'exact')
      return void diag.bad(node, `"param_match": expected initial or partial, got "${how}"`);
    put(d, 'param_match', how, node);
  },
  weight: weightKey(254, 'reverse'),
  quorum: intKey('quorum', { max: 65535 }),
  quorum_max: intKey('quorum_max', { max: 65535 }),
  fork_delay: timerKey('fork_delay'),
  terminate_delay: timerKey('terminate_delay'),
  delay: timerKey('delay'),
  full_command: (node, d) => put(d, 'full_command', true, node),
});

export function parseTrackProcess(node: ConfigNode, vrrp: VrrpDraft, diag: Diagnostics): void {
  collectBlock(node, TRACK_PROCESS_KEYWORDS, 'process', vrrp.trackProcesses, diag);
}

// ---- vrrp_sync_group ----------------------------------------------------------

const GROUP_KEYWORDS = keywordTable<RawDraft>({
  group: (node, d) => {
    const members = (node.children ?? []).flatMap((c) => [c.keyword, ...c.args]);
    put(d, 'group', members, node);
  },
  ...notifyKeys<RawDraft>(),
  smtp_alert: ignored('e-mail alerts are not supported; use notify scripts'),
  global_tracking: ignored('members keep their own trackers'),
  sync_group_tracking_weight: ignored('members keep their own trackers'),
  track_interface: unsupported('trackers on a sync group: put them on the member instances'),
  track_script: unsupported('trackers on a sync group: put them on the member instances'),
  track_file: unsupported('trackers on a sync group: put them on the member instances'),
  track_process: unsupported('trackers on a sync group: put them on the member instances'),
  track_bfd: unsupported('BFD is not implemented'),
});

export function parseVrrpSyncGroup(node: ConfigNode, vrrp: VrrpDraft, diag: Diagnostics): void {
  const block = namedBlock('vrrp_sync_group', node, GROUP_KEYWORDS, diag);
  if (block === undefined) return;
  const { name, d } = block;
  if (!Array.isArray(d.raw.group) || d.raw.group.length === 0) {
    return void diag.bad(node, `vrrp_sync_group ${name} has no group { } of instances`);
  }
  vrrp.groups.push(d);
}

// ---- global_defs --------------------------------------------------------------

function globalHandler(handler: Handler<Target>): Handler<{ vrrp: VrrpDraft }> {
  return (node, top, diag) => handler(node, { raw: top.vrrp.globals, pos: top.vrrp.globalPos }, diag);
}

/** The VRRP keys of global_defs, for convert.ts's global_defs table. */
export const VRRP_GLOBAL_KEYWORDS: Record<string, Handler<{ vrrp: VrrpDraft }>> = {
  vrrp_version: globalHandler(versionKey('version')),
  vrrp_mcast_group4: globalHandler(ipKey('mcast_group')),
  ...Object.fromEntries(Object.entries(garpKeys<Target>('vrrp_')).map(([k, h]) => [k, globalHandler(h)])),
  vrrp_lower_prio_no_advert: globalHandler(boolKey('lower_prio_no_advert')),
  vrrp_higher_prio_send_advert: globalHandler(boolKey('higher_prio_send_advert')),
  vrrp_check_unicast_src: globalHandler(boolKey('check_unicast_src')),
  vrrp_skip_check_adv_addr: globalHandler(boolKey('skip_check_adv_addr')),
  v3_checksum_as_v2: globalHandler(boolKey('v3_checksum_as_v2')),
  vrrp_startup_delay: globalHandler(timerKey('startup_delay')),
  notify_fifo: globalHandler(pathKey('notify_fifo')),
  vrrp_notify_fifo: globalHandler(pathKey('notify_fifo')),
  notify_fifo_script: globalHandler(scriptKey('notify_fifo_script')),
  vrrp_notify_fifo_script: globalHandler(scriptKey('notify_fifo_script')),
  vrrp_strict: unsupported('VRRP strict mode'),
  vrrp_mcast_group6: ignored(NO_IPV6),
  vrrp_gna_interval: ignored(NO_IPV6),
  vrrp_garp_extra_if: unsupported('extra GARP interfaces'),
  vrrp_iptables: ignored('hastack does not install firewall rules for VIPs'),
  vrrp_ipsets: ignored('hastack does not install firewall rules for VIPs'),
  vrrp_no_swap: ignored(PROCESS),
  vrrp_priority: ignored(PROCESS),
  vrrp_rt_priority: ignored(PROCESS),
  vrrp_cpu_affinity: ignored(PROCESS),
  vrrp_rlimit_rttime: ignored(PROCESS),
  vrrp_netlink_cmd_rcv_bufs: ignored(PROCESS),
  vrrp_netlink_monitor_rcv_bufs: ignored(PROCESS),
  vrrp_rx_bufs_policy: ignored(PROCESS),
  vrrp_rx_bufs_multiplier: ignored(PROCESS),
  vrrp_min_garp: ignored('GARP timing comes from the garp_* keys'),
  vrrp_garp_lower_prio_no_advert: ignored('see lower_prio_no_advert'),
};

// ---- emission -----------------------------------------------------------------

/** The raw `vrrp` section (or undefined when the file has no vrrp_instance), with key positions. */
export function emitVrrp(
  vrrp: VrrpDraft,
  map: SourceMap,
  diag: Diagnostics,
): Record<string, unknown> | undefined {
  if (vrrp.instances.length === 0) {
    for (const d of [...vrrp.scripts, ...vrrp.trackFiles, ...vrrp.trackProcesses, ...vrrp.groups]) {
      diag.warn(KEEPALIVED_CODES.ignored, d.node, `"${d.raw.name}" is unused: the file has no vrrp_instance`);
    }
    return undefined;
  }
  const section: Record<string, unknown> = { ...vrrp.globals };
  for (const [key, pos] of vrrp.globalPos) map.set(['vrrp', key], pos);
  const emit = (key: string, drafts: RawDraft[]) => {
    if (drafts.length === 0) return;
    section[key] = drafts.map((d) => d.raw);
    drafts.forEach((d, i) => {
      map.set(['vrrp', key, i], d.node);
      for (const [k, pos] of d.pos) map.set(['vrrp', key, i, k], pos);
    });
  };
  emit('scripts', vrrp.scripts);
  emit('track_files', vrrp.trackFiles);
  emit('track_processes', vrrp.trackProcesses);
  emit('instances', vrrp.instances);
  emit('sync_groups', vrrp.groups);
  return section;
}
