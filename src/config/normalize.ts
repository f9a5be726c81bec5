import { formatHostPort, isLoopback } from '../core/address.ts';
import type { HastackConfig, RealServerConfig, VirtualServerConfig } from './model.ts';
import { normalizeCheck } from './normalize-check.ts';
import type { ParsedConfig } from './schema.ts';
import { type FullConfig, type SectionKey, type SectionsConfig, sectionSchemas } from './sections.ts';

/** A problem found after the schema passed: cross-field rules. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Turns a schema-valid config into the model, applying cascading defaults and the
 * rules a schema cannot express (unique names, token on public admin...).
 */
export function normalizeConfig(parsed: ParsedConfig): { config: FullConfig; issues: ConfigIssue[] } {
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
      const checks = (rs.checks ?? vs.checks).map((c) =>
        normalizeCheck(c, { intervalMs: vs.delay_loop, startDown: vs.alpha }),
      );
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
      sections: sectionsOf(parsed),
    },
    issues,
  };
}

function sectionsOf(parsed: ParsedConfig): SectionsConfig {
  const sections: Record<string, unknown> = {};
  for (const key of Object.keys(sectionSchemas) as SectionKey[]) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value !== undefined) sections[key] = value;
  }
  return sections as SectionsConfig;
}
