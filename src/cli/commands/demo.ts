import { type ChildProcess, fork } from 'node:child_process';
import { parseYamlConfig } from '../../config/load-config.ts';
import { errorMessage, HastackError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import { demoConfigYaml } from '../../demo/demo-config.ts';
import { type DemoPortPlan, demoListenPorts, resolveDemoPorts } from '../../demo/demo-ports.ts';
import { findBusyPorts } from '../../demo/port-probe.ts';
import { Runtime } from '../../runtime/runtime.ts';
import type { CliIo } from '../cli-io.ts';
import { CliUsageError } from '../cli-usage-error.ts';
import { parseCommandArgs } from '../parse-command-args.ts';
import { runUntilSignalled } from './up.ts';

const BACKEND_NAMES = ['web1', 'web2', 'web3'];

/**
 * `hastack demo` (`npm start`): three demo web servers behind an L4 virtual server, all on loopback.
 * `--base-port N` (or HASTACK_DEMO_BASE_PORT) moves every listener into N..N+331 (see demo-ports.ts).
 */
export async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, {
    'base-port': { type: 'string' },
    port: { type: 'string' },
    'admin-port': { type: 'string' },
    'memcached-port': { type: 'string' },
  });
  let plan: DemoPortPlan;
  try {
    plan = resolveDemoPorts({
      basePort: values['base-port'] ?? nonEmpty(process.env.HASTACK_DEMO_BASE_PORT),
      port: values.port,
      adminPort: values['admin-port'],
      memcachedPort: values['memcached-port'],
    });
  } catch (err) {
    throw new CliUsageError(errorMessage(err));
  }
  const { port, adminPort, memcachedPort } = plan;
  await ensurePortsFree(demoConfigYaml({ ...plan, backendPorts: [] }));

  const backends: { name: string; child: ChildProcess; port: number }[] = [];
  const stopBackends = () => {
    for (const b of backends) if (b.child.exitCode === null) b.child.kill('SIGTERM');
  };
  try {
    for (const name of BACKEND_NAMES) backends.push(await startBackend(name));
    const yaml = demoConfigYaml({ ...plan, backendPorts: backends.map((b) => b.port) });
    const config = parseYamlConfig(yaml, '<demo>');
    const logger = createLogger({ level: process.env.HASTACK_LOG_LEVEL ?? 'warn' });
    const runtime = new Runtime({ logger });
    try {
      await runtime.start({ config, warnings: [], source: { kind: 'builtin' } });
    } catch (err) {
      // The ports were free a moment ago; something took one since.
      if (/EADDRINUSE/.test(`${errorMessage(err)} ${String((err as Error).cause)}`))
        throw new HastackError('HASTACK_DEMO_PORT_BUSY', `${errorMessage(err)}\n  ${PORT_HINT}`);
      throw err;
    }
    const b2 = backends[1]!;
    const admin = `--admin 127.0.0.1:${adminPort}`;
    const db = port + 300;
    io.stdout.write(`
hastack demo is running (Ctrl-C stops everything)

  L4 virtual server  http://127.0.0.1:${port}/   wrr over ${backends.map((b) => `${b.name}=127.0.0.1:${b.port}`).join(', ')}
                     (weights 2,1,1; HTTP check GET /healthz every 1s, rise 2, fall 2)
  L7 reverse proxy   http://127.0.0.1:${port + 1}/   /static/ from docs/, everything else to the web servers (lc)
  memcached          127.0.0.1:${memcachedPort}   (any memcached client; e.g. memcstat --servers=127.0.0.1:${memcachedPort})
  database           source db1 http://127.0.0.1:${db + 11}/, replicas db2 :${db + 21}, db3 :${db + 31} (semi-sync)
  admin API          http://127.0.0.1:${adminPort}/status   and /metrics

  try it:
    for i in $(seq 8); do curl -s http://127.0.0.1:${port}/; done
    curl -s http://127.0.0.1:${port + 1}/static/ | head -3
    npm run hastack -- status ${admin}            (ipvsadm-style table, proxy, cache and replication status)
    npm run hastack -- db status --server db1=http://127.0.0.1:${db + 11} --server db2=http://127.0.0.1:${db + 21} --server db3=http://127.0.0.1:${db + 31}

  stop a backend and watch the traffic move:
    kill -STOP ${b2.child.pid}     ${b2.name} hangs; after 2 failed checks it leaves the table
    kill -CONT ${b2.child.pid}     ${b2.name} answers again; after 2 good checks it is back
    curl -X POST 127.0.0.1:${b2.port}/_demo/fail     ${b2.name} reports unhealthy (/_demo/recover undoes it)
    npm run hastack -- drain web 127.0.0.1:${b2.port} ${admin}
    npm run hastack -- weight web 127.0.0.1:${b2.port} 3 ${admin}

`);
    const code = await runUntilSignalled(runtime, logger);
    return code;
  } finally {
    stopBackends();
  }
}

const PORT_HINT =
  'choose other ports: npm start -- --base-port 20000 (uses 20000..20331), or HASTACK_DEMO_BASE_PORT=20000';

/** Fails with one clear message naming every taken port, before anything has started. */
async function ensurePortsFree(yaml: string): Promise<void> {
  const busy = await findBusyPorts(demoListenPorts(yaml));
  if (busy.length === 0) return;
  const list = busy.map((b) => `  127.0.0.1:${b.port} (${b.what}): ${b.reason}`).join('\n');
  throw new HastackError(
    'HASTACK_DEMO_PORT_BUSY',
    `the demo cannot listen on ${busy.length === 1 ? 'this port' : 'these ports'}:\n${list}\n  ${PORT_HINT}`,
    { details: { ports: busy.map((b) => b.port) } },
  );
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text;
}

function startBackend(name: string): Promise<{ name: string; child: ChildProcess; port: number }> {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const script = new URL(`../../demo/backend-main.${ext}`, import.meta.url);
  const child = fork(script, ['--name', name, '--port', '0'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new HastackError('HASTACK_DEMO_BACKEND', `demo backend ${name} did not start`));
    }, 10_000);
    child.once('message', (msg: { type?: string; port?: number }) => {
      if (msg.type === 'ready' && typeof msg.port === 'number') {
        clearTimeout(timer);
        resolve({ name, child, port: msg.port });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new HastackError('HASTACK_DEMO_BACKEND', `demo backend ${name} exited with code ${code}`));
    });
  });
}
