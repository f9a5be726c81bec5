import { IpSet } from './ip-match.ts';
import type { RouteConfig } from './model.ts';
import { Template } from './template.ts';
import { queryParam } from './url-path.ts';
import { compilePattern, compileRegex, patternMatches, type ValuePattern } from './value-pattern.ts';

/*
 * First-match routing over a listener's routes (nginx `server_name` + `location`
 * + `map`, HAProxy ACLs): host, path exact/prefix/regex, method, any header,
 * query parameters and client address, all of a route's conditions ANDed. Pure:
 * routes are compiled once per config; matching allocates only regex captures.
 */

export interface RouteInput {
  method: string;
  /** Host without port, lowercased. */
  host: string;
  /** Normalized path (url-path.ts). */
  path: string;
  /** '?...' or ''. */
  query: string;
  /** Flat [name, value...] with lowercased names. */
  headers: readonly string[];
  /** The client address routes see (after trusted proxies). */
  clientIp: string;
}

type HostMatcher =
  | { kind: 'exact'; host: string }
  | { kind: 'suffix'; suffix: string }
  | { kind: 'regex'; regex: RegExp };

function compileHost(raw: string): HostMatcher {
  if (raw.startsWith('~')) {
    const ci = raw.startsWith('~*');
    return { kind: 'regex', regex: compileRegex(raw.slice(ci ? 2 : 1), 'i', `host "${raw}"`) };
  }
  const h = raw.toLowerCase();
  if (h.startsWith('*.')) return { kind: 'suffix', suffix: h.slice(1) };
  return { kind: 'exact', host: h };
}

function hostMatches(m: HostMatcher, host: string): boolean {
  switch (m.kind) {
    case 'exact':
      return host === m.host;
    case 'suffix':
      return host.length > m.suffix.length && host.endsWith(m.suffix);
    case 'regex':
      return m.regex.test(host);
  }
}

/** A header value for matching: several fields of one name are joined with ", " (RFC 9110 §5.3). */
export function headerValue(headers: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) value = value === undefined ? headers[i + 1] : `${value}, ${headers[i + 1]}`;
  }
  return value;
}

export class CompiledRoute {
  readonly config: RouteConfig;
  readonly index: number;
  readonly #hosts: HostMatcher[];
  readonly #path: string | undefined;
  readonly #prefix: string | undefined;
  readonly #regex: RegExp | undefined;
  readonly #methods: Set<string> | undefined;
  readonly #headers: [string, ValuePattern][];
  readonly #query: [string, ValuePattern][];
  readonly #ips: IpSet | undefined;
  readonly rewriteRegex: RegExp | undefined;
  readonly rewriteTo: Template | undefined;
  /** Values of request/response header rules, compiled. */
  readonly requestSet: [string, Template][];
  readonly requestAdd: [string, Template][];
  readonly responseSet: [string, Template][];
  readonly responseAdd: [string, Template][];
  readonly redirectTo: Template | undefined;

  constructor(config: RouteConfig, index: number) {
    this.config = config;
    this.index = index;
    const m = config.match;
    this.#hosts = m.hosts.map(compileHost);
    this.#path = m.path;
    this.#prefix = m.pathPrefix;
    if (m.pathRegex !== undefined) {
      const ci = m.pathRegex.startsWith('~*');
      const source = ci
        ? m.pathRegex.slice(2)
        : m.pathRegex.startsWith('~')
          ? m.pathRegex.slice(1)
          : m.pathRegex;
      this.#regex = compileRegex(source, ci ? 'i' : '', `route ${config.name} path_regex`);
    }
    this.#methods = m.methods.length > 0 ? new Set(m.methods) : undefined;
    this.#headers = Object.entries(m.headers).map(([k, v]) => [
      k,
      compilePattern(v, `route ${config.name} header ${k}`),
    ]);
    this.#query = Object.entries(m.query).map(([k, v]) => [
      k,
      compilePattern(v, `route ${config.name} query ${k}`),
    ]);
    this.#ips = m.clientIps.length > 0 ? new IpSet(m.clientIps) : undefined;
    if (config.rewrite !== undefined) {
      this.rewriteTo = new Template(config.rewrite.to);
      if (config.rewrite.regex !== undefined) {
        this.rewriteRegex = compileRegex(config.rewrite.regex, '', `route ${config.name} rewrite`);
      }
    }
    const compile = (pairs: [string, string][]) =>
      pairs.map(([k, v]): [string, Template] => [k, new Template(v)]);
    this.requestSet = compile(config.requestHeaders.set);
    this.requestAdd = compile(config.requestHeaders.add);
    this.responseSet = compile(config.responseHeaders.set);
    this.responseAdd = compile(config.responseHeaders.add);
    if (config.action.type === 'redirect') this.redirectTo = new Template(config.action.to);
  }

  /**
   * Does the request match? Returns the path regex captures (or an empty array
   * when the route has no regex), undefined when it does not match.
   */
  match(input: RouteInput): RegExpExecArray | readonly string[] | undefined {
    if (this.#methods !== undefined && !this.#methods.has(input.method)) return undefined;
    if (this.#hosts.length > 0) {
      let hit = false;
      for (const h of this.#hosts) if (hostMatches(h, input.host)) hit = true;
      if (!hit) return undefined;
    }
    if (this.#path !== undefined && input.path !== this.#path) return undefined;
    if (this.#prefix !== undefined && !input.path.startsWith(this.#prefix)) return undefined;
    for (const [name, p] of this.#headers)
      if (!patternMatches(p, headerValue(input.headers, name))) return undefined;
    for (const [name, p] of this.#query)
      if (!patternMatches(p, queryParam(input.query, name))) return undefined;
    if (this.#ips !== undefined && !this.#ips.contains(input.clientIp)) return undefined;
    if (this.#regex !== undefined) return this.#regex.exec(input.path) ?? undefined;
    return NO_CAPTURES;
  }
}

const NO_CAPTURES: readonly string[] = Object.freeze([]);

export interface RouteHit {
  route: CompiledRoute;
  captures: ArrayLike<string | undefined>;
}

export class Router {
  readonly routes: CompiledRoute[];

  constructor(routes: readonly RouteConfig[]) {
    this.routes = routes.map((r, i) => new CompiledRoute(r, i));
  }

  /** The first route whose conditions all hold, or undefined (then the answer is 404). */
  route(input: RouteInput): RouteHit | undefined {
    for (const route of this.routes) {
      const captures = route.match(input);
      if (captures !== undefined) return { route, captures };
    }
    return undefined;
  }
}

/** Host for routing: lowercased, port and IPv6 brackets' port removed. */
export function routingHost(host: string): string {
  let h = host;
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    h = close > 0 ? h.slice(0, close + 1) : h;
  } else {
    const colon = h.lastIndexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c >= 65 && c <= 90) return h.toLowerCase();
  }
  return h;
}
