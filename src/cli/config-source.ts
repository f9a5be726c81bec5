import { type LoadedConfig, loadYamlConfigFile } from '../config/load-config.ts';
import { loadKeepalivedConfigFile } from '../keepalived/load-keepalived.ts';
import { CliUsageError } from './cli-usage-error.ts';

export const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c' },
  keepalived: { type: 'string', short: 'k' },
  instance: { type: 'string', short: 'i' },
} as const;

export interface ConfigSourceFlags {
  config?: string | undefined;
  keepalived?: string | undefined;
  instance?: string | undefined;
}

/** A function that (re)reads the config named on the command line: used at start and on every reload. */
export function configLoader(flags: ConfigSourceFlags): () => Promise<LoadedConfig> {
  if (flags.config !== undefined && flags.keepalived !== undefined) {
    throw new CliUsageError('use either -c FILE or --keepalived FILE, not both');
  }
  if (flags.config !== undefined) {
    const file = flags.config;
    return () => loadYamlConfigFile(file);
  }
  if (flags.keepalived !== undefined) {
    const file = flags.keepalived;
    const instanceId = flags.instance;
    return () => loadKeepalivedConfigFile(file, instanceId === undefined ? {} : { instanceId });
  }
  throw new CliUsageError('a config is required: -c hastack.yaml or --keepalived keepalived.conf');
}
