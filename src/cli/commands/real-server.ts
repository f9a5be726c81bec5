import { ADMIN_OPTIONS, adminRequest, resolveAdmin } from '../admin-client.ts';
import type { CliIo } from '../cli-io.ts';
import { CliUsageError } from '../cli-usage-error.ts';
import { parseCommandArgs } from '../parse-command-args.ts';

function realServerPath(vs: string, rs: string, action: string): string {
  return `/virtual-servers/${encodeURIComponent(vs)}/real-servers/${encodeURIComponent(rs)}/${action}`;
}

/** `hastack weight VS RS N` (like `ipvsadm -e -t VS -r RS -w N`). */
export async function weightCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, ADMIN_OPTIONS, true);
  if (positionals.length !== 3) throw new CliUsageError('usage: hastack weight VS RS N');
  const [vs, rs, n] = positionals as [string, string, string];
  if (!/^\d+$/.test(n) || Number(n) > 65535)
    throw new CliUsageError(`weight must be an integer 0..65535, not "${n}"`);
  await adminRequest(await resolveAdmin(values), 'POST', realServerPath(vs, rs, 'weight'), {
    weight: Number(n),
  });
  io.stdout.write(`${vs} ${rs} weight ${n}\n`);
  return 0;
}

/** `hastack drain VS RS`: weight 0, established connections continue. */
export async function drainCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, ADMIN_OPTIONS, true);
  if (positionals.length !== 2) throw new CliUsageError('usage: hastack drain VS RS');
  const [vs, rs] = positionals as [string, string];
  await adminRequest(await resolveAdmin(values), 'POST', realServerPath(vs, rs, 'drain'));
  io.stdout.write(`${vs} ${rs} draining\n`);
  return 0;
}
