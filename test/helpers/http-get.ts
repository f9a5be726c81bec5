import { request } from 'node:http';

export interface GetResult {
  ok: boolean;
  status?: number;
  backend?: string;
  body?: string;
  error?: string;
}

/** One GET on a fresh connection (no keep-alive), with a timeout; never throws. */
export function httpGet(port: number, path = '/', timeoutMs = 2000, host = '127.0.0.1'): Promise<GetResult> {
  return new Promise((resolve) => {
    const req = request(
      { host, port, path, agent: false, timeout: timeoutMs, headers: { connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const backend = res.headers['x-backend'];
          resolve({
            ok: res.statusCode === 200,
            status: res.statusCode ?? 0,
            ...(typeof backend === 'string' && { backend }),
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', (err) => resolve({ ok: false, error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) =>
      resolve({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }),
    );
    req.end();
  });
}
