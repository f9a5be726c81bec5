import { request } from 'node:http';
import { pollUntil, type WaitOptions } from './ports.ts';

export interface HttpReply {
  status: number;
  body: string;
}

/** One GET on a fresh connection (no agent pooling); rejects on error or timeout. */
export function httpGet(host: string, port: number, path = '/', timeoutMs = 2_000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 65_536) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls until GET host:port/path answers 200: proves that a proxy not only
 * listens but already reaches its backend (health checks up, routes applied).
 */
export async function waitForHttpOk(
  host: string,
  port: number,
  options: WaitOptions & { path?: string } = {},
): Promise<void> {
  const path = options.path ?? '/';
  await pollUntil(
    async () => {
      try {
        return (await httpGet(host, port, path, 1_000)).status === 200;
      } catch {
        return false;
      }
    },
    { ...options, label: options.label ?? `GET http://${host}:${port}${path} to answer 200` },
  );
}
