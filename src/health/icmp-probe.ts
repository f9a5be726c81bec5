import { spawn } from 'node:child_process';
import type { CheckSpec } from '../config/model.ts';
import { rawNetAvailable } from '../core/raw-net.ts';
import { NativePinger } from './icmp-native.ts';
import { type Attempt, runAttempt } from './probe-attempt.ts';
import { probeEndpoint } from './probe-endpoint.ts';
import type { ProbeResult, ProbeTarget } from './types.ts';

export type IcmpCheckSpec = Extract<CheckSpec, { type: 'icmp' }>;

export const CODE_PING_MISSING = 'HASTACK_CHECK_PING_MISSING';
export const CODE_PING_NO_REPLY = 'HASTACK_CHECK_PING_NO_REPLY';
export const CODE_PING_FAILED = 'HASTACK_CHECK_PING_FAILED';

export interface IcmpProbeOptions {
  /** The ping binary (iputils-ping); default `ping` from PATH. Setting it turns the native prober off. */
  command?: string;
}

/**
 * PING_CHECK: one ICMP echo request through the native addon's raw socket when
 * it is loaded and permitted (IPv4), otherwise through iputils
 * `ping -n -c 1 -W <s>` (exit 0 = reply); a missing ping binary is reported as
 * HASTACK_CHECK_PING_MISSING.
 */
export function createIcmpProbe(
  options: IcmpProbeOptions = {},
): (spec: IcmpCheckSpec, target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult> {
  const command = options.command ?? 'ping';
  let pinger = options.command === undefined && rawNetAvailable() ? new NativePinger() : undefined;
  return (spec, target, signal) => {
    const endpoint = probeEndpoint(spec, target);
    return runAttempt(spec.timeoutMs, signal, (attempt) => {
      if (pinger !== undefined && NativePinger.supports(endpoint.host, endpoint.localAddress)) {
        attempt.stage = 'await echo reply';
        const native = pinger;
        return native.ping(endpoint.host, endpoint.localAddress, attempt.signal).then(
          () => attempt.ok(`echo reply from ${endpoint.host}`),
          (err: NodeJS.ErrnoException) => {
            if (attempt.settled) return;
            // No raw sockets for this user: ping (setuid or ping_group_range) from now on.
            if (err.code === 'EPERM' || err.code === 'EACCES') {
              pinger = undefined;
              pingOnce(attempt);
            } else attempt.failWith(err, 'send echo request');
          },
        );
      }
      pingOnce(attempt);
    });
    function pingOnce(attempt: Attempt): void {
      attempt.stage = 'await echo reply';
      // Older iputils only take whole seconds; our own timer enforces the exact limit.
      const waitSeconds = String(Math.max(1, Math.ceil(spec.timeoutMs / 1000)));
      const args = ['-n', '-c', '1', '-W', waitSeconds];
      if (endpoint.localAddress !== undefined) args.push('-I', endpoint.localAddress);
      args.push('--', endpoint.host);
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      attempt.defer(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      let stderr = '';
      child.stdout.resume();
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 1024) stderr += chunk.toString('utf8');
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') {
          attempt.fail(CODE_PING_MISSING, `${command} not found: install iputils-ping for icmp checks`);
        } else {
          attempt.failWith(err, `run ${command}`);
        }
      });
      child.on('close', (code) => {
        if (code === 0) attempt.ok(`echo reply from ${endpoint.host}`);
        else if (code === 1) attempt.fail(CODE_PING_NO_REPLY, `no echo reply from ${endpoint.host}`);
        else {
          const detail = stderr.trim().split('\n', 1)[0];
          attempt.fail(
            CODE_PING_FAILED,
            `${command} exited ${code ?? 'on a signal'}${detail ? `: ${detail}` : ''}`,
          );
        }
      });
    }
  };
}

export const icmpProbe = createIcmpProbe();
