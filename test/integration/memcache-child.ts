/*
 * A hastack memcached server in its own process, for tests that measure the
 * process (memory). Prints "port <n>" once listening; stops on SIGTERM.
 */
import { silentLogger } from '../../src/core/logger.ts';
import { memcachedSchema } from '../../src/memcache/config-schema.ts';
import { MemcacheServer } from '../../src/memcache/memcache-server.ts';

const section = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const server = new MemcacheServer(memcachedSchema.parse({ listen: '127.0.0.1:0', ...section }), {
  logger: silentLogger(),
});
await server.start();
process.stdout.write(`port ${server.address().port}\n`);
process.on('SIGTERM', () => {
  server.stop(0).then(() => process.exit(0));
});
