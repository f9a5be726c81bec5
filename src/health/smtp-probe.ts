import type { CheckSpec } from '../config/model.ts';
import { HastackError } from '../core/errors.ts';
import { CODE_INVALID, runAttempt } from './probe-attempt.ts';
import { openSocket, probeEndpoint } from './probe-endpoint.ts';
import { type SmtpReply, SmtpReplyReader } from './smtp-reply.ts';
import type { ProbeResult, ProbeTarget } from './types.ts';

export type SmtpCheckSpec = Extract<CheckSpec, { type: 'smtp' }>;

export const CODE_SMTP_BANNER = 'HASTACK_CHECK_SMTP_BANNER';
export const CODE_SMTP_HELO = 'HASTACK_CHECK_SMTP_HELO';
export const CODE_SMTP_CLOSED = 'HASTACK_CHECK_SMTP_CLOSED';

/**
 * SMTP_CHECK: wait for the 220 greeting (multi-line `220-` greetings included),
 * send `HELO <helo>`, require 250, then say QUIT and close.
 */
export function smtpProbe(
  spec: SmtpCheckSpec,
  target: ProbeTarget,
  signal: AbortSignal,
): Promise<ProbeResult> {
  const endpoint = probeEndpoint(spec, target);
  return runAttempt(spec.timeoutMs, signal, async (attempt) => {
    if (spec.helo === '' || /[\r\n]/.test(spec.helo)) {
      attempt.fail(CODE_INVALID, `invalid HELO name ${JSON.stringify(spec.helo)}`);
      return;
    }
    const socket = await openSocket(endpoint, attempt);
    const reader = new SmtpReplyReader();
    let step: 'banner' | 'helo' | 'done' = 'banner';
    attempt.stage = 'read banner';

    const onReply = (reply: SmtpReply) => {
      if (step === 'banner') {
        if (reply.code !== 220) {
          attempt.fail(CODE_SMTP_BANNER, `greeting ${describe(reply)}, expected 220`);
          return;
        }
        step = 'helo';
        attempt.stage = 'read HELO reply';
        socket.write(`HELO ${spec.helo}\r\n`);
      } else if (step === 'helo') {
        if (reply.code !== 250) {
          attempt.fail(CODE_SMTP_HELO, `HELO answered ${describe(reply)}, expected 250`);
          return;
        }
        step = 'done';
        socket.end('QUIT\r\n');
        attempt.ok(`HELO accepted: ${describe(reply)}`);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (attempt.settled) return;
      let replies: SmtpReply[];
      try {
        replies = reader.feed(chunk);
      } catch (err) {
        if (err instanceof HastackError) attempt.fail(err.code, err.message);
        else attempt.failWith(err);
        return;
      }
      for (const reply of replies) {
        if (attempt.settled) return;
        onReply(reply);
      }
    });
    socket.on('end', () => {
      attempt.fail(CODE_SMTP_CLOSED, `connection closed by the server (${attempt.stage})`);
    });
  });
}

function describe(reply: SmtpReply): string {
  const text = reply.lines[0] ?? '';
  return `${reply.code} ${text.slice(0, 80)}`.trim();
}
