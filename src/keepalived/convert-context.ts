import type { ConfigWarning } from '../config/model.ts';
import type { ConfigNode } from './block-parser.ts';
import { issueAt, KEEPALIVED_CODES, type KeepalivedIssue, type SourcePos, warningAt } from './diagnostics.ts';

/** A value together with the statement that set it, so errors and lineOf can point at it. */
export interface Located<T> {
  value: T;
  pos: SourcePos;
}

/** Collects errors and warnings so one run reports every problem, not just the first. */
export class Diagnostics {
  readonly errors: KeepalivedIssue[] = [];
  readonly warnings: ConfigWarning[] = [];

  error(code: string, pos: SourcePos, message: string): undefined {
    this.errors.push(issueAt(code, pos, message));
    return undefined;
  }

  warn(code: string, pos: SourcePos, message: string): void {
    this.warnings.push(warningAt(code, pos, message));
  }

  /** A bad or missing value: the statement is skipped, conversion goes on to find more. */
  bad(pos: SourcePos, message: string): undefined {
    return this.error(KEEPALIVED_CODES.value, pos, message);
  }
}

/** Handles one keyword inside one kind of block; `draft` is the block's settings so far. */
export type Handler<D> = (node: ConfigNode, draft: D, diag: Diagnostics) => void;

/** The keywords one kind of block accepts: adding a keyword is adding an entry. */
export type KeywordTable<D> = ReadonlyMap<string, Handler<D>>;

export function keywordTable<D>(entries: Record<string, Handler<D>>): KeywordTable<D> {
  return new Map(Object.entries(entries));
}

/** Runs each statement of a block through its table; unknown keywords are reported, never dropped silently. */
export function dispatch<D>(
  nodes: readonly ConfigNode[],
  table: KeywordTable<D>,
  draft: D,
  diag: Diagnostics,
  where: string,
  fallback?: Handler<D>,
): void {
  for (const node of nodes) {
    const handler = table.get(node.keyword) ?? fallback;
    if (handler === undefined) {
      diag.warn(
        KEEPALIVED_CODES.unknownKeyword,
        node,
        `unknown keyword "${node.keyword}" in ${where}: ignored (check the spelling)`,
      );
      continue;
    }
    handler(node, draft, diag);
  }
}

/** A keyword that keepalived knows but that has no effect in hastack. */
export function ignored<D>(reason: string): Handler<D> {
  return (node, _draft, diag) =>
    diag.warn(KEEPALIVED_CODES.ignored, node, `"${node.keyword}" ignored: ${reason}`);
}

/** A keepalived feature hastack does not implement yet; the statement (and its block) is skipped. */
export function unsupported<D>(reason: string): Handler<D> {
  return (node, _draft, diag) =>
    diag.warn(
      KEEPALIVED_CODES.unsupported,
      node,
      `"${node.keyword}" is not supported yet and is skipped: ${reason}`,
    );
}

/** Identification-only keywords (router_id, snmp_name...): accepted without a word. */
export function silent<D>(): Handler<D> {
  return () => {};
}

/** The statement's first argument, or an error naming what is missing. */
export function firstArg(node: ConfigNode, diag: Diagnostics, what = 'a value'): string | undefined {
  const value = node.args[0];
  if (value === undefined) return diag.bad(node, `"${node.keyword}" needs ${what}`);
  return value;
}

export function located<T>(value: T | undefined, node: ConfigNode): Located<T> | undefined {
  return value === undefined ? undefined : { value, pos: { file: node.file, line: node.line } };
}
