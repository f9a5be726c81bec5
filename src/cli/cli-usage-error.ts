import { HastackError } from '../core/errors.ts';

/** Wrong command-line usage: exit code 2 and the usage text. */
export class CliUsageError extends HastackError {
  constructor(message: string) {
    super('HASTACK_CLI_USAGE', message);
  }
}
