import { type ParseArgsConfig, parseArgs } from 'node:util';
import { errorMessage } from '../core/errors.ts';
import { CliUsageError } from './cli-usage-error.ts';

/** parseArgs, strict, turning its errors into usage errors (exit 2). */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new CliUsageError(errorMessage(err));
  }
}
