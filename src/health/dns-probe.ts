import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { CheckSpec } from '../config/model.ts';
import { HastackError } from '../core/errors.ts';
import { decodeDnsHeader, encodeDnsQuery, rcodeName } from './dns-wire.ts';
import { CODE_INVALID, runAttempt } from './probe-attempt.ts';
import { probeEndpoint, validPort } from './probe-endpoint.ts';
import type { ProbeResult, ProbeTarget } from './types.ts';

export type DnsCheckSpec = Extract<CheckSpec, { type: 'dns' }>;

export const CODE_DNS_RCODE = 'HASTACK_CHECK_DNS_RCODE';

export interface DnsProbeOptions {
  /** Query ID source (tests pin it); default: crypto random 0..65535. */
  randomId?: () => number;
}

/**
 * DNS_CHECK: one UDP query (type/name from the check, default SOA for the root).
 * As keepalived: replies with another ID or without QR are ignored (spoofing and
 * stray datagrams), the server is up on the first matching reply with RCODE
 * NOERROR and down on any other RCODE. Answer records are not inspected.
 */
export function createDnsProbe(
  options: DnsProbeOptions = {},
): (spec: DnsCheckSpec, target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult> {
  const randomId = options.randomId ?? (() => randomInt(0x10000));
  return (spec, target, signal) => {
    const endpoint = probeEndpoint(spec, target);
    return runAttempt(spec.timeoutMs, signal, (attempt) => {
      if (!validPort(endpoint.port)) {
        attempt.fail(CODE_INVALID, `invalid port ${endpoint.port}`);
        return;
      }
      const id = randomId() & 0xffff;
      let query: Buffer;
      try {
        query = encodeDnsQuery(id, spec.name, spec.qtype);
      } catch (err) {
        if (err instanceof HastackError) attempt.fail(err.code, err.message);
        else attempt.failWith(err);
        return;
      }
      const family = isIP(endpoint.host) === 6 || isIP(endpoint.localAddress ?? '') === 6 ? 'udp6' : 'udp4';
      const socket = dgram.createSocket(family);
      attempt.defer(() => socket.close());
      socket.on('error', (err) => attempt.failWith(err, attempt.stage));
      socket.on('message', (message) => {
        const header = decodeDnsHeader(message);
        if (header === undefined || header.id !== id || !header.qr) return;
        if (header.rcode !== 0) {
          attempt.fail(
            CODE_DNS_RCODE,
            `${spec.qtype} ${spec.name}: ${rcodeName(header.rcode)} (rcode ${header.rcode})`,
          );
          return;
        }
        attempt.ok(`${spec.qtype} ${spec.name}: NOERROR, ${header.ancount} answer(s)`);
      });
      const send = () => {
        attempt.stage = 'connect';
        socket.connect(endpoint.port, endpoint.host, () => {
          if (attempt.settled) return;
          attempt.stage = 'send query';
          socket.send(query, (err) => {
            if (err) attempt.failWith(err, 'send query');
            else attempt.stage = 'await reply';
          });
        });
      };
      if (endpoint.localAddress !== undefined || endpoint.localPort !== undefined) {
        attempt.stage = 'bind';
        socket.bind(
          {
            port: endpoint.localPort ?? 0,
            ...(endpoint.localAddress !== undefined && { address: endpoint.localAddress }),
          },
          () => {
            if (!attempt.settled) send();
          },
        );
      } else {
        send();
      }
    });
  };
}

export const dnsProbe = createDnsProbe();
