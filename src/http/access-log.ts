/*
 * Access log lines: nginx's "combined" format or one JSON object per request.
 * Formatting is pure; the writer batches lines and appends them with one write
 * per batch (O_APPEND keeps lines from worker threads whole).
 */

export interface AccessLogEntry {
  remoteAddr: string;
  /** Wall-clock ms when the request started. */
  time: number;
  method: string;
  target: string;
  protocol: string;
  status: number;
  bytesSent: number;
  referer: string;
  userAgent: string;
  host: string;
  listener: string;
  route: string;
  /** host:port of the last upstream tried, or ''. */
  upstream: string;
  /** Seconds. */
  duration: number;
  /** Upstream attempts beyond the first. */
  retries: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** nginx's $time_local, in UTC: "10/Oct/2000:13:55:36 +0000". */
export function timeLocal(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Like nginx's escaping: '"', '\\', control and non-ASCII bytes as \xHH. */
function quoted(s: string): string {
  if (s === '') return '"-"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c === 0x22 || c === 0x5c || c < 0x20 || c >= 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : s[i];
  }
  return `${out}"`;
}

/** `$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"` */
export function formatCombined(e: AccessLogEntry): string {
  return `${e.remoteAddr} - - [${timeLocal(e.time)}] ${quoted(`${e.method} ${e.target} ${e.protocol}`)} ${e.status} ${e.bytesSent} ${quoted(e.referer)} ${quoted(e.userAgent)}\n`;
}

export function formatJson(e: AccessLogEntry): string {
  return `${JSON.stringify({
    time: new Date(e.time).toISOString(),
    remote_addr: e.remoteAddr,
    method: e.method,
    target: e.target,
    protocol: e.protocol,
    status: e.status,
    bytes_sent: e.bytesSent,
    referer: e.referer || undefined,
    user_agent: e.userAgent || undefined,
    host: e.host,
    listener: e.listener,
    route: e.route,
    upstream: e.upstream || undefined,
    duration_ms: Math.round(e.duration * 1e6) / 1e3,
    retries: e.retries,
  })}\n`;
}
