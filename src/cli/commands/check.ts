import type { CliIo } from '../cli-io.ts';
import { CONFIG_OPTIONS, configLoader } from '../config-source.ts';
import { parseCommandArgs } from '../parse-command-args.ts';

/** `hastack check`: like `nginx -t` / `keepalived -t`; exit 0 when valid, 1 when not. */
export async function checkCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { ...CONFIG_OPTIONS, quiet: { type: 'boolean', short: 'q' } });
  const file = values.config ?? values.keepalived;
  const loaded = await configLoader(values)();
  for (const w of loaded.warnings) {
    const where = w.file === undefined ? '' : w.line === undefined ? `${w.file}: ` : `${w.file}:${w.line}: `;
    io.stderr.write(`hastack: [warn] ${where}${w.message} [${w.code}]\n`);
  }
  if (values.quiet !== true) {
    const vs = loaded.config.virtualServers;
    const rs = vs.reduce((n, v) => n + v.realServers.length, 0);
    io.stderr.write(
      `hastack: configuration file ${file} syntax is ok (${vs.length} virtual servers, ${rs} real servers)\n`,
    );
    io.stderr.write(`hastack: configuration file ${file} test is successful\n`);
  }
  return 0;
}
