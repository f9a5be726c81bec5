import { formatHostPort, isLoopback } from '../core/address.ts';
import type {
  CheckSpec,
  CheckTiming,
  HastackConfig,
  RealServerConfig,
  VirtualServerConfig,
} from './model.ts';
import type { ParsedCheck, ParsedConfig } from './schema.ts';

/** A problem found after the schema passed: cross-field rules. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

/** Defaults for checks in the YAML form (keepalived.conf supplies its own, explicitly). */
export const CHECK_DEFAULTS: Readonly<CheckTiming> = {
  intervalMs: 2000,
  timeoutMs: 2000,
  retries: 0,
  retryDelayMs: 1000,
  rise: 2,
  fall: 3,
  startDown: false,
  warmupMs: 0,
};

type VsParsed = ParsedConfig['virtual_servers'][number];

function timingOf(check: ParsedCheck, vs: VsParsed): CheckTiming {
  const intervalMs = check.interval ?? vs.delay_loop ?? CHECK_DEFAULTS.intervalMs;
  return {
    intervalMs,
    timeoutMs: check.timeout ?? Math.min(CHECK_DEFAULTS.timeoutMs, intervalMs),
    retries: check.retries ?? CHECK_DEFAULTS.retries,
    retryDelayMs: check.retry_delay ?? CHECK_DEFAULTS.retryDelayMs,
    rise: check.rise ?? CHECK_DEFAULTS.rise,
    fall: check.fall ?? CHECK_DEFAULTS.fall,
    startDown: check.alpha ?? vs.alpha,
    warmupMs: check.warmup ?? CHECK_DEFAULTS.warmupMs,
  };
}

function checkOf(check: ParsedCheck, vs: VsParsed): CheckSpec {
  const timing = timingOf(check, vs);
  const target = {
    ...(check.connect_host !== undefined && { connectHost: check.connect_host }),
    ...(check.connect_port !== undefined && { connectPort: check.connect_port }),
    ...(check.bind_host !== undefined && { bindHost: check.bind_host }),
    ...(check.bind_port !== undefined && { bindPort: check.bind_port }),
  };
  switch (check.type) {
    case 'tcp':
    case 'icmp':
      return { type: check.type, ...target, ...timing };
    case 'http':
    case 'https': {
      const urls = check.urls?.map((u) => ({
        path: u.path,
        status: u.status ?? [{ min: 200, max: 299 }],
        ...(u.digest !== undefined && { digest: u.digest.toLowerCase() }),
        ...(u.body_regex !== undefined && { bodyRegex: u.body_regex }),
        ...(u.virtualhost !== undefined && { virtualhost: u.virtualhost }),
      })) ?? [
        {
          path: check.path ?? '/',
          status: check.status ?? [{ min: 200, max: 299 }],
          ...(check.digest !== undefined && { digest: check.digest.toLowerCase() }),
          ...(check.body_regex !== undefined && { bodyRegex: check.body_regex }),
        },
      ];
      return {
        type: 'http',
        tls: check.type === 'https',
        urls,
        ...(check.virtualhost !== undefined && { virtualhost: check.virtualhost }),
        ...(check.sni !== undefined && { sni: check.sni }),
        httpVersion: check.http_version ?? '1.1',
        verifyTls: check.verify_tls ?? false,
        ...target,
        ...timing,
      };
    }
    case 'smtp':
      return { type: 'smtp', helo: check.helo ?? 'hastack', ...target, ...timing };
    case 'dns':
      return { type: 'dns', qtype: check.query_type ?? 'SOA', name: check.name ?? '.', ...target, ...timing };
    case 'misc':
      return { type: 'misc', command: check.command, dynamic: check.dynamic ?? false, ...target, ...timing };
  }
}

/**
 * Turns a schema-valid config into the model, applying cascading defaults and the
 * rules a schema cannot express (unique names, token on public admin...).
 */
export function normalizeConfig(parsed: ParsedConfig): { config: HastackConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  const listens = new Map<string, number>();

  const virtualServers = parsed.virtual_servers.map((vs, i): VirtualServerConfig => {
    const name = vs.name ?? formatHostPort(vs.listen.host, vs.listen.port);
    const prevName = names.get(name);
    if (prevName !== undefined) {
      issues.push({
        path: ['virtual_servers', i, 'name'],
        message: `duplicate virtual server name "${name}" (also #${prevName})`,
      });
    }
    names.set(name, i);
    const listenKey = `${vs.protocol}/${formatHostPort(vs.listen.host, vs.listen.port)}`;
    if (vs.listen.port !== 0) {
      const prev = listens.get(listenKey);
      if (prev !== undefined) {
        issues.push({
          path: ['virtual_servers', i, 'listen'],
          message: `${listenKey} is already used by virtual server #${prev}`,
        });
      }
      listens.set(listenKey, i);
    }
    if (vs.scheduler === 'ovf' && vs.protocol === 'udp') {
      issues.push({
        path: ['virtual_servers', i, 'scheduler'],
        message: 'ovf counts active connections only and cannot balance UDP',
      });
    }
    const seen = new Set<string>();
    const realServers = vs.real_servers.map((rs, j): RealServerConfig => {
      const key = formatHostPort(rs.address.host, rs.address.port);
      if (seen.has(key)) {
        issues.push({
          path: ['virtual_servers', i, 'real_servers', j, 'address'],
          message: `duplicate real server ${key}`,
        });
      }
      seen.add(key);
      if (rs.lthreshold > 0 && rs.uthreshold > 0 && rs.lthreshold > rs.uthreshold) {
        issues.push({
          path: ['virtual_servers', i, 'real_servers', j, 'lthreshold'],
          message: 'lthreshold must not exceed uthreshold',
        });
      }
      const checks = (rs.checks ?? vs.checks).map((c) => checkOf(c, vs));
      checks.forEach((c, k) => {
        if (c.type === 'icmp' || c.type === 'misc') return;
        if (c.timeoutMs === 0) {
          issues.push({
            path: ['virtual_servers', i, 'real_servers', j, 'checks', k, 'timeout'],
            message: 'timeout must be > 0',
          });
        }
      });
      return {
        host: rs.address.host,
        port: rs.address.port,
        weight: rs.weight,
        upperThreshold: rs.uthreshold,
        lowerThreshold: rs.lthreshold,
        ...(rs.notify_up !== undefined && { notifyUp: rs.notify_up }),
        ...(rs.notify_down !== undefined && { notifyDown: rs.notify_down }),
        checks,
      };
    });
    for (const [k, c] of vs.checks.entries()) {
      if (c.interval === 0)
        issues.push({
          path: ['virtual_servers', i, 'checks', k, 'interval'],
          message: 'interval must be > 0',
        });
    }
    return {
      name,
      host: vs.listen.host,
      port: vs.listen.port,
      protocol: vs.protocol,
      scheduler: vs.scheduler,
      schedulerFlags: { hashPort: vs.hash_port, fallback: vs.fallback },
      persistenceTimeoutMs: vs.persistence_timeout,
      persistenceGranularity: vs.persistence_granularity,
      ...(vs.sorry_server !== undefined && { sorryServer: vs.sorry_server }),
      sorryServerInhibit: vs.sorry_server_inhibit,
      quorum: vs.quorum,
      hysteresis: vs.hysteresis,
      ...(vs.quorum_up !== undefined && { quorumUp: vs.quorum_up }),
      ...(vs.quorum_down !== undefined && { quorumDown: vs.quorum_down }),
      startDown: vs.alpha,
      notifyDownOnStop: vs.omega,
      inhibitOnFailure: vs.inhibit_on_failure,
      idleTimeoutMs: vs.idle_timeout,
      connectTimeoutMs: vs.connect_timeout,
      workers: vs.workers,
      realServers,
    };
  });

  let admin: HastackConfig['admin'];
  if (parsed.admin === false) {
    admin = { host: '127.0.0.1', port: 0, enabled: false };
  } else {
    admin = {
      host: parsed.admin.listen.host,
      port: parsed.admin.listen.port,
      enabled: true,
      ...(parsed.admin.token !== undefined && { token: parsed.admin.token }),
    };
    if (!isLoopback(admin.host) && admin.token === undefined) {
      issues.push({
        path: ['admin', 'token'],
        message: `the admin API listens on ${admin.host}, which is not loopback: set admin.token`,
      });
    }
  }

  return {
    config: {
      admin,
      log: { level: parsed.log.level },
      shutdownGraceMs: parsed.shutdown_grace,
      virtualServers,
    },
    issues,
  };
}
