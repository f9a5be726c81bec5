import { createLogger } from '../../core/logger.ts';
import { Runtime } from '../../runtime/runtime.ts';
import type { CliIo } from '../cli-io.ts';
import { CONFIG_OPTIONS, configLoader } from '../config-source.ts';
import { parseCommandArgs } from '../parse-command-args.ts';

/**
 * `hastack up`: run until SIGTERM/SIGINT (graceful: stop accepting, drain, exit);
 * SIGHUP reloads; a second SIGTERM/SIGINT during the drain cuts connections at once.
 */
export async function upCommand(args: string[], _io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, CONFIG_OPTIONS);
  const load = configLoader(values);
  const loaded = await load();
  const logger = createLogger({ level: process.env.HASTACK_LOG_LEVEL ?? loaded.config.log.level });
  const runtime = new Runtime({ logger, loadConfig: load });
  await runtime.start(loaded);
  return runUntilSignalled(runtime, logger);
}

export function runUntilSignalled(
  runtime: Runtime,
  logger: ReturnType<typeof createLogger>,
): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    // A daemon runs until it is signalled, whatever its components hold: with every VRRP
    // instance in FAULT on a track_file, say, no socket or timer keeps Node's loop alive.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const done = (code: number) => {
      clearInterval(keepAlive);
      resolve(code);
    };
    const onStop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second stop signal: closing all connections now');
        runtime.stop(0).finally(() => done(0));
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stop signal received');
      runtime
        .stop()
        .then(() => done(0))
        .catch((err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          done(1);
        })
        .finally(() => {
          process.off('SIGHUP', onReload);
        });
    };
    const onReload = () => {
      logger.info('SIGHUP: reloading configuration');
      runtime.reload().catch(() => {
        // Already logged by the runtime; the old configuration keeps running.
      });
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', onReload);
  });
}
