import { ConfigError, type LocatedIssue } from '../config/config-error.ts';
import type { ConfigWarning } from '../config/model.ts';

/** Where a keepalived token or block came from. */
export interface SourcePos {
  file: string;
  line: number;
}

/** Stable codes for keepalived.conf problems (errors and warnings). */
export const KEEPALIVED_CODES = {
  /** Lexical or block structure error: unbalanced braces, bad quoting, binary data... */
  syntax: 'HASTACK_KEEPALIVED_SYNTAX',
  /** include: missing file, cycle, too deep or too many files. */
  include: 'HASTACK_KEEPALIVED_INCLUDE',
  /** lb_kind / lvs_method DR or TUN: needs a kernel data plane. */
  lbKind: 'HASTACK_KEEPALIVED_LB_KIND',
  /** A feature hastack cannot provide and must not ignore (fwmark, SCTP...). */
  unsupportedFeature: 'HASTACK_KEEPALIVED_UNSUPPORTED_FEATURE',
  /** A bad or missing value: numbers, addresses, enum words. */
  value: 'HASTACK_KEEPALIVED_VALUE',
  /** The file holds no configuration at all. */
  empty: 'HASTACK_KEEPALIVED_EMPTY',
  /** Warning: a keepalived feature hastack does not support yet; the keyword is skipped. */
  unsupported: 'HASTACK_KEEPALIVED_UNSUPPORTED',
  /** Warning: a keyword with no effect in hastack (e-mail alerts, SNMP...). */
  ignored: 'HASTACK_KEEPALIVED_IGNORED',
  /** Warning: a keyword keepalived does not know either (typo?). */
  unknownKeyword: 'HASTACK_KEEPALIVED_UNKNOWN_KEYWORD',
  /** Warning: a value was changed the way keepalived changes it (quorum above total weight...). */
  adjusted: 'HASTACK_KEEPALIVED_ADJUSTED',
  /** Warning: an old spelling keepalived still accepts. */
  deprecated: 'HASTACK_KEEPALIVED_DEPRECATED',
  /** Warning: a wildcard include matched no file. */
  includeEmpty: 'HASTACK_KEEPALIVED_INCLUDE_EMPTY',
} as const;

/** A located issue that also carries its own code. */
export interface KeepalivedIssue extends LocatedIssue {
  code: string;
}

export function issueAt(code: string, pos: SourcePos, message: string, path = ''): KeepalivedIssue {
  return { code, path, message, file: pos.file, line: pos.line };
}

/** A ConfigError for one or more issues; its code is the first issue's. */
export function keepalivedError(issues: KeepalivedIssue[]): ConfigError {
  return new ConfigError(issues, issues[0]?.code ?? KEEPALIVED_CODES.syntax);
}

export function errorAt(code: string, pos: SourcePos, message: string): ConfigError {
  return keepalivedError([issueAt(code, pos, message)]);
}

export function syntaxError(pos: SourcePos, message: string): ConfigError {
  return errorAt(KEEPALIVED_CODES.syntax, pos, message);
}

export function warningAt(code: string, pos: SourcePos, message: string): ConfigWarning {
  return { code, message, file: pos.file, line: pos.line };
}
