import type { CheckSpec } from '../config/model.ts';
import { formatHostPort } from '../core/address.ts';
import { runAttempt } from './probe-attempt.ts';
import { openSocket, probeEndpoint } from './probe-endpoint.ts';
import type { ProbeResult, ProbeTarget } from './types.ts';

/**
 * TCP_CHECK: the server is up when a TCP connection completes. The socket is
 * closed right away (nothing is sent), as keepalived does.
 */
export function tcpProbe(spec: CheckSpec, target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  const endpoint = probeEndpoint(spec, target);
  return runAttempt(spec.timeoutMs, signal, async (attempt) => {
    const socket = await openSocket(endpoint, attempt);
    socket.end();
    attempt.ok(`connected to ${formatHostPort(endpoint.host, endpoint.port)}`);
  });
}
