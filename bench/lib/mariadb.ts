/**
 * A throwaway MariaDB server for benchmarks: a fresh data directory made with
 * mariadb-install-db in the bench temp dir, mariadbd in the foreground pinned to
 * a CPU, a passwordless `bench` user, nothing touching /etc/mysql or /var/lib/mysql.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HastackError } from '../../src/core/errors.ts';
import { MysqlConnection } from './mysql-wire.ts';
import { type PinnedProcess, runPinned, spawnPinned } from './pinned-process.ts';
import { pollUntil } from './ports.ts';

export interface MariadbOptions {
  name: string;
  mariadbd: string;
  installDb: string;
  cpu: number | string;
  dir: string;
  port: number;
  serverId: number;
  /** Extra mariadbd options (--key=value). */
  options?: readonly string[];
}

export async function startMariadb(
  o: MariadbOptions,
): Promise<{ proc: PinnedProcess; connect: () => Promise<MysqlConnection> }> {
  const datadir = join(o.dir, `${o.name}-data`);
  await mkdir(datadir, { recursive: true });
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  const install = await runPinned({
    name: `${o.name} install`,
    command: o.installDb,
    args: [
      '--no-defaults',
      `--datadir=${datadir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...asRoot,
    ],
    cpu: o.cpu,
    timeoutMs: 120_000,
  });
  if (install.code !== 0)
    throw new HastackError(
      'HASTACK_BENCH_MARIADB',
      `mariadb-install-db failed for ${o.name}:\n${install.output.slice(-2000)}`,
    );
  const init = join(o.dir, `${o.name}-init.sql`);
  await writeFile(
    init,
    "CREATE USER IF NOT EXISTS 'bench'@'%' IDENTIFIED BY '';\nGRANT ALL PRIVILEGES ON *.* TO 'bench'@'%';\nCREATE DATABASE IF NOT EXISTS bench;\n",
  );
  const proc = await spawnPinned({
    name: o.name,
    command: o.mariadbd,
    args: [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${join(o.dir, `${o.name}.sock`)}`,
      `--pid-file=${join(o.dir, `${o.name}.pid`)}`,
      `--port=${o.port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      `--init-file=${init}`,
      `--server-id=${o.serverId}`,
      '--log-error=',
      ...asRoot,
      ...(o.options ?? []),
    ],
    cpu: o.cpu,
    stopGraceMs: 20_000,
  });
  const connect = () =>
    MysqlConnection.open({ host: '127.0.0.1', port: o.port, user: 'bench', password: '', database: 'bench' });
  await pollUntil(
    async () => {
      try {
        (await connect()).close();
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 60_000, process: proc, label: o.name },
  );
  return { proc, connect };
}
