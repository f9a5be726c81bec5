import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { HastackError } from '../core/errors.ts';
import type { TlsCertificateConfig } from './model.ts';

/**
 * Certificates of a TLS listener, chosen by SNI name: exact names first, then
 * "*.example.com" wildcards, then the first certificate as the default. Names
 * come from the config or, when it lists none, from the certificate's
 * subjectAltName DNS entries (or its CN). Built anew on every reload (SIGHUP),
 * so renewed certificates are picked up without a restart.
 */
export class TlsContexts {
  readonly #exact = new Map<string, tls.SecureContext>();
  readonly #wildcard = new Map<string, tls.SecureContext>();
  readonly defaultOptions: { key: Buffer; cert: Buffer };
  readonly names: string[] = [];

  constructor(certificates: readonly TlsCertificateConfig[]) {
    let first: { key: Buffer; cert: Buffer } | undefined;
    for (const c of certificates) {
      let key: Buffer;
      let cert: Buffer;
      try {
        key = readFileSync(c.key);
        cert = readFileSync(c.cert);
      } catch (err) {
        throw new HastackError(
          'HASTACK_HTTP_TLS',
          `cannot read certificate ${c.cert} / key ${c.key}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      let context: tls.SecureContext;
      let names = c.names;
      try {
        context = tls.createSecureContext({ key, cert });
        if (names.length === 0) names = namesOf(cert);
      } catch (err) {
        throw new HastackError(
          'HASTACK_HTTP_TLS',
          `invalid certificate ${c.cert} or key ${c.key}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      first ??= { key, cert };
      for (const raw of names) {
        const name = raw.toLowerCase();
        this.names.push(name);
        if (name.startsWith('*.')) {
          if (!this.#wildcard.has(name.slice(1))) this.#wildcard.set(name.slice(1), context);
        } else if (!this.#exact.has(name)) this.#exact.set(name, context);
      }
    }
    if (first === undefined) throw new HastackError('HASTACK_HTTP_TLS', 'a TLS listener needs a certificate');
    this.defaultOptions = first;
  }

  /** The context for an SNI name, or undefined for the default certificate. */
  lookup(servername: string): tls.SecureContext | undefined {
    const name = servername.toLowerCase();
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.#wildcard.get(name.slice(dot)) : undefined;
  }
}

function namesOf(pem: Buffer): string[] {
  const x = new X509Certificate(pem);
  const san = x.subjectAltName;
  if (san !== undefined) {
    const dns = san
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4));
    if (dns.length > 0) return dns;
  }
  const cn = /CN=([^\n,]+)/.exec(x.subject);
  return cn === null ? [] : [cn[1]!];
}
