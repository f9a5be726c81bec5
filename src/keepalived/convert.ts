import type { LineLookup } from '../config/load-config.ts';
import type { ConfigWarning } from '../config/model.ts';
import type { RawConfig } from '../config/schema.ts';
import type { ConfigNode } from './block-parser.ts';
import {
  Diagnostics,
  dispatch,
  type Handler,
  ignored,
  keywordTable,
  located,
  silent,
  unsupported,
} from './convert-context.ts';
import {
  emitVirtualServers,
  type GroupDraft,
  type LvsDefaults,
  parseVirtualServer,
  type VirtualServerDraft,
} from './convert-virtual-server.ts';
import {
  emitVrrp,
  emptyVrrpDraft,
  parseTrackFile,
  parseTrackProcess,
  parseVrrpInstance,
  parseVrrpScript,
  parseVrrpSyncGroup,
  VRRP_GLOBAL_KEYWORDS,
  type VrrpDraft,
} from './convert-vrrp.ts';
import { errorAt, KEEPALIVED_CODES, keepalivedError } from './diagnostics.ts';
import { SourceMap } from './line-map.ts';
import { parseTimerMs } from './values.ts';

/*
 * Statement tree → hastack's raw (YAML-shaped) config. Each kind of block has
 * its own keyword table; a keyword hastack cannot honour yet is reported as a
 * warning with its file and line, never dropped silently.
 */

export interface ConvertResult {
  raw: RawConfig;
  lineOf: LineLookup;
  warnings: ConfigWarning[];
  /** Positions with their files, for errors in included files. */
  sourceMap: SourceMap;
}

interface TopLevel {
  virtualServers: VirtualServerDraft[];
  groups: Map<string, GroupDraft>;
  lvs: LvsDefaults;
  vrrp: VrrpDraft;
}

const EMAIL = 'e-mail alerts are not supported; use notify scripts or the admin API';
const VRRP = "hastack's VRRP does not implement it";
const PROCESS = 'keepalived process setting';

const lvsTimeouts: Handler<TopLevel> = (node, top, diag) => {
  if (node.args.length === 0 || node.args.length % 2 !== 0) {
    diag.bad(node, '"lvs_timeouts" takes pairs: tcp SECONDS, tcpfin SECONDS, udp SECONDS');
    return;
  }
  for (let i = 0; i < node.args.length; i += 2) {
    const which = node.args[i]!;
    const ms = parseTimerMs(node.args[i + 1]!, node, diag);
    if (ms === undefined) continue;
    if (which === 'tcp') top.lvs.tcpTimeout = located(ms, node);
    else if (which === 'udp') top.lvs.udpTimeout = located(ms, node);
    else if (which === 'tcpfin') {
      diag.warn(
        KEEPALIVED_CODES.ignored,
        node,
        'lvs_timeouts tcpfin ignored: closing connections are not timed separately',
      );
    } else diag.bad(node, `"lvs_timeouts": unknown timeout "${which}" (tcp, tcpfin or udp)`);
  }
};

const GLOBAL_DEFS_KEYWORDS = keywordTable<TopLevel>({
  lvs_timeouts: lvsTimeouts,
  // Identification only: harmless, nothing to say.
  router_id: silent(),
  process_names: silent(),
  process_name: silent(),
  vrrp_process_name: silent(),
  checker_process_name: silent(),
  bfd_process_name: silent(),
  notification_email: ignored(EMAIL),
  notification_email_from: ignored(EMAIL),
  smtp_server: ignored(EMAIL),
  smtp_helo_name: ignored(EMAIL),
  smtp_connect_timeout: ignored(EMAIL),
  smtp_alert: ignored(EMAIL),
  smtp_alert_vrrp: ignored(EMAIL),
  smtp_alert_checker: ignored(EMAIL),
  no_email_faults: ignored(EMAIL),
  script_user: ignored('hastack runs scripts as its own user'),
  enable_script_security: ignored('hastack runs scripts as its own user'),
  lvs_sync_daemon: unsupported('connection synchronisation needs the kernel IPVS sync daemon'),
  lvs_flush: ignored('hastack does not touch kernel IPVS tables'),
  lvs_flush_on_stop: ignored('hastack does not touch kernel IPVS tables'),
  nftables_ipvs: ignored('hastack does not touch kernel IPVS tables'),
  ...VRRP_GLOBAL_KEYWORDS,
});

/** Anything else in global_defs: VRRP settings hastack lacks are named as such, the rest has no effect here. */
const otherGlobal: Handler<TopLevel> = (node, _top, diag) => {
  if (/^(vrrp_|garp_|gna_)/.test(node.keyword)) {
    diag.warn(
      KEEPALIVED_CODES.unsupported,
      node,
      `"${node.keyword}" is not supported yet and is skipped: ${VRRP}`,
    );
  } else if (/smtp|email/.test(node.keyword)) {
    diag.warn(KEEPALIVED_CODES.ignored, node, `"${node.keyword}" ignored: ${EMAIL}`);
  } else {
    diag.warn(KEEPALIVED_CODES.ignored, node, `"${node.keyword}" ignored: it has no effect in hastack`);
  }
};

const TOP_LEVEL_KEYWORDS = keywordTable<TopLevel>({
  global_defs: (node, top, diag) =>
    dispatch(node.children ?? [], GLOBAL_DEFS_KEYWORDS, top, diag, 'global_defs', otherGlobal),
  virtual_server: (node, top, diag) => {
    const draft = parseVirtualServer(node, diag);
    if (draft !== undefined) top.virtualServers.push(draft);
  },
  virtual_server_group: (node, top, diag) => {
    const name = node.args[0];
    if (name === undefined) return void diag.bad(node, '"virtual_server_group" needs a name');
    if (top.groups.has(name)) return void diag.bad(node, `virtual_server_group "${name}" is defined twice`);
    top.groups.set(name, { node, used: false });
  },
  vrrp_instance: (node, top, diag) => parseVrrpInstance(node, top.vrrp, diag),
  vrrp_sync_group: (node, top, diag) => parseVrrpSyncGroup(node, top.vrrp, diag),
  vrrp_script: (node, top, diag) => parseVrrpScript(node, top.vrrp, diag),
  vrrp_track_process: (node, top, diag) => parseTrackProcess(node, top.vrrp, diag),
  track_process: (node, top, diag) => parseTrackProcess(node, top.vrrp, diag),
  // vrrp_track_file is keepalived's older name for track_file.
  vrrp_track_file: (node, top, diag) => parseTrackFile(node, top.vrrp, diag),
  track_file: (node, top, diag) => parseTrackFile(node, top.vrrp, diag),
  garp_group: unsupported(VRRP),
  static_track_group: unsupported(VRRP),
  static_ipaddress: unsupported('hastack does not manage interface addresses'),
  static_routes: unsupported('hastack does not manage routes'),
  static_rules: unsupported('hastack does not manage routing rules'),
  linkbeat_interfaces: ignored('hastack polls the link state of every tracked interface'),
  bfd_instance: unsupported('BFD is not implemented'),
  SSL: ignored('SSL_GET in hastack presents no client certificate'),
  net_namespace: ignored(PROCESS),
  net_namespace_ipvs: ignored(PROCESS),
  namespace_with_ipsets: ignored(PROCESS),
  instance: ignored(PROCESS),
  use_pid_dir: ignored(PROCESS),
  child_wait_time: ignored(PROCESS),
  linkbeat_use_polling: ignored(PROCESS),
});

/**
 * Converts the statement tree. `file` names the main file (for an empty
 * configuration). Throws a ConfigError listing every problem found.
 */
export function convertKeepalived(nodes: readonly ConfigNode[], file: string): ConvertResult {
  if (nodes.length === 0) {
    throw errorAt(KEEPALIVED_CODES.empty, { file, line: 1 }, 'the configuration is empty: no virtual_server');
  }
  const diag = new Diagnostics();
  const top: TopLevel = { virtualServers: [], groups: new Map(), lvs: {}, vrrp: emptyVrrpDraft() };
  dispatch(nodes, TOP_LEVEL_KEYWORDS, top, diag, 'the top level');
  const map = new SourceMap();
  const virtualServers = emitVirtualServers(top.virtualServers, top.groups, top.lvs, map, diag);
  const vrrp = emitVrrp(top.vrrp, map, diag);
  if (diag.errors.length > 0) throw keepalivedError(diag.errors);
  if (virtualServers.length === 0 && vrrp === undefined) {
    diag.warn(KEEPALIVED_CODES.ignored, nodes[0]!, 'no virtual_server: hastack has nothing to balance');
  }
  const raw = { virtual_servers: virtualServers, ...(vrrp !== undefined && { vrrp }) } as RawConfig;
  return { raw, lineOf: map.lineOf, warnings: diag.warnings, sourceMap: map };
}
