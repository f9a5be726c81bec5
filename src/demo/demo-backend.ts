import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny web server for the demo and the tests: answers every path with its name,
 * `/healthz` with 200 while healthy. `POST /_demo/fail` and `/_demo/recover` flip health.
 */
export function createDemoBackend(name: string): Server {
  let healthy = true;
  let requests = 0;
  return createServer((req, res) => {
    requests++;
    if (req.url === '/healthz') {
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(healthy ? 'ok\n' : 'failing\n');
      return;
    }
    if (req.method === 'POST' && (req.url === '/_demo/fail' || req.url === '/_demo/recover')) {
      healthy = req.url === '/_demo/recover';
      res.end(`${name} ${healthy ? 'healthy' : 'failing'}\n`);
      return;
    }
    const body = `hello from ${name} (request ${requests})\n`;
    res.writeHead(200, {
      'content-type': 'text/plain',
      'x-backend': name,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
}

export function listenDemoBackend(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
