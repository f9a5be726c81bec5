import { HastackError } from '../core/errors.ts';

export interface LocatedIssue {
  /** Key path inside the config, e.g. virtual_servers[0].real_servers[1].weight */
  path: string;
  message: string;
  file?: string;
  line?: number;
}

/** An invalid config file. The message lists every problem found, one per line. */
export class ConfigError extends HastackError {
  readonly issues: readonly LocatedIssue[];

  constructor(issues: LocatedIssue[], code = 'HASTACK_CONFIG_INVALID') {
    super(code, issues.map(formatIssue).join('\n'), { details: { issues } });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function formatIssue(issue: LocatedIssue): string {
  const where =
    issue.file === undefined
      ? ''
      : issue.line === undefined
        ? `${issue.file}: `
        : `${issue.file}:${issue.line}: `;
  return `${where}${issue.path === '' ? '' : `${issue.path}: `}${issue.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
