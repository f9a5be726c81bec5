import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/core/logger.ts';
import { type DatabaseConfig, databaseSchema, type RawDatabaseConfig } from '../../src/db/config-schema.ts';
import { DatabaseService } from '../../src/db/db-service.ts';
import { dbRequest, type ServerTarget } from '../../src/db/http-client.ts';
import type { DbServerSnapshot } from '../../src/db/status-types.ts';
import { freePort } from '../helpers/free-port.ts';

export { freePort };

/* Helpers for the database integration tests: temp dirs, free ports, server processes, polling. */

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `hastack-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last === undefined ? '' : `: ${(last as Error).message}`}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface ServerSpec {
  name: string;
  serverId: number;
  role: 'source' | 'replica';
  /** Replication port of the source (replicas). */
  sourcePort?: number;
  format?: 'statement' | 'row' | 'mixed';
  semiSync?: { enabled: boolean; timeout?: string; count?: number };
  extra?: Record<string, unknown>;
}

export interface PortPlan {
  listen: number;
  http: number;
}

export function serverConfig(
  dir: string,
  spec: ServerSpec,
  ports: PortPlan,
): RawDatabaseConfig['servers'][number] {
  return {
    name: spec.name,
    server_id: spec.serverId,
    role: spec.role,
    data_dir: join(dir, spec.name),
    listen: `127.0.0.1:${ports.listen}`,
    http: `127.0.0.1:${ports.http}`,
    ...(spec.sourcePort !== undefined && { source: `127.0.0.1:${spec.sourcePort}` }),
    binlog: { format: spec.format ?? 'row' },
    semi_sync: {
      enabled: spec.semiSync?.enabled ?? false,
      timeout: spec.semiSync?.timeout ?? '10s',
      wait_for_replica_count: spec.semiSync?.count ?? 1,
    },
    reconnect: { min: '20ms', max: '300ms' },
    heartbeat: '200ms',
    net_timeout: '2s',
    ...spec.extra,
  } as RawDatabaseConfig['servers'][number];
}

/** A database server in its own process (`hastack up -c FILE`), for kill -9 tests. */
export class DbProcess {
  readonly spec: ServerSpec;
  readonly ports: PortPlan;
  readonly dir: string;
  readonly yamlPath: string;
  child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  output = '';

  constructor(dir: string, spec: ServerSpec, ports: PortPlan) {
    this.dir = dir;
    this.spec = spec;
    this.ports = ports;
    mkdirSync(dir, { recursive: true });
    this.yamlPath = join(dir, `${spec.name}.yaml`);
    const cfg = {
      admin: false,
      log: { level: 'warn' },
      shutdown_grace: '1s',
      database: { servers: [serverConfig(dir, spec, ports)] },
    };
    writeFileSync(this.yamlPath, JSON.stringify(cfg, null, 2));
  }

  static async create(dir: string, spec: ServerSpec): Promise<DbProcess> {
    return new DbProcess(dir, spec, { listen: await freePort(), http: await freePort() });
  }

  get target(): ServerTarget {
    return { name: this.spec.name, url: `http://127.0.0.1:${this.ports.http}` };
  }

  get dataDir(): string {
    return join(this.dir, this.spec.name);
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [MAIN, 'up', '-c', this.yamlPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    });
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      `${this.spec.name} to answer`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${this.spec.name} exited: ${this.output}`);
        await dbRequest(this.target, 'GET', '/healthz', undefined, { timeoutMs: 1_000 });
        return true;
      },
      20_000,
      30,
    );
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill9(): Promise<void> {
    if (this.running) this.child!.kill('SIGKILL');
    await this.#exited;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(t);
  }

  status(): Promise<DbServerSnapshot> {
    return dbRequest<DbServerSnapshot>(this.target, 'GET', '/db/status', undefined, { timeoutMs: 3_000 });
  }
}

/** Several servers in this process (faster; fine where nothing is killed). */
export async function startInProcess(
  _dir: string,
  servers: RawDatabaseConfig['servers'],
): Promise<DatabaseService> {
  const config: DatabaseConfig = databaseSchema.parse({ servers });
  const svc = new DatabaseService(config, {
    logger: createLogger({ level: process.env.HASTACK_TEST_LOG ?? 'silent' }),
  });
  await svc.start();
  return svc;
}

export function execute(t: ServerTarget, statements: unknown[], extra: Record<string, unknown> = {}) {
  return dbRequest<{ gtid: string | null; semi_sync: string | null; results: { changes?: number }[] }>(
    t,
    'POST',
    '/db/execute',
    { statements, ...extra },
    { timeoutMs: 20_000 },
  );
}

export async function queryRows(t: ServerTarget, sql: string): Promise<unknown[][]> {
  const r = await dbRequest<{ results: { rows: unknown[][] }[] }>(
    t,
    'POST',
    '/db/query',
    { sql },
    { timeoutMs: 10_000 },
  );
  return r.results[0]!.rows;
}

export async function checksum(t: ServerTarget): Promise<string> {
  return (await dbRequest<{ checksum: string }>(t, 'GET', '/db/checksum', undefined, { timeoutMs: 10_000 }))
    .checksum;
}

/** Waits until `replica` has executed everything `source` has. */
export async function waitCaughtUp(
  source: ServerTarget,
  replica: ServerTarget,
  timeoutMs = 30_000,
): Promise<void> {
  const want = (await dbRequest<DbServerSnapshot>(source, 'GET', '/db/status')).executedGtidSet;
  await dbRequest(
    replica,
    'POST',
    '/db/wait',
    { gtids: want, timeout_ms: timeoutMs },
    { timeoutMs: timeoutMs + 2_000 },
  );
}

/**
 * A TCP proxy the tests can cut: `blackhole()` keeps connections open but drops
 * every byte (a silent network partition), `restore()` forwards again, and
 * `retarget()` sends new connections to another server.
 */
export class CuttableProxy {
  #target: number;
  #server: ReturnType<typeof createServer> | undefined;
  #blackhole = false;
  readonly #pairs = new Set<{ a: import('node:net').Socket; b: import('node:net').Socket }>();
  port = 0;
  connections = 0;

  constructor(targetPort: number) {
    this.#target = targetPort;
  }

  async start(): Promise<void> {
    const { connect } = await import('node:net');
    const server = createServer((a) => {
      this.connections++;
      const b = connect({ host: '127.0.0.1', port: this.#target });
      const pair = { a, b };
      this.#pairs.add(pair);
      const end = () => {
        a.destroy();
        b.destroy();
        this.#pairs.delete(pair);
      };
      a.on('error', end).on('close', end);
      b.on('error', end).on('close', end);
      a.on('data', (d) => {
        if (!this.#blackhole) b.write(d);
      });
      b.on('data', (d) => {
        if (!this.#blackhole) a.write(d);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  blackhole(): void {
    this.#blackhole = true;
  }

  restore(): void {
    this.#blackhole = false;
  }

  /** New connections go to another port; existing ones are cut. */
  retarget(port: number): void {
    this.#target = port;
    for (const p of this.#pairs) {
      p.a.destroy();
      p.b.destroy();
    }
  }

  async stop(): Promise<void> {
    for (const p of this.#pairs) {
      p.a.destroy();
      p.b.destroy();
    }
    await new Promise<void>((resolve) =>
      this.#server === undefined ? resolve() : this.#server.close(() => resolve()),
    );
  }
}
