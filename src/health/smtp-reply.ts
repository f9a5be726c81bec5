import { HastackError } from '../core/errors.ts';

export const CODE_SMTP_BAD_REPLY = 'HASTACK_CHECK_SMTP_BAD_REPLY';

export interface SmtpReply {
  code: number;
  /** Text of each line without the code and separator. */
  lines: string[];
}

const MAX_LINE_BYTES = 4096;
const MAX_REPLY_LINES = 100;
const REPLY_LINE = /^(\d{3})([ -]|$)(.*)$/;

/**
 * Splits what an SMTP server sends into replies (RFC 5321 §4.2): `250-first`,
 * `250-more`, `250 last`. Anything that is not a reply line throws
 * HASTACK_CHECK_SMTP_BAD_REPLY. Pure: no I/O.
 */
export class SmtpReplyReader {
  #partial = '';
  #lines: string[] = [];
  #code: number | undefined;

  /** Feeds bytes and returns the replies they completed (usually zero or one). */
  feed(chunk: Buffer): SmtpReply[] {
    const replies: SmtpReply[] = [];
    let text = this.#partial + chunk.toString('latin1');
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      const line = text.slice(0, newline).replace(/\r$/, '');
      text = text.slice(newline + 1);
      const reply = this.#line(line);
      if (reply !== undefined) replies.push(reply);
      newline = text.indexOf('\n');
    }
    if (text.length > MAX_LINE_BYTES) throw new HastackError(CODE_SMTP_BAD_REPLY, 'reply line too long');
    this.#partial = text;
    return replies;
  }

  #line(line: string): SmtpReply | undefined {
    const match = REPLY_LINE.exec(line);
    if (match === null) {
      throw new HastackError(CODE_SMTP_BAD_REPLY, `not an SMTP reply: ${JSON.stringify(line.slice(0, 80))}`);
    }
    const code = Number(match[1]);
    if (this.#code !== undefined && code !== this.#code) {
      throw new HastackError(
        CODE_SMTP_BAD_REPLY,
        `reply code changed from ${this.#code} to ${code} mid-reply`,
      );
    }
    this.#code = code;
    this.#lines.push(match[3]!);
    if (match[2] === '-') {
      if (this.#lines.length >= MAX_REPLY_LINES)
        throw new HastackError(CODE_SMTP_BAD_REPLY, 'reply has too many lines');
      return undefined;
    }
    const reply = { code, lines: this.#lines };
    this.#lines = [];
    this.#code = undefined;
    return reply;
  }
}
