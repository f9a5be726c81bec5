import { type ChildProcess, fork } from 'node:child_process';
import { parseYamlConfig } from '../../config/load-config.ts';
import { HastackError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import { demoConfigYaml } from '../../demo/demo-config.ts';
import { Runtime } from '../../runtime/runtime.ts';
import type { CliIo } from '../cli-io.ts';
import { CliUsageError } from '../cli-usage-error.ts';
import { parseCommandArgs } from '../parse-command-args.ts';
import { runUntilSignalled } from './up.ts';

const BACKEND_NAMES = ['web1', 'web2', 'web3'];

/** `hastack demo` (`npm start`): three demo web servers behind an L4 virtual server, all on loopback. */
export async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, {
    port: { type: 'string', default: '8080' },
    'admin-port': { type: 'string', default: '9090' },
  });
  const port = Number(values.port);
  const adminPort = Number(values['admin-port']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliUsageError('--port must be 1..65535');
  if (!Number.isInteger(adminPort) || adminPort < 1 || adminPort > 65535)
    throw new CliUsageError('--admin-port must be 1..65535');

  const backends: { name: string; child: ChildProcess; port: number }[] = [];
  const stopBackends = () => {
    for (const b of backends) if (b.child.exitCode === null) b.child.kill('SIGTERM');
  };
  try {
    for (const name of BACKEND_NAMES) backends.push(await startBackend(name));
    const yaml = demoConfigYaml({ port, adminPort, backendPorts: backends.map((b) => b.port) });
    const config = parseYamlConfig(yaml, '<demo>');
    const logger = createLogger({ level: process.env.HASTACK_LOG_LEVEL ?? 'warn' });
    const runtime = new Runtime({ logger });
    try {
      await runtime.start({ config, warnings: [], source: { kind: 'builtin' } });
    } catch (err) {
      if ((err as HastackError).code === 'HASTACK_L4_LISTEN' || /EADDRINUSE/.test(String(err))) {
        throw new HastackError(
          'HASTACK_DEMO_PORT_BUSY',
          `${(err as Error).message}\n  try: npm start -- --port 18080 --admin-port 19090`,
        );
      }
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
  memcached          127.0.0.1:11211   (any memcached client; e.g. memcstat --servers=127.0.0.1:11211)
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
