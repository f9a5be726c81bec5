import { errorCode, errorMessage } from '../core/errors.ts';
import { VERSION } from '../runtime/version.ts';
import type { CliIo } from './cli-io.ts';
import { CliUsageError } from './cli-usage-error.ts';
import { checkCommand } from './commands/check.ts';
import { dbCommand } from './commands/db.ts';
import { demoCommand } from './commands/demo.ts';
import { drainCommand, weightCommand } from './commands/real-server.ts';
import { reloadCommand } from './commands/reload.ts';
import { statusCommand } from './commands/status.ts';
import { upCommand } from './commands/up.ts';

export const USAGE = `hastack ${VERSION} - high-availability web infrastructure

Usage:
  hastack up     (-c FILE | --keepalived FILE) [-i ID]   run until SIGTERM/SIGINT; SIGHUP reloads
  hastack check  (-c FILE | --keepalived FILE) [-i ID]   validate a config (exit 0 valid, 1 invalid)
  hastack status [--json] [--stats] [--rate]             virtual/real server table (like ipvsadm -Ln)
  hastack weight VS RS N                                 set real server RS (host:port) of VS to weight N
  hastack drain  VS RS                                   weight 0: no new connections, existing ones finish
  hastack reload                                         ask the running process to reload its config
  hastack db     COMMAND ...                            replicated database: status, replica, promote, binlog
  hastack demo   [--base-port N] [--port N] [--admin-port N] [--memcached-port N]
                                                         start the loopback demo (npm start)
  hastack version

Options for status/weight/drain/reload:
  --admin URL     admin API (default $HASTACK_ADMIN or http://127.0.0.1:9090)
  --token TOKEN   bearer token (default $HASTACK_ADMIN_TOKEN)
  -c FILE         read the admin address and token from this config file
`;

export type { CliIo };

const defaultIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** Runs one CLI invocation and returns the exit code (never throws). */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'up':
        return await upCommand(rest, io);
      case 'check':
        return await checkCommand(rest, io);
      case 'status':
        return await statusCommand(rest, io);
      case 'weight':
        return await weightCommand(rest, io);
      case 'drain':
        return await drainCommand(rest, io);
      case 'reload':
        return await reloadCommand(rest, io);
      case 'db':
        return await dbCommand(rest, io);
      case 'demo':
        return await demoCommand(rest, io);
      case 'version':
      case '--version':
      case '-v':
        io.stdout.write(`hastack ${VERSION}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new CliUsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.stderr.write(`hastack: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr.write(`hastack: ${errorMessage(err)} [${errorCode(err)}]\n`);
    return 1;
  }
}
