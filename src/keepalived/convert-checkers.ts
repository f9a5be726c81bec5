import { DNS_QUERY_TYPES } from '../config/model.ts';
import type { ConfigNode } from './block-parser.ts';
import {
  type Diagnostics,
  dispatch,
  firstArg,
  type Handler,
  ignored,
  type KeywordTable,
  keywordTable,
  type Located,
  located,
} from './convert-context.ts';
import { KEEPALIVED_CODES, type SourcePos } from './diagnostics.ts';
import type { SourceMap } from './line-map.ts';
import { scriptToShellCommand } from './script-command.ts';
import { boolArg, parseIp, parsePort, timerArg, unsignedArg } from './values.ts';

/*
 * Health checkers (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK,
 * MISC_CHECK, PING_CHECK) → hastack `checks` entries. keepalived cascades the
 * timing keys checker → real server → virtual server → built-in default; the
 * cascade is resolved here and every value is written out explicitly, because
 * hastack's YAML defaults differ from keepalived's.
 */

/** keepalived's built-in defaults (keepalived.conf(5), check_data.c). */
export const KEEPALIVED_CHECK_DEFAULTS = {
  delayLoopMs: 60_000,
  connectTimeoutMs: 5_000,
  retry: { tcp: 1, http: 1, https: 1, smtp: 1, icmp: 1, dns: 3, misc: 0 },
  /** delay_before_retry; DNS_CHECK waits a full delay_loop. */
  delayBeforeRetryMs: { tcp: 1_000, http: 3_000, https: 3_000, smtp: 1_000, icmp: 1_000, misc: 1_000 },
  /** keepalived's default HTTP version. */
  httpProtocol: '1.0',
  status: '200-299',
} as const;

/** Timing keys valid at virtual server, real server and checker level. */
export interface TimingDraft {
  delayLoop?: Located<number>;
  connectTimeout?: Located<number>;
  retry?: Located<number>;
  delayBeforeRetry?: Located<number>;
  warmup?: Located<number>;
  alpha?: Located<boolean>;
}

export interface ConnectionDraft {
  node: ConfigNode;
  connectIp?: Located<string>;
  connectPort?: Located<number>;
  bindTo?: Located<string>;
  bindPort?: Located<number>;
  connectTimeout?: Located<number>;
}

export type CheckerKind = 'tcp' | 'http' | 'https' | 'smtp' | 'dns' | 'misc' | 'icmp';

export interface UrlDraft {
  node: ConfigNode;
  path?: Located<string>;
  digest?: Located<string>;
  status?: Located<string[]>;
  virtualhost?: Located<string>;
  regex?: Located<string>;
}

export interface CheckerDraft extends TimingDraft, ConnectionDraft {
  kind: CheckerKind;
  urls: UrlDraft[];
  virtualhost?: Located<string>;
  enableSni?: Located<boolean>;
  sniName?: Located<string>;
  httpProtocol?: Located<'1.0' | '1.0C' | '1.1'>;
  helo?: Located<string>;
  /** Old SMTP_CHECK `host { }` blocks: one check per host. */
  hosts: ConnectionDraft[];
  dnsType?: Located<string>;
  dnsName?: Located<string>;
  miscPath?: Located<string>;
  miscTimeout?: Located<number>;
  miscDynamic?: Located<boolean>;
}

type Field<D> = keyof D & string;

/** A handler that parses the statement and stores the result under `key`. */
export function setter<D>(
  key: Field<D>,
  parse: (node: ConfigNode, diag: Diagnostics) => unknown,
): Handler<D> {
  return (node, draft, diag) => {
    const value = parse(node, diag);
    if (value !== undefined) (draft as Record<string, unknown>)[key] = located(value, node);
  };
}

const stringArg = (node: ConfigNode, diag: Diagnostics) => firstArg(node, diag);

/** Keys every level (virtual server, real server, checker) accepts. */
export function timingKeywords<D extends TimingDraft>(): Record<string, Handler<D>> {
  return {
    delay_loop: setter<D>('delayLoop', timerArg),
    connect_timeout: setter<D>('connectTimeout', timerArg),
    retry: setter<D>('retry', (n, d) => unsignedArg(n, d)),
    delay_before_retry: setter<D>('delayBeforeRetry', timerArg),
    warmup: setter<D>('warmup', timerArg),
    alpha: setter<D>('alpha', boolArg),
  };
}

function connectionKeywords<D extends ConnectionDraft>(): Record<string, Handler<D>> {
  return {
    connect_ip: setter<D>('connectIp', (n, d) => {
      const text = firstArg(n, d, 'an IP address');
      return text === undefined ? undefined : parseIp(text, n, d);
    }),
    connect_port: setter<D>('connectPort', (n, d) => {
      const text = firstArg(n, d, 'a port');
      return text === undefined ? undefined : parsePort(text, n, d);
    }),
    bindto: setter<D>('bindTo', (n, d) => {
      const text = firstArg(n, d, 'an IP address');
      return text === undefined ? undefined : parseIp(text, n, d);
    }),
    bind_port: setter<D>('bindPort', (n, d) => {
      const text = firstArg(n, d, 'a port');
      return text === undefined ? undefined : parsePort(text, n, d);
    }),
    connect_timeout: setter<D>('connectTimeout', timerArg),
    bind_if: ignored('the source interface follows from bindto in hastack'),
    fwmark: ignored('hastack does not mark probe packets'),
  };
}

const common: Record<string, Handler<CheckerDraft>> = {
  ...timingKeywords<CheckerDraft>(),
  log_all_failures: ignored('hastack logs every probe failure at debug level'),
};

const withConnection: Record<string, Handler<CheckerDraft>> = {
  ...common,
  ...connectionKeywords<CheckerDraft>(),
};

const URL_KEYWORDS = keywordTable<UrlDraft>({
  path: setter<UrlDraft>('path', stringArg),
  digest: setter<UrlDraft>('digest', stringArg),
  status_code: (node, draft, diag) => {
    if (node.args.length === 0) return void diag.bad(node, '"status_code" needs at least one code or range');
    draft.status = located([...node.args], node);
  },
  virtualhost: setter<UrlDraft>('virtualhost', stringArg),
  regex: (node, draft, diag) => {
    const pattern = firstArg(node, diag, 'a regular expression');
    if (pattern === undefined) return;
    try {
      new RegExp(pattern);
    } catch (err) {
      return void diag.bad(
        node,
        `"regex": ${(err as Error).message} (hastack uses JavaScript regular expressions)`,
      );
    }
    draft.regex = located(pattern, node);
  },
  regex_no_match: (node, _draft, diag) =>
    void diag.error(
      KEEPALIVED_CODES.unsupportedFeature,
      node,
      '"regex_no_match" is not supported yet; ignoring it would turn the check upside down',
    ),
  regex_options: ignored('JavaScript regular expressions take no PCRE options'),
  regex_stack: ignored('not needed by JavaScript regular expressions'),
  regex_min_offset: ignored('the whole body is searched'),
  regex_max_offset: ignored('the whole body is searched'),
});

const HTTP_KEYWORDS = keywordTable<CheckerDraft>({
  ...withConnection,
  url: (node, draft, diag) => {
    const url: UrlDraft = { node };
    dispatch(node.children ?? [], URL_KEYWORDS, url, diag, 'url');
    draft.urls.push(url);
  },
  virtualhost: setter<CheckerDraft>('virtualhost', stringArg),
  http_protocol: setter<CheckerDraft>('httpProtocol', (n, d) => {
    const text = firstArg(n, d, 'a version (1.0, 1.0C or 1.1)');
    if (text === undefined) return undefined;
    if (text === '1.0' || text === '1.1') return text;
    if (text === '1.0C' || text === '1.0c') return '1.0C';
    return d.bad(n, `"http_protocol": unknown version "${text}" (use 1.0, 1.0C or 1.1)`);
  }),
  enable_sni: setter<CheckerDraft>('enableSni', boolArg),
  sni_name: setter<CheckerDraft>('sniName', stringArg),
  nb_get_retry: (node, draft, diag) => {
    diag.warn(KEEPALIVED_CODES.deprecated, node, '"nb_get_retry" is deprecated: use "retry"');
    const value = unsignedArg(node, diag);
    if (value !== undefined) draft.retry = located(value, node);
  },
  fast_recovery: ignored('hastack checks every URL in each probe, as fast_recovery does'),
  tls_compliant: ignored('hastack always closes TLS connections cleanly'),
});

const CONNECTION_ONLY = keywordTable<ConnectionDraft>(connectionKeywords<ConnectionDraft>());

const SMTP_KEYWORDS = keywordTable<CheckerDraft>({
  ...withConnection,
  helo_name: setter<CheckerDraft>('helo', stringArg),
  host: (node, draft, diag) => {
    if (draft.hosts.length === 0) {
      diag.warn(
        KEEPALIVED_CODES.deprecated,
        node,
        'SMTP_CHECK "host" blocks are deprecated in keepalived; each becomes a separate SMTP check',
      );
    }
    const host: ConnectionDraft = { node };
    dispatch(node.children ?? [], CONNECTION_ONLY, host, diag, 'SMTP_CHECK host');
    draft.hosts.push(host);
  },
});

const DNS_KEYWORDS = keywordTable<CheckerDraft>({
  ...withConnection,
  type: setter<CheckerDraft>('dnsType', (n, d) => {
    const text = firstArg(n, d, 'a query type');
    if (text === undefined) return undefined;
    const upper = text.toUpperCase();
    if ((DNS_QUERY_TYPES as readonly string[]).includes(upper)) return upper;
    return d.bad(n, `DNS_CHECK "type": unknown query type "${text}" (use ${DNS_QUERY_TYPES.join(', ')})`);
  }),
  name: setter<CheckerDraft>('dnsName', stringArg),
});

const MISC_KEYWORDS = keywordTable<CheckerDraft>({
  ...common,
  misc_path: (node, draft, diag) => {
    if (node.args.length === 0) return void diag.bad(node, '"misc_path" needs a command');
    try {
      draft.miscPath = located(scriptToShellCommand(node.args.join(' ')), node);
    } catch (err) {
      diag.bad(node, `"misc_path": ${(err as Error).message}`);
    }
  },
  misc_timeout: setter<CheckerDraft>('miscTimeout', timerArg),
  misc_dynamic: setter<CheckerDraft>('miscDynamic', boolArg),
  user: ignored('hastack runs check scripts as its own user'),
});

const SIMPLE_KEYWORDS = keywordTable<CheckerDraft>(withConnection);

/** keepalived checker keyword → hastack check type and the keywords its block takes. */
export const CHECKER_TYPES: ReadonlyMap<string, { kind: CheckerKind; table: KeywordTable<CheckerDraft> }> =
  new Map([
    ['TCP_CHECK', { kind: 'tcp', table: SIMPLE_KEYWORDS }],
    ['HTTP_GET', { kind: 'http', table: HTTP_KEYWORDS }],
    ['SSL_GET', { kind: 'https', table: HTTP_KEYWORDS }],
    ['SMTP_CHECK', { kind: 'smtp', table: SMTP_KEYWORDS }],
    ['DNS_CHECK', { kind: 'dns', table: DNS_KEYWORDS }],
    ['MISC_CHECK', { kind: 'misc', table: MISC_KEYWORDS }],
    ['PING_CHECK', { kind: 'icmp', table: SIMPLE_KEYWORDS }],
  ]);

export function parseChecker(node: ConfigNode, diag: Diagnostics): CheckerDraft | undefined {
  const type = CHECKER_TYPES.get(node.keyword);
  if (type === undefined) return undefined;
  const draft: CheckerDraft = { node, kind: type.kind, urls: [], hosts: [] };
  dispatch(node.children ?? [], type.table, draft, diag, node.keyword);
  return draft;
}

/** The levels a checker inherits from. */
export interface CheckScope {
  realServer: TimingDraft & { virtualhost?: Located<string> };
  virtualServer: TimingDraft & { virtualhost?: Located<string> };
}

type RawCheckObject = Record<string, unknown>;

const ms = (value: number) => `${value}ms`;

/** Writes hastack checks for one real server's checkers; `path` is the real server's `checks` key path. */
export function emitChecks(
  checkers: readonly CheckerDraft[],
  scope: CheckScope,
  path: readonly PropertyKey[],
  map: SourceMap,
  diag: Diagnostics,
): RawCheckObject[] {
  const out: RawCheckObject[] = [];
  for (const checker of checkers) {
    const targets: ConnectionDraft[] =
      checker.kind === 'smtp' && checker.hosts.length > 0 ? checker.hosts : [checker];
    for (const target of targets) {
      const check = emitOne(checker, target, scope, [...path, out.length], map, diag);
      if (check !== undefined) out.push(check);
    }
  }
  return out;
}

function emitOne(
  checker: CheckerDraft,
  target: ConnectionDraft,
  scope: CheckScope,
  path: readonly PropertyKey[],
  map: SourceMap,
  diag: Diagnostics,
): RawCheckObject | undefined {
  if ((checker.kind === 'http' || checker.kind === 'https') && checker.urls.length === 0) {
    diag.warn(
      KEEPALIVED_CODES.ignored,
      checker.node,
      `${checker.node.keyword} has no url block: skipped, as keepalived skips it`,
    );
    return undefined;
  }
  if (checker.kind === 'misc' && checker.miscPath === undefined) {
    diag.warn(
      KEEPALIVED_CODES.ignored,
      checker.node,
      'MISC_CHECK has no misc_path: skipped, as keepalived skips it',
    );
    return undefined;
  }
  const check: RawCheckObject = {};
  map.set(path, checker.node);
  const put = (key: string, value: unknown, pos: SourcePos = checker.node) => {
    check[key] = value;
    map.set([...path, key], pos);
  };
  const pick = <K extends keyof TimingDraft>(key: K): TimingDraft[K] =>
    checker[key] ?? scope.realServer[key] ?? scope.virtualServer[key];

  const kind = checker.kind;
  put('type', kind);
  const interval = pick('delayLoop') ?? { value: KEEPALIVED_CHECK_DEFAULTS.delayLoopMs, pos: checker.node };
  put('interval', ms(interval.value), interval.pos);
  if (kind === 'misc') {
    const timeout = checker.miscTimeout ?? interval;
    put('timeout', ms(timeout.value), timeout.pos);
  } else {
    const timeout = target.connectTimeout ??
      pick('connectTimeout') ?? { value: KEEPALIVED_CHECK_DEFAULTS.connectTimeoutMs, pos: checker.node };
    put('timeout', ms(timeout.value), timeout.pos);
  }
  const retry = pick('retry');
  put('retries', retry?.value ?? KEEPALIVED_CHECK_DEFAULTS.retry[kind], retry?.pos);
  const retryDelay = pick('delayBeforeRetry');
  const defaultRetryDelay =
    kind === 'dns' ? interval.value : KEEPALIVED_CHECK_DEFAULTS.delayBeforeRetryMs[kind];
  put('retry_delay', ms(retryDelay?.value ?? defaultRetryDelay), retryDelay?.pos);
  // keepalived has no rise/fall: one result changes the state (after the retries).
  put('rise', 1);
  put('fall', 1);
  const alpha = pick('alpha');
  put('alpha', alpha?.value ?? false, alpha?.pos);
  // An unset warmup spreads the first probe over up to one delay_loop.
  const warmup = pick('warmup') ?? interval;
  put('warmup', ms(warmup.value), warmup.pos);

  if (kind !== 'misc') {
    const conn = (key: keyof Omit<ConnectionDraft, 'node' | 'connectTimeout'>) => target[key] ?? checker[key];
    const connectIp = conn('connectIp');
    if (connectIp !== undefined) put('connect_host', connectIp.value, connectIp.pos);
    const connectPort = conn('connectPort');
    if (connectPort !== undefined) put('connect_port', connectPort.value, connectPort.pos);
    const bindTo = conn('bindTo');
    if (bindTo !== undefined) put('bind_host', bindTo.value, bindTo.pos);
    const bindPort = conn('bindPort');
    if (bindPort !== undefined) put('bind_port', bindPort.value, bindPort.pos);
  }

  switch (kind) {
    case 'http':
    case 'https':
      emitHttp(checker, scope, path, put, map, diag);
      break;
    case 'smtp':
      if (checker.helo !== undefined) put('helo', checker.helo.value, checker.helo.pos);
      break;
    case 'dns':
      put('query_type', checker.dnsType?.value ?? 'SOA', checker.dnsType?.pos);
      put('name', checker.dnsName?.value ?? '.', checker.dnsName?.pos);
      break;
    case 'misc':
      put('command', checker.miscPath!.value, checker.miscPath!.pos);
      put('dynamic', checker.miscDynamic?.value ?? false, checker.miscDynamic?.pos);
      break;
    case 'tcp':
    case 'icmp':
      break;
  }
  return check;
}

function emitHttp(
  checker: CheckerDraft,
  scope: CheckScope,
  path: readonly PropertyKey[],
  put: (key: string, value: unknown, pos?: SourcePos) => void,
  map: SourceMap,
  diag: Diagnostics,
): void {
  const virtualhost = checker.virtualhost ?? scope.realServer.virtualhost ?? scope.virtualServer.virtualhost;
  if (virtualhost !== undefined) put('virtualhost', virtualhost.value, virtualhost.pos);
  const version = checker.httpProtocol;
  put('http_version', version?.value ?? KEEPALIVED_CHECK_DEFAULTS.httpProtocol, version?.pos);
  // keepalived never verifies the real server's certificate.
  put('verify_tls', false);
  const sniWanted = checker.enableSni?.value === true || checker.sniName !== undefined;
  if (sniWanted && checker.kind === 'https') {
    const name = checker.sniName ?? virtualhost ?? checker.urls.find((u) => u.virtualhost)?.virtualhost;
    if (name !== undefined) put('sni', name.value, name.pos);
    else {
      diag.warn(
        KEEPALIVED_CODES.ignored,
        checker.enableSni?.pos ?? checker.node,
        'enable_sni without a virtualhost or sni_name: no SNI name to send',
      );
    }
  } else if (sniWanted) {
    diag.warn(
      KEEPALIVED_CODES.ignored,
      checker.enableSni?.pos ?? checker.node,
      'SNI only applies to SSL_GET',
    );
  }
  const urls: Record<string, unknown>[] = [];
  put('urls', urls);
  checker.urls.forEach((url, i) => {
    const urlPath = [...path, 'urls', i];
    map.set(urlPath, url.node);
    const out: Record<string, unknown> = {};
    const set = (key: string, value: unknown, pos: SourcePos = url.node) => {
      out[key] = value;
      map.set([...urlPath, key], pos);
    };
    if (url.path === undefined) diag.bad(url.node, 'url block without "path"');
    set('path', url.path?.value ?? '/', url.path?.pos);
    set('status', url.status?.value ?? [KEEPALIVED_CHECK_DEFAULTS.status], url.status?.pos);
    if (url.digest !== undefined) set('digest', url.digest.value, url.digest.pos);
    if (url.regex !== undefined) set('body_regex', url.regex.value, url.regex.pos);
    if (url.virtualhost !== undefined) set('virtualhost', url.virtualhost.value, url.virtualhost.pos);
    urls.push(out);
  });
}
