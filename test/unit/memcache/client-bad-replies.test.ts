import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isHastackError } from '../../../src/core/errors.ts';
import { MemcacheClient } from '../../../src/memcache/client/memcache-client.ts';

/* A fake server that answers every request with a reply the protocol does not allow. */
describe('client against a server sending malformed replies', () => {
  let server: net.Server;
  let address = '';
  const sockets = new Set<net.Socket>();

  before(async () => {
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('data', (chunk) => {
        const line = chunk.toString('latin1');
        if (line.startsWith('get ')) socket.write('VALUE k 0 3 zz\r\nabc\r\nEND\r\n');
        else if (line.startsWith('incr ')) socket.write('STORED\r\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('rejects with HastackErrors instead of throwing from the socket handler', async () => {
    const client = new MemcacheClient({ servers: [address], timeoutMs: 2000, failureLimit: 100 });
    try {
      await assert.rejects(client.get('k'), (err) =>
        isHastackError(err, 'HASTACK_MEMCACHED_CLIENT_BAD_REPLY'),
      );
      await assert.rejects(client.incr('k'), (err) => isHastackError(err, 'HASTACK_MEMCACHED_CLIENT_REPLY'));
    } finally {
      client.close();
    }
  });
});
