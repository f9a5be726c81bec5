import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { silentLogger } from '../../src/core/logger.ts';
import { memcachedSchema } from '../../src/memcache/config-schema.ts';
import { MemcacheServer } from '../../src/memcache/memcache-server.ts';

/** A hastack memcached server on 127.0.0.1, port 0; stopped when the test ends. */
export async function startMemcache(
  t: TestContext | { after: (fn: () => Promise<void>) => void },
  section: Record<string, unknown> = {},
): Promise<{ server: MemcacheServer; port: number; address: string }> {
  const config = memcachedSchema.parse({ listen: '127.0.0.1:0', ...section });
  const server = new MemcacheServer(config, { logger: silentLogger() });
  await server.start();
  t.after(() => server.stop(0));
  const port = server.address().port;
  return { server, port, address: `127.0.0.1:${port}` };
}

/** The path of a peer tool, or undefined (the caller skips; with CI set it fails instead). */
export function findTool(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function requireTool(t: TestContext, name: string, debianPackage: string): string | undefined {
  const path = findTool(name);
  if (path !== undefined) return path;
  const why = `${name} not found (Debian package ${debianPackage})`;
  if (process.env.CI) assert.fail(why);
  t.skip(why);
  return undefined;
}

/** Runs a tool to completion with a time limit; resolves with its exit code and output. */
export function run(
  command: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Sends bytes on a fresh connection and collects replies until `until` matches or the peer closes. */
export function exchange(
  port: number,
  input: Buffer | string,
  until: (text: string) => boolean,
  timeoutMs = 5000,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => finish(), timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    socket.on('connect', () => socket.write(input));
    socket.on('data', (d) => {
      chunks.push(d);
      if (until(Buffer.concat(chunks).toString('latin1'))) finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
  });
}
