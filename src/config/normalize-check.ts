import type { CheckSpec, CheckTiming } from './model.ts';
import type { ParsedCheck } from './schema-parts.ts';

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

function timingOf(check: ParsedCheck, defaults: CheckDefaults): CheckTiming {
  const intervalMs = check.interval ?? defaults.intervalMs ?? CHECK_DEFAULTS.intervalMs;
  return {
    intervalMs,
    timeoutMs: check.timeout ?? Math.min(CHECK_DEFAULTS.timeoutMs, intervalMs),
    retries: check.retries ?? CHECK_DEFAULTS.retries,
    retryDelayMs: check.retry_delay ?? CHECK_DEFAULTS.retryDelayMs,
    rise: check.rise ?? CHECK_DEFAULTS.rise,
    fall: check.fall ?? CHECK_DEFAULTS.fall,
    startDown: check.alpha ?? defaults.startDown ?? false,
    warmupMs: check.warmup ?? CHECK_DEFAULTS.warmupMs,
  };
}

/** Defaults a check inherits from where it is configured (a virtual server's delay_loop and alpha, a pool...). */
export interface CheckDefaults {
  intervalMs?: number | undefined;
  startDown?: boolean | undefined;
}

/** A schema-valid check in its model form, with timing defaults filled in. */
export function normalizeCheck(check: ParsedCheck, defaults: CheckDefaults = {}): CheckSpec {
  const timing = timingOf(check, defaults);
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
