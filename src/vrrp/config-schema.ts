import { isIP } from 'node:net';
import { z } from 'zod';
import { command, duration } from '../config/schema-parts.ts';
import type { TrackProcessConfig } from './process-match.ts';

/*
 * The `vrrp` section of hastack.yaml. Keys follow keepalived's names
 * (virtual_router_id, advert_int, nopreempt, virtual_ipaddress...), so a
 * keepalived.conf converts key for key. The schema's output is the model below.
 */

export type VrrpStateName = 'MASTER' | 'BACKUP';

export interface VirtualAddress {
  address: string;
  prefix: number;
  /** The interface the address goes on; default: the instance's interface. */
  dev?: string;
  /** Broadcast address, or '+' to derive it (iproute2's brd +). */
  brd?: string;
  label?: string;
  scope?: 'global' | 'site' | 'link' | 'host' | 'nowhere';
}

export interface UnicastPeer {
  address: string;
  /** Accept this peer's adverts only with a TTL in [minTtl, maxTtl] (keepalived min_ttl/max_ttl). */
  minTtl?: number;
  maxTtl?: number;
}

export interface TrackedInterface {
  interface: string;
  /** 0: FAULT while down. Otherwise added to the priority while up (>0) or while down (<0). */
  weight: number;
  /** Up counts as down and the other way round. */
  reverse: boolean;
}

export interface TrackedScript {
  script: string;
  /** Overrides the script's own weight. */
  weight?: number;
  reverse?: boolean;
}

/** An instance's use of a vrrp_track_process (keepalived `track_process { NAME [weight W] [reverse] }`). */
export interface TrackedProcess {
  process: string;
  /** Overrides the tracker's own weight. */
  weight?: number;
  reverse?: boolean;
}

/** An instance's use of a track_file (keepalived `track_file { NAME [weight W] [reverse] }`). */
export interface TrackedFile {
  file: string;
  /** Overrides the track_file's own weight. */
  weight?: number;
  reverse?: boolean;
}

export interface TrackFileConfig {
  name: string;
  path: string;
  /** The value is multiplied by it; 0: a non-zero value is FAULT. */
  weight: number;
  weightReverse: boolean;
  /** init_file: write `value` at start when the file is missing (always, with `overwrite`). */
  init?: { value: number; overwrite: boolean };
}

export interface NotifyScripts {
  master?: string;
  backup?: string;
  fault?: string;
  stop?: string;
  /** Called with: INSTANCE|GROUP name STATE priority. */
  notify?: string;
}

export interface GarpSettings {
  /** Delay before the second burst after becoming MASTER (0 = no second burst). */
  masterDelayMs: number;
  /** Gratuitous ARPs per address in each burst. */
  masterRepeat: number;
  /** Resend a burst this often while MASTER (0 = never). */
  masterRefreshMs: number;
  masterRefreshRepeat: number;
  /** A MASTER hearing a lower priority advert (split brain healing) sends this many at once... */
  lowerPrioRepeat: number;
  /** ...and as many again this much later (at most one such pair per delay). */
  lowerPrioDelayMs: number;
  /** Pause between two ARPs on one interface. */
  intervalMs: number;
}

export interface VrrpInstanceConfig {
  name: string;
  interface: string;
  vrid: number;
  /** Configured priority; 255 = address owner. */
  priority: number;
  initialState: VrrpStateName;
  version: 2 | 3;
  advertIntMs: number;
  preempt: boolean;
  preemptDelayMs: number;
  /** v2 PASS authentication: the password as configured (8 bytes are used). */
  authPass?: string;
  unicastSrcIp?: string;
  unicastPeers: UnicastPeer[];
  /** Source address of multicast adverts; default: the interface's primary address. */
  mcastSrcIp?: string;
  mcastGroup: string;
  vips: VirtualAddress[];
  /** Added and removed with the VIPs but not carried in adverts. */
  excludedVips: VirtualAddress[];
  trackInterfaces: TrackedInterface[];
  trackScripts: TrackedScript[];
  trackFiles: TrackedFile[];
  trackProcesses: TrackedProcess[];
  /** The instance's own interface is tracked (FAULT while down) unless dont_track_primary. */
  trackPrimary: boolean;
  notify: NotifyScripts;
  /** use_vmac: a macvlan with 00:00:5e:00:01:VRID carries the VIPs. */
  vmac?: { name: string; mac?: string };
  garp: GarpSettings;
  v3ChecksumAsV2: boolean;
  /** RFC 3768 behaviour: a MASTER does not answer a lower priority advert with its own. */
  lowerPrioNoAdvert: boolean;
  /** A MASTER sends one advert before yielding to a higher priority (hastack default: on). */
  higherPrioSendAdvert: boolean;
  /** The 3 of Master_Down_Interval = 3 × Adver_Int + Skew. */
  downTimerAdverts: number;
  /** Unicast: drop adverts whose source is not a configured peer. */
  checkUnicastSrc: boolean;
  /** Do not compare the advert's address list with ours. */
  skipCheckAdvAddr: boolean;
  /**
   * VIPs held as kernel address leases (issue 7); absent = permanent addresses as
   * keepalived. `fixedMs` (whole seconds) overrides the lifetime derived from the timers.
   */
  vipLease?: { fixedMs?: number };
}

export interface VrrpScriptConfig {
  name: string;
  /** Run through /bin/sh -c; exit 0 = success. */
  command: string;
  intervalMs: number;
  timeoutMs: number;
  /** 0: FAULT after `fall` failures. >0: added while succeeding; <0: added while failing. */
  weight: number;
  /** Reverse the meaning of the weight (keepalived `weight N reverse`). */
  weightReverse: boolean;
  rise: number;
  fall: number;
  /** Start in the failed state. */
  initFail: boolean;
}

export interface VrrpSyncGroupConfig {
  name: string;
  members: string[];
  notify: NotifyScripts;
}

export interface VrrpConfig {
  instances: VrrpInstanceConfig[];
  scripts: VrrpScriptConfig[];
  trackFiles: TrackFileConfig[];
  trackProcesses: TrackProcessConfig[];
  syncGroups: VrrpSyncGroupConfig[];
  /** keepalived's notify FIFO: one line per transition (INSTANCE "VI_1" MASTER 100). */
  notifyFifo?: string;
  /** Started with the FIFO's path; reads the lines. */
  notifyFifoScript?: string;
  /** Wait this long before starting the instances (vrrp_startup_delay). */
  startupDelayMs: number;
}

const NAME = /^[A-Za-z0-9_.:@-]+$/;
const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

const ipv4 = z.string().refine((s) => isIP(s) === 4, { message: 'expected an IPv4 address' });
const ifname = z.string().regex(IFNAME, 'expected an interface name (at most 15 characters)');
const weight = z.number().int().min(-253).max(253);
const scopes = ['global', 'site', 'link', 'host', 'nowhere'] as const;

/** keepalived's `IP[/M] [brd IP|+] [dev IF] [label L] [scope S]`, as a string or an object. */
const vipObject = z.strictObject({
  address: z.string(),
  dev: ifname.optional(),
  brd: z.string().optional(),
  label: z.string().max(15).optional(),
  scope: z.enum(scopes).optional(),
});

const virtualAddress = z.union([z.string(), vipObject]).transform((value, ctx): VirtualAddress => {
  const fields: Record<string, string> = {};
  let address: string;
  if (typeof value === 'string') {
    const words = value.trim().split(/\s+/);
    address = words[0] ?? '';
    for (let i = 1; i < words.length; i += 2) {
      const key = words[i]!;
      const arg = words[i + 1];
      if (!['dev', 'brd', 'broadcast', 'label', 'scope'].includes(key) || arg === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${value}": expected IP[/prefix] followed by dev IF, brd IP, label NAME or scope SCOPE`,
        });
        return z.NEVER;
      }
      fields[key === 'broadcast' ? 'brd' : key] = arg;
    }
  } else {
    address = value.address;
    for (const key of ['dev', 'brd', 'label', 'scope'] as const) {
      if (value[key] !== undefined) fields[key] = value[key];
    }
  }
  const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(address);
  if (m === null || isIP(m[1]!) !== 4 || (m[2] !== undefined && Number(m[2]) > 32)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${address}": expected an IPv4 address with an optional /prefix`,
    });
    return z.NEVER;
  }
  if (fields.dev !== undefined && !IFNAME.test(fields.dev)) {
    ctx.addIssue({ code: 'custom', message: `"${fields.dev}": not an interface name` });
    return z.NEVER;
  }
  if (fields.brd !== undefined && fields.brd !== '+' && isIP(fields.brd) !== 4) {
    ctx.addIssue({ code: 'custom', message: `brd "${fields.brd}": expected an IPv4 address or +` });
    return z.NEVER;
  }
  if (fields.scope !== undefined && !(scopes as readonly string[]).includes(fields.scope)) {
    ctx.addIssue({
      code: 'custom',
      message: `scope "${fields.scope}": expected one of ${scopes.join(', ')}`,
    });
    return z.NEVER;
  }
  return {
    address: m[1]!,
    // keepalived's default for a bare address is /32.
    prefix: m[2] === undefined ? 32 : Number(m[2]),
    ...(fields.dev !== undefined && { dev: fields.dev }),
    ...(fields.brd !== undefined && { brd: fields.brd }),
    ...(fields.label !== undefined && { label: fields.label }),
    ...(fields.scope !== undefined && { scope: fields.scope as VirtualAddress['scope'] & string }),
  };
});

const unicastPeer = z
  .union([
    ipv4,
    z.strictObject({
      address: ipv4,
      min_ttl: z.number().int().min(0).max(255).optional(),
      max_ttl: z.number().int().min(0).max(255).optional(),
    }),
  ])
  .transform(
    (p): UnicastPeer =>
      typeof p === 'string'
        ? { address: p }
        : {
            address: p.address,
            ...(p.min_ttl !== undefined && { minTtl: p.min_ttl }),
            ...(p.max_ttl !== undefined && { maxTtl: p.max_ttl }),
          },
  );

const trackInterface = z
  .union([
    ifname,
    z.strictObject({ interface: ifname, weight: weight.default(0), reverse: z.boolean().default(false) }),
  ])
  .transform(
    (t): TrackedInterface => (typeof t === 'string' ? { interface: t, weight: 0, reverse: false } : t),
  );

const trackScript = z
  .union([
    z.string().min(1),
    z.strictObject({ script: z.string().min(1), weight: weight.optional(), reverse: z.boolean().optional() }),
  ])
  .transform((t): TrackedScript => {
    if (typeof t === 'string') return { script: t };
    return {
      script: t.script,
      ...(t.weight !== undefined && { weight: t.weight }),
      ...(t.reverse !== undefined && { reverse: t.reverse }),
    };
  });

/**
 * An instance's use of a named tracker: `NAME`, or `{ <key>: NAME, weight, reverse }`
 * (track_file, track_process: weight −254..254, as keepalived).
 */
function trackEntry(key: 'file' | 'process') {
  const object = z.strictObject({
    [key]: z.string().min(1),
    weight: z.number().int().min(-254).max(254).optional(),
    reverse: z.boolean().optional(),
  });
  return z.union([z.string().min(1), object]).transform((t) => {
    if (typeof t === 'string') return { name: t };
    const { weight, reverse } = t as { weight?: number; reverse?: boolean };
    return {
      name: (t as Record<string, string>)[key]!,
      ...(weight !== undefined && { weight }),
      ...(reverse !== undefined && { reverse }),
    };
  });
}

const notifyKeys = {
  notify_master: command.optional(),
  notify_backup: command.optional(),
  notify_fault: command.optional(),
  notify_stop: command.optional(),
  notify: command.optional(),
};

function notifyOf(o: {
  notify_master?: string | undefined;
  notify_backup?: string | undefined;
  notify_fault?: string | undefined;
  notify_stop?: string | undefined;
  notify?: string | undefined;
}): NotifyScripts {
  return {
    ...(o.notify_master !== undefined && { master: o.notify_master }),
    ...(o.notify_backup !== undefined && { backup: o.notify_backup }),
    ...(o.notify_fault !== undefined && { fault: o.notify_fault }),
    ...(o.notify_stop !== undefined && { stop: o.notify_stop }),
    ...(o.notify !== undefined && { notify: o.notify }),
  };
}

/** Keys an instance may set and the section may default (keepalived's global_defs vrrp_* keys). */
const inheritable = {
  version: z.union([z.literal(2), z.literal(3)]).optional(),
  garp_master_delay: duration.optional(),
  garp_master_repeat: z.number().int().min(0).max(255).optional(),
  garp_master_refresh: duration.optional(),
  garp_master_refresh_repeat: z.number().int().min(1).max(255).optional(),
  garp_lower_prio_delay: duration.optional(),
  garp_lower_prio_repeat: z.number().int().min(0).max(255).optional(),
  garp_interval: duration.optional(),
  v3_checksum_as_v2: z.boolean().optional(),
  lower_prio_no_advert: z.boolean().optional(),
  higher_prio_send_advert: z.boolean().optional(),
  check_unicast_src: z.boolean().optional(),
  skip_check_adv_addr: z.boolean().optional(),
  mcast_group: ipv4.optional(),
  down_timer_adverts: z.number().int().min(1).max(100).optional(),
  /** true (default): lease derived from the timers; a duration: that lease; false: permanent VIPs. */
  vip_lease: z.union([z.boolean(), duration]).optional(),
};

/** The kernel counts address lifetimes in seconds; a day is far beyond any useful lease. */
const MAX_LEASE_MS = 86_400_000;

function leaseProblem(lease: boolean | number | undefined): string | undefined {
  if (typeof lease !== 'number') return undefined;
  if (lease < 1000 || lease > MAX_LEASE_MS || lease % 1000 !== 0) {
    return 'vip_lease is whole seconds from 1s to 1d (the kernel counts address lifetimes in seconds)';
  }
  return undefined;
}

const instanceSchema = z.strictObject({
  name: z.string().regex(NAME, 'name may use letters, digits and _.:@-'),
  interface: ifname,
  state: z.enum(['MASTER', 'BACKUP']).default('BACKUP'),
  virtual_router_id: z.number().int().min(1).max(255),
  priority: z.number().int().min(1).max(255).default(100),
  advert_int: duration.default(1000),
  nopreempt: z.boolean().default(false),
  preempt_delay: duration.default(0),
  authentication: z
    .strictObject({
      auth_type: z.enum(['PASS', 'pass']),
      auth_pass: z.string().min(1),
    })
    .optional(),
  unicast_src_ip: ipv4.optional(),
  unicast_peer: z.array(unicastPeer).default([]),
  mcast_src_ip: ipv4.optional(),
  virtual_ipaddress: z.array(virtualAddress).default([]),
  virtual_ipaddress_excluded: z.array(virtualAddress).default([]),
  track_interface: z.array(trackInterface).default([]),
  track_script: z.array(trackScript).default([]),
  track_file: z.array(trackEntry('file')).default([]),
  track_process: z.array(trackEntry('process')).default([]),
  dont_track_primary: z.boolean().default(false),
  use_vmac: z.union([z.boolean(), ifname]).default(false),
  vmac_mac: z
    .string()
    .regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'expected a MAC address aa:bb:cc:dd:ee:ff')
    .optional(),
  ...notifyKeys,
  ...inheritable,
});

const scriptSchema = z.strictObject({
  name: z.string().regex(NAME, 'name may use letters, digits and _.:@-'),
  script: command,
  interval: duration.default(1000),
  timeout: duration.optional(),
  weight: weight.default(0),
  weight_reverse: z.boolean().default(false),
  rise: z.number().int().min(1).max(1000).default(1),
  fall: z.number().int().min(1).max(1000).default(1),
  init_fail: z.boolean().default(false),
});

const INT32 = 2_147_483_647;

const trackFileSchema = z.strictObject({
  name: z.string().regex(NAME, 'name may use letters, digits and _.:@-'),
  file: z.string().min(1),
  weight: z.number().int().min(-INT32).max(INT32).default(1),
  reverse: z.boolean().default(false),
  /** A number, or { value, overwrite }. */
  init_file: z
    .union([
      z.number().int().min(-INT32).max(INT32),
      z.strictObject({
        value: z.number().int().min(-INT32).max(INT32).default(0),
        overwrite: z.boolean().default(false),
      }),
    ])
    .optional(),
});

/** keepalived's vrrp_track_process. */
const trackProcessSchema = z
  .strictObject({
    name: z.string().regex(NAME, 'name may use letters, digits and _.:@-'),
    /** The process name (comm), or argv[0] when the command line is matched. */
    process: z.string().min(1),
    /** Match the command line's arguments too. */
    params: z.array(z.string()).optional(),
    param_match: z.enum(['exact', 'partial', 'initial']).optional(),
    full_command: z.boolean().default(false),
    weight: z.number().int().min(-254).max(254).default(1),
    reverse: z.boolean().default(false),
    /** Default 1, or 0 with quorum_max 0 (up while none runs). */
    quorum: z.number().int().min(0).max(65535).optional(),
    /** Omitted: no maximum. */
    quorum_max: z.number().int().min(0).max(65535).optional(),
    fork_delay: duration.optional(),
    terminate_delay: duration.optional(),
    /** Sets fork_delay and terminate_delay where they are not given. */
    delay: duration.optional(),
  })
  .refine((p) => p.quorum_max === undefined || p.quorum_max >= (p.quorum ?? 0), {
    message: 'quorum_max must be at least quorum',
    path: ['quorum_max'],
  });

const syncGroupSchema = z.strictObject({
  name: z.string().regex(NAME, 'name may use letters, digits and _.:@-'),
  group: z.array(z.string().min(1)).min(1),
  ...notifyKeys,
});

/** Defaults as keepalived's (vrrp.h / global_data.c). */
const DEFAULTS = {
  version: 2 as 2 | 3,
  garpMasterDelayMs: 5000,
  garpMasterRepeat: 5,
  garpMasterRefreshMs: 0,
  garpMasterRefreshRepeat: 1,
  garpLowerPrioDelayMs: 5000,
  garpLowerPrioRepeat: 1,
  garpIntervalMs: 0,
  mcastGroup: '224.0.0.18',
  downTimerAdverts: 3,
};

/** Names of one kind of named block must be unique. */
function uniqueNames(
  list: readonly { name: string }[],
  key: string,
  what: string,
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  list.forEach((item, i) => {
    if (seen.has(item.name))
      ctx.addIssue({
        code: 'custom',
        path: [key, i, 'name'],
        message: `duplicate ${what} name "${item.name}"`,
      });
    seen.add(item.name);
  });
}

export const vrrpSectionSchema = z
  .strictObject({
    ...inheritable,
    notify_fifo: z.string().min(1).optional(),
    notify_fifo_script: command.optional(),
    startup_delay: duration.default(0),
    scripts: z.array(scriptSchema).default([]),
    track_files: z.array(trackFileSchema).default([]),
    track_processes: z.array(trackProcessSchema).default([]),
    instances: z.array(instanceSchema).min(1, 'a vrrp section needs at least one instance'),
    sync_groups: z.array(syncGroupSchema).default([]),
  })
  .superRefine((section, ctx) => {
    const sectionLease = leaseProblem(section.vip_lease);
    if (sectionLease !== undefined)
      ctx.addIssue({ code: 'custom', path: ['vip_lease'], message: sectionLease });
    const names = new Map<string, number>();
    const routers = new Map<string, number>();
    const scripts = new Set(section.scripts.map((s) => s.name));
    const files = new Set(section.track_files.map((f) => f.name));
    const processes = new Set(section.track_processes.map((p) => p.name));
    section.instances.forEach((inst, i) => {
      const at = (...path: (string | number)[]) => ['instances', i, ...path];
      const prev = names.get(inst.name);
      if (prev !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: at('name'),
          message: `duplicate instance name "${inst.name}" (also #${prev})`,
        });
      }
      names.set(inst.name, i);
      const unicast = inst.unicast_peer.length > 0;
      const key = `${inst.interface}/${unicast ? 'unicast' : 'multicast'}/${inst.virtual_router_id}`;
      const prevRouter = routers.get(key);
      if (prevRouter !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: at('virtual_router_id'),
          message: `virtual_router_id ${inst.virtual_router_id} on ${inst.interface} is already used by instance #${prevRouter}`,
        });
      }
      routers.set(key, i);
      const lease = leaseProblem(inst.vip_lease);
      if (lease !== undefined) ctx.addIssue({ code: 'custom', path: at('vip_lease'), message: lease });
      const version = inst.version ?? section.version ?? DEFAULTS.version;
      if (inst.authentication !== undefined && version === 3) {
        ctx.addIssue({ code: 'custom', path: at('authentication'), message: 'VRRPv3 has no authentication' });
      }
      const advertMs = inst.advert_int;
      if (version === 3 && (advertMs < 10 || advertMs > 40_950)) {
        ctx.addIssue({
          code: 'custom',
          path: at('advert_int'),
          message: 'VRRPv3 advert_int must be 10ms..40.95s',
        });
      }
      if (version === 2 && (advertMs < 1000 || advertMs > 255_000 || advertMs % 1000 !== 0)) {
        ctx.addIssue({
          code: 'custom',
          path: at('advert_int'),
          message: 'VRRPv2 advert_int must be whole seconds, 1..255 (use version 3 for shorter intervals)',
        });
      }
      if (inst.preempt_delay > 1_000_000) {
        ctx.addIssue({
          code: 'custom',
          path: at('preempt_delay'),
          message: 'preempt_delay is at most 1000s',
        });
      }
      inst.track_script.forEach((t, j) => {
        if (!scripts.has(t.script)) {
          ctx.addIssue({
            code: 'custom',
            path: at('track_script', j),
            message: `no vrrp script named "${t.script}"`,
          });
        }
      });
      for (const [key, list, known] of [
        ['track_file', inst.track_file, files],
        ['track_process', inst.track_process, processes],
      ] as const) {
        list.forEach((t, j) => {
          if (!known.has(t.name))
            ctx.addIssue({ code: 'custom', path: at(key, j), message: `no ${key} named "${t.name}"` });
        });
      }
      const vipCount = inst.virtual_ipaddress.length;
      if (vipCount > 255) {
        ctx.addIssue({
          code: 'custom',
          path: at('virtual_ipaddress'),
          message: 'at most 255 addresses fit in an advert',
        });
      }
      if (typeof inst.use_vmac === 'string' && inst.use_vmac === inst.interface) {
        ctx.addIssue({
          code: 'custom',
          path: at('use_vmac'),
          message: 'the VMAC interface needs its own name',
        });
      }
    });
    uniqueNames(section.scripts, 'scripts', 'script', ctx);
    uniqueNames(section.track_files, 'track_files', 'track_file', ctx);
    uniqueNames(section.track_processes, 'track_processes', 'track_process', ctx);
    const grouped = new Map<string, string>();
    section.sync_groups.forEach((g, i) => {
      g.group.forEach((member, j) => {
        if (!names.has(member)) {
          ctx.addIssue({
            code: 'custom',
            path: ['sync_groups', i, 'group', j],
            message: `no instance named "${member}"`,
          });
        }
        const other = grouped.get(member);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['sync_groups', i, 'group', j],
            message: `instance "${member}" is already in sync group "${other}"`,
          });
        }
        grouped.set(member, g.name);
      });
    });
  })
  .transform((section): VrrpConfig => {
    const pick = <T>(own: T | undefined, global: T | undefined, fallback: T): T => own ?? global ?? fallback;
    const instances = section.instances.map((inst): VrrpInstanceConfig => {
      const version = pick(inst.version, section.version, DEFAULTS.version);
      const lease = pick(inst.vip_lease, section.vip_lease, true);
      const vmacName =
        inst.use_vmac === false
          ? undefined
          : inst.use_vmac === true
            ? `vrrp.${inst.virtual_router_id}`
            : inst.use_vmac;
      return {
        name: inst.name,
        interface: inst.interface,
        vrid: inst.virtual_router_id,
        priority: inst.priority,
        initialState: inst.state,
        version,
        advertIntMs: inst.advert_int,
        preempt: !inst.nopreempt,
        preemptDelayMs: inst.preempt_delay,
        ...(inst.authentication !== undefined && { authPass: inst.authentication.auth_pass }),
        ...(inst.unicast_src_ip !== undefined && { unicastSrcIp: inst.unicast_src_ip }),
        unicastPeers: inst.unicast_peer,
        ...(inst.mcast_src_ip !== undefined && { mcastSrcIp: inst.mcast_src_ip }),
        mcastGroup: pick(inst.mcast_group, section.mcast_group, DEFAULTS.mcastGroup),
        vips: inst.virtual_ipaddress,
        excludedVips: inst.virtual_ipaddress_excluded,
        trackInterfaces: inst.track_interface,
        trackScripts: inst.track_script,
        trackFiles: inst.track_file.map(({ name, ...rest }): TrackedFile => ({ file: name, ...rest })),
        trackProcesses: inst.track_process.map(
          ({ name, ...rest }): TrackedProcess => ({ process: name, ...rest }),
        ),
        trackPrimary: !inst.dont_track_primary,
        notify: notifyOf(inst),
        ...(vmacName !== undefined && {
          vmac: { name: vmacName, ...(inst.vmac_mac !== undefined && { mac: inst.vmac_mac.toLowerCase() }) },
        }),
        garp: {
          masterDelayMs: pick(inst.garp_master_delay, section.garp_master_delay, DEFAULTS.garpMasterDelayMs),
          masterRepeat: pick(inst.garp_master_repeat, section.garp_master_repeat, DEFAULTS.garpMasterRepeat),
          masterRefreshMs: pick(
            inst.garp_master_refresh,
            section.garp_master_refresh,
            DEFAULTS.garpMasterRefreshMs,
          ),
          masterRefreshRepeat: pick(
            inst.garp_master_refresh_repeat,
            section.garp_master_refresh_repeat,
            DEFAULTS.garpMasterRefreshRepeat,
          ),
          lowerPrioDelayMs: pick(
            inst.garp_lower_prio_delay,
            section.garp_lower_prio_delay,
            DEFAULTS.garpLowerPrioDelayMs,
          ),
          lowerPrioRepeat: pick(
            inst.garp_lower_prio_repeat,
            section.garp_lower_prio_repeat,
            DEFAULTS.garpLowerPrioRepeat,
          ),
          intervalMs: pick(inst.garp_interval, section.garp_interval, DEFAULTS.garpIntervalMs),
        },
        v3ChecksumAsV2: pick(inst.v3_checksum_as_v2, section.v3_checksum_as_v2, false),
        lowerPrioNoAdvert: pick(inst.lower_prio_no_advert, section.lower_prio_no_advert, false),
        // On by default (keepalived: off): the yielding master's last advert makes the winner re-GARP,
        // which repairs ARP caches after a split brain (keepalived#166).
        higherPrioSendAdvert: pick(inst.higher_prio_send_advert, section.higher_prio_send_advert, true),
        downTimerAdverts: pick(
          inst.down_timer_adverts,
          section.down_timer_adverts,
          DEFAULTS.downTimerAdverts,
        ),
        checkUnicastSrc: pick(inst.check_unicast_src, section.check_unicast_src, false),
        skipCheckAdvAddr: pick(inst.skip_check_adv_addr, section.skip_check_adv_addr, false),
        ...(lease !== false && { vipLease: lease === true ? {} : { fixedMs: lease } }),
      };
    });
    return {
      instances,
      scripts: section.scripts.map(
        (s): VrrpScriptConfig => ({
          name: s.name,
          command: s.script,
          intervalMs: s.interval,
          timeoutMs: s.timeout ?? s.interval,
          weight: s.weight,
          weightReverse: s.weight_reverse,
          rise: s.rise,
          fall: s.fall,
          initFail: s.init_fail,
        }),
      ),
      trackFiles: section.track_files.map(
        (f): TrackFileConfig => ({
          name: f.name,
          path: f.file,
          weight: f.weight,
          weightReverse: f.reverse,
          ...(f.init_file !== undefined && {
            init:
              typeof f.init_file === 'number'
                ? { value: f.init_file, overwrite: false }
                : { value: f.init_file.value, overwrite: f.init_file.overwrite },
          }),
        }),
      ),
      trackProcesses: section.track_processes.map(
        (p): TrackProcessConfig => ({
          name: p.name,
          process: p.process,
          ...(p.params !== undefined && { params: p.params }),
          ...(p.param_match !== undefined && { paramMatch: p.param_match }),
          fullCommand: p.full_command,
          weight: p.weight,
          weightReverse: p.reverse,
          quorum: p.quorum ?? Math.min(1, p.quorum_max ?? 1),
          quorumMax: p.quorum_max ?? Number.POSITIVE_INFINITY,
          forkDelayMs: p.fork_delay ?? p.delay ?? 0,
          terminateDelayMs: p.terminate_delay ?? p.delay ?? 0,
        }),
      ),
      syncGroups: section.sync_groups.map((g) => ({ name: g.name, members: g.group, notify: notifyOf(g) })),
      ...(section.notify_fifo !== undefined && { notifyFifo: section.notify_fifo }),
      ...(section.notify_fifo_script !== undefined && { notifyFifoScript: section.notify_fifo_script }),
      startupDelayMs: section.startup_delay,
    };
  });

export type RawVrrpSection = z.input<typeof vrrpSectionSchema>;
