import { createHash, type Hash } from 'node:crypto';
import { isIP } from 'node:net';
import type tls from 'node:tls';
import type { CheckSpec, HttpCheckUrl } from '../config/model.ts';
import { HastackError } from '../core/errors.ts';
import { buildHttpRequest, formatStatusRanges, hostHeader, statusAccepted } from './http-request.ts';
import { CODE_BAD_RESPONSE, HttpResponseReader } from './http-response-reader.ts';
import { type Attempt, CODE_INVALID, runAttempt } from './probe-attempt.ts';
import { openSocket, type ProbeEndpoint, probeEndpoint } from './probe-endpoint.ts';
import type { ProbeResult, ProbeTarget } from './types.ts';

export type HttpCheckSpec = Extract<CheckSpec, { type: 'http' }>;

export const CODE_HTTP_STATUS = 'HASTACK_CHECK_HTTP_STATUS';
export const CODE_HTTP_DIGEST = 'HASTACK_CHECK_HTTP_DIGEST';
export const CODE_HTTP_REGEX = 'HASTACK_CHECK_HTTP_REGEX';
export const CODE_HTTP_BODY_TOO_LARGE = 'HASTACK_CHECK_HTTP_BODY_TOO_LARGE';
export const CODE_HTTP_TRUNCATED = 'HASTACK_CHECK_HTTP_TRUNCATED';

/** Health pages are small; a bigger body is a misconfiguration, not something to stream forever. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface HttpProbeOptions {
  /** Largest body read when a digest or regex needs it. Default 1 MiB. */
  maxBodyBytes?: number;
}

type UrlOutcome = { ok: true; message: string } | { ok: false; code: string; message: string };

/**
 * HTTP_GET / SSL_GET: every URL is fetched on its own connection and must answer
 * with an accepted status, then (when configured) the body's MD5 and regex must
 * match. The whole probe, all URLs included, is bounded by `timeoutMs`.
 */
export function createHttpProbe(
  options: HttpProbeOptions = {},
): (spec: HttpCheckSpec, target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return (spec, target, signal) => {
    const endpoint = probeEndpoint(spec, target);
    return runAttempt(spec.timeoutMs, signal, async (attempt) => {
      let last = 'no urls to check';
      for (const url of spec.urls) {
        const outcome = await checkUrl(spec, url, endpoint, attempt, maxBodyBytes);
        if (attempt.settled) return;
        if (!outcome.ok) {
          attempt.fail(outcome.code, `GET ${url.path}: ${outcome.message}`);
          return;
        }
        last = `GET ${url.path}: ${outcome.message}`;
      }
      attempt.ok(spec.urls.length > 1 ? `${spec.urls.length} urls ok; last ${last}` : last);
    });
  };
}

export const httpProbe = createHttpProbe();

async function checkUrl(
  spec: HttpCheckSpec,
  url: HttpCheckUrl,
  endpoint: ProbeEndpoint,
  attempt: Attempt,
  maxBodyBytes: number,
): Promise<UrlOutcome> {
  const request = buildHttpRequest(url.path, hostHeader(url, spec.virtualhost, endpoint), spec.httpVersion);
  const regex = url.bodyRegex === undefined ? undefined : compileRegex(url.bodyRegex);
  const digest = url.digest?.toLowerCase();
  const socket = await openSocket(endpoint, attempt, spec.tls ? tlsOptions(spec, url) : undefined);

  return new Promise<UrlOutcome>((resolve) => {
    const wantBody = digest !== undefined || regex !== undefined;
    const bodyHash: Hash | undefined = digest === undefined ? undefined : createHash('md5');
    const rawHash: Hash | undefined = digest === undefined ? undefined : createHash('md5');
    const bodyParts: Buffer[] = [];
    let tooLarge = false;
    let statusChecked = false;
    let finished = false;

    const reader = new HttpResponseReader({
      onBody: (data) => {
        if (reader.bodyBytes > maxBodyBytes) {
          tooLarge = true;
          return;
        }
        bodyHash?.update(data);
        if (regex !== undefined) bodyParts.push(data);
      },
      onRawBody: (data) => rawHash?.update(data),
    });

    const done = (outcome: UrlOutcome) => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve(outcome);
    };

    const evaluate = () => {
      const head = reader.head;
      if (head === undefined) return;
      if (!statusChecked) {
        statusChecked = true;
        if (!statusAccepted(head.status, url.status)) {
          done({
            ok: false,
            code: CODE_HTTP_STATUS,
            message: `status ${head.status} not in ${formatStatusRanges(url.status)}`,
          });
          return;
        }
        // Nothing to verify in the body: the status is the answer.
        if (!wantBody) {
          done({ ok: true, message: `status ${head.status}` });
          return;
        }
      }
      if (tooLarge) {
        done({
          ok: false,
          code: CODE_HTTP_BODY_TOO_LARGE,
          message: `body larger than ${maxBodyBytes} bytes`,
        });
        return;
      }
      if (!reader.complete) return;
      if (reader.truncated) {
        done({
          ok: false,
          code: CODE_HTTP_TRUNCATED,
          message: `connection closed after ${reader.bodyBytes} body bytes, before the body ended`,
        });
        return;
      }
      let message = `status ${head.status}`;
      if (digest !== undefined) {
        const decoded = bodyHash!.digest('hex');
        // genhash hashes the bytes on the wire, chunk framing included; accept either form.
        const raw = rawHash!.digest('hex');
        if (decoded !== digest && !(head.chunked && raw === digest)) {
          done({ ok: false, code: CODE_HTTP_DIGEST, message: `body MD5 ${decoded} is not ${digest}` });
          return;
        }
        message += ', digest ok';
      }
      if (regex !== undefined) {
        const text = Buffer.concat(bodyParts).toString('utf8');
        if (!regex.test(text)) {
          done({ ok: false, code: CODE_HTTP_REGEX, message: `body does not match /${regex.source}/` });
          return;
        }
        message += ', regex ok';
      }
      done({ ok: true, message });
    };

    socket.on('data', (chunk: Buffer) => {
      if (finished) return;
      try {
        reader.feed(chunk);
      } catch (err) {
        done(badResponse(err));
        return;
      }
      evaluate();
    });
    socket.on('end', () => {
      if (finished) return;
      try {
        reader.end();
      } catch (err) {
        done(badResponse(err));
        return;
      }
      evaluate();
    });
    attempt.stage = `GET ${url.path}`;
    socket.write(request);
  });
}

function badResponse(err: unknown): UrlOutcome {
  if (err instanceof HastackError) return { ok: false, code: err.code, message: err.message };
  return { ok: false, code: CODE_BAD_RESPONSE, message: String(err) };
}

function compileRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new HastackError(CODE_INVALID, `invalid body regex ${JSON.stringify(pattern)}`, { cause: err });
  }
}

/** keepalived does not verify certificates unless asked; SNI is sent only for names, never IPs. */
function tlsOptions(spec: HttpCheckSpec, url: HttpCheckUrl): tls.ConnectionOptions {
  const name = stripPort(spec.sni ?? url.virtualhost ?? spec.virtualhost);
  return {
    rejectUnauthorized: spec.verifyTls,
    ...(name !== undefined && isIP(name) === 0 && { servername: name }),
  };
}

function stripPort(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close > 0 ? host.slice(1, close) : host;
  }
  const colon = host.indexOf(':');
  // More than one colon: a bare IPv6 address, not host:port.
  if (colon >= 0 && host.indexOf(':', colon + 1) < 0) return host.slice(0, colon);
  return host;
}
