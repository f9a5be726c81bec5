import net from 'node:net';
import tls from 'node:tls';
import type { CheckTarget } from '../config/model.ts';
import { type Attempt, CODE_INVALID } from './probe-attempt.ts';
import type { ProbeTarget } from './types.ts';

/** Where one probe really goes: connect_ip/connect_port win over the real server; bindto sets the source. */
export interface ProbeEndpoint {
  host: string;
  port: number;
  localAddress?: string;
  localPort?: number;
}

export function probeEndpoint(spec: CheckTarget, target: ProbeTarget): ProbeEndpoint {
  return {
    host: spec.connectHost ?? target.host,
    port: spec.connectPort ?? target.port,
    ...(spec.bindHost !== undefined && { localAddress: spec.bindHost }),
    ...(spec.bindPort !== undefined && { localPort: spec.bindPort }),
  };
}

export function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * Opens a TCP (or TLS) connection owned by the attempt: errors fail the attempt,
 * and the socket is destroyed whenever the attempt settles. Resolves once
 * connected (for TLS: once the handshake is done); stays pending on failure.
 */
export function openSocket(
  endpoint: ProbeEndpoint,
  attempt: Attempt,
  tlsOptions?: tls.ConnectionOptions,
): Promise<net.Socket> {
  return new Promise((resolve) => {
    if (!validPort(endpoint.port)) {
      attempt.fail(CODE_INVALID, `invalid port ${endpoint.port}`);
      return;
    }
    if (endpoint.localPort !== undefined && !validPort(endpoint.localPort)) {
      attempt.fail(CODE_INVALID, `invalid bind port ${endpoint.localPort}`);
      return;
    }
    attempt.stage = tlsOptions === undefined ? 'connect' : 'tls handshake';
    const options = {
      host: endpoint.host,
      port: endpoint.port,
      ...(endpoint.localAddress !== undefined && { localAddress: endpoint.localAddress }),
      ...(endpoint.localPort !== undefined && { localPort: endpoint.localPort }),
    };
    let socket: net.Socket;
    try {
      socket = tlsOptions === undefined ? net.connect(options) : tls.connect({ ...tlsOptions, ...options });
    } catch (err) {
      attempt.failWith(err, 'connect');
      return;
    }
    attempt.defer(() => socket.destroy());
    socket.on('error', (err) => attempt.failWith(err, attempt.stage));
    socket.setNoDelay(true);
    socket.once(tlsOptions === undefined ? 'connect' : 'secureConnect', () => {
      if (!attempt.settled) resolve(socket);
    });
  });
}
