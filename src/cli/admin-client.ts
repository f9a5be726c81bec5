import { loadYamlConfigFile } from '../config/load-config.ts';
import { formatHostPort } from '../core/address.ts';
import { HastackError } from '../core/errors.ts';

export const ADMIN_OPTIONS = {
  admin: { type: 'string' },
  token: { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;

export interface AdminTarget {
  baseUrl: string;
  token?: string;
}

/** Where the running hastack's admin API is: flag, environment, config file, or the default. */
export async function resolveAdmin(flags: {
  admin?: string;
  token?: string;
  config?: string;
}): Promise<AdminTarget> {
  let baseUrl = flags.admin ?? process.env.HASTACK_ADMIN;
  let token = flags.token ?? process.env.HASTACK_ADMIN_TOKEN;
  if (flags.config !== undefined) {
    const { config } = await loadYamlConfigFile(flags.config);
    if (baseUrl === undefined && config.admin.enabled) {
      const host =
        config.admin.host === '0.0.0.0'
          ? '127.0.0.1'
          : config.admin.host === '::'
            ? '::1'
            : config.admin.host;
      baseUrl = `http://${formatHostPort(host, config.admin.port)}`;
    }
    token ??= config.admin.token;
  }
  baseUrl ??= 'http://127.0.0.1:9090';
  if (!/^https?:\/\//.test(baseUrl)) baseUrl = `http://${baseUrl}`;
  return { baseUrl: baseUrl.replace(/\/+$/, ''), ...(token !== undefined && { token }) };
}

/** One admin API call; errors from the server come back as HastackError with the server's code. */
export async function adminRequest<T>(
  target: AdminTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${target.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new HastackError(
      'HASTACK_ADMIN_UNREACHABLE',
      `cannot reach the admin API at ${target.baseUrl} (${cause?.code ?? (err as Error).message}): is hastack running?`,
      { cause: err },
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HastackError('HASTACK_ADMIN_BAD_RESPONSE', `admin API answered ${res.status} with non-JSON`);
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } }).error;
    throw new HastackError(
      error?.code ?? 'HASTACK_ADMIN_ERROR',
      error?.message ?? `admin API answered ${res.status}`,
    );
  }
  return json as T;
}
