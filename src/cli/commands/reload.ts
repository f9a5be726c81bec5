import { ADMIN_OPTIONS, adminRequest, resolveAdmin } from '../admin-client.ts';
import type { CliIo } from '../cli-io.ts';
import { parseCommandArgs } from '../parse-command-args.ts';

/** `hastack reload`: the same as sending SIGHUP, through the admin API; reports a rejected config. */
export async function reloadCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, ADMIN_OPTIONS);
  await adminRequest(await resolveAdmin(values), 'POST', '/reload');
  io.stdout.write('reloaded\n');
  return 0;
}
