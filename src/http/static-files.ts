import { createReadStream, type ReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { headerValue } from './router.ts';
import { decodePathForFiles } from './url-path.ts';

/*
 * The `static` route action: files under a root directory (nginx `root`, or
 * `alias` with strip_prefix), GET and HEAD only, an index file for directories,
 * Last-Modified/ETag with conditional 304s. Small files are read whole; large
 * ones are streamed.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.xml': 'application/xml',
};

/** Files up to this size are read into memory in one go. */
const WHOLE_FILE_LIMIT = 256 * 1024;

export interface StaticAnswer {
  status: number;
  headers: string[];
  body?: Buffer;
  stream?: ReadStream;
  contentLength: number;
}

export interface StaticTarget {
  root: string;
  index: string;
  /** Route prefix to strip (alias semantics), or ''. */
  prefix: string;
}

function plain(status: number, text: string): StaticAnswer {
  const body = Buffer.from(text);
  return { status, headers: ['content-type', 'text/plain; charset=utf-8'], body, contentLength: body.length };
}

export async function serveStatic(
  target: StaticTarget,
  method: string,
  path: string,
  requestHeaders: readonly string[],
): Promise<StaticAnswer> {
  if (method !== 'GET' && method !== 'HEAD') {
    const a = plain(405, '405 Method Not Allowed\n');
    a.headers.push('allow', 'GET, HEAD');
    return a;
  }
  let rel = path;
  if (target.prefix !== '' && rel.startsWith(target.prefix)) rel = `/${rel.slice(target.prefix.length)}`;
  const decoded = decodePathForFiles(rel);
  if (decoded === undefined || decoded.includes('\0') || decoded.split('/').includes('..'))
    return plain(400, '400 Bad Request\n');
  let file = join(target.root, decoded);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
    if (info.isDirectory()) {
      if (!path.endsWith('/')) {
        const a = plain(301, '301 Moved Permanently\n');
        a.headers.push('location', `${path}/`);
        return a;
      }
      file = join(file, target.index);
      info = await stat(file);
    }
    if (!info.isFile()) return plain(404, '404 Not Found\n');
  } catch {
    return plain(404, '404 Not Found\n');
  }
  const mtime = new Date(Math.floor(info.mtimeMs / 1000) * 1000);
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers = [
    'content-type',
    TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'last-modified',
    mtime.toUTCString(),
    'etag',
    etag,
  ];
  const inm = headerValue(requestHeaders, 'if-none-match');
  const ims = headerValue(requestHeaders, 'if-modified-since');
  const notModified =
    inm !== undefined
      ? inm.split(',').some((t) => t.trim() === etag || t.trim() === '*' || t.trim() === etag.slice(2))
      : ims !== undefined && !Number.isNaN(Date.parse(ims)) && Date.parse(ims) >= mtime.getTime();
  if (notModified) return { status: 304, headers, contentLength: -1 };
  if (method === 'HEAD') return { status: 200, headers, contentLength: info.size };
  if (info.size <= WHOLE_FILE_LIMIT) {
    try {
      const body = await readFile(file);
      return { status: 200, headers, body, contentLength: body.length };
    } catch {
      return plain(404, '404 Not Found\n');
    }
  }
  return {
    status: 200,
    headers,
    stream: createReadStream(file, { highWaterMark: 64 * 1024 }),
    contentLength: info.size,
  };
}
