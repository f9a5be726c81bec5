import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOSE_AFTER_WRITE, CLOSE_NOW } from '../../../src/memcache/protocol-session.ts';
import { makeSession } from './helpers.ts';

/*
 * Exact replies of the text protocol; the expected strings were taken from
 * memcached 1.6.18 given the same input (see also the differential test).
 */
const CASES: [name: string, input: string, expected: string][] = [
  ['set/get', 'set a 5 0 3\r\nabc\r\nget a\r\n', 'STORED\r\nVALUE a 5 3\r\nabc\r\nEND\r\n'],
  ['gets shows cas', 'set a 0 0 1\r\nx\r\ngets a\r\n', 'STORED\r\nVALUE a 0 1 1\r\nx\r\nEND\r\n'],
  ['multi-get skips misses', 'set b 1 0 1\r\nB\r\nget a b c\r\n', 'STORED\r\nVALUE b 1 1\r\nB\r\nEND\r\n'],
  [
    'incr/decr rules',
    'set n 0 0 2\r\n10\r\ndecr n 3\r\nget n\r\nincr n 18446744073709551615\r\nincr n x\r\nincr n -1\r\nset s 0 0 2\r\nab\r\nincr s 1\r\nset sp 0 0 3\r\n 12\r\nincr sp 1\r\nincr nope 1\r\nset e 0 0 0\r\n\r\nincr e 1\r\n',
    'STORED\r\n7\r\nVALUE n 0 2\r\n7 \r\nEND\r\n6\r\nCLIENT_ERROR invalid numeric delta argument\r\nCLIENT_ERROR invalid numeric delta argument\r\nSTORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nSTORED\r\n13\r\nNOT_FOUND\r\nSTORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n',
  ],
  [
    'bad data chunk, no swallow',
    'set big 0 0 2\r\nabcd\r\nget big\r\n',
    'CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n',
  ],
  [
    'syntax errors',
    'set  x  0 0 1 \r\nb\r\nget x\r\nGET x\r\nget\r\ng\r\n\r\nset x 0 0\r\nset x 0 0 -1\r\nset x abc 0 1\r\nset x 0 0 1 noreply extra\r\n',
    'STORED\r\nVALUE x 0 1\r\nb\r\nEND\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nCLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n',
  ],
  [
    'storage, cas, touch, delete, admin',
    'append nokey 0 0 1\r\na\r\nset a 7 0 1\r\na\r\nappend a 9 0 1\r\nb\r\ngets a\r\ncas a 0 0 1 999\r\nc\r\ncas zz 0 0 1 1\r\nc\r\ntouch a 10\r\ntouch zz 10\r\ndelete a 0\r\ndelete a 5\r\ndelete a noreply\r\ndelete a\r\nverbosity\r\nverbosity 1\r\nverbosity 1 noreply\r\nflush_all 0\r\nflush_all -1\r\nflush_all x\r\n',
    'NOT_STORED\r\nSTORED\r\nSTORED\r\nVALUE a 7 2 2\r\nab\r\nEND\r\nEXISTS\r\nNOT_FOUND\r\nTOUCHED\r\nNOT_FOUND\r\nDELETED\r\nCLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\nNOT_FOUND\r\nERROR\r\nOK\r\nOK\r\nOK\r\nCLIENT_ERROR invalid exptime argument\r\n',
  ],
  [
    'number parsing as strtol/strtoul',
    'set a 4294967295 0 1\r\na\r\nget a\r\nset a 4294967296 0 1\r\na\r\nset a -1 0 1\r\na\r\nset a 0 2147483648 1\r\na\r\nset a 0 -2147483649 1\r\na\r\nset a 0 0 1\t\r\na\r\nset a +5 0 1\r\na\r\nget a\r\nset a 0 0 01\r\na\r\nset a 1x 0 1\r\n',
    'STORED\r\nVALUE a 4294967295 1\r\na\r\nEND\r\nSTORED\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nVALUE a 5 1\r\na\r\nEND\r\nSTORED\r\nCLIENT_ERROR bad command line format\r\n',
  ],
  [
    'gat/gats and exptime errors',
    'set n 0 0 1\r\n0\r\ntouch n abc\r\ngat abc n\r\ngat 0\r\ngats 0 n\r\n',
    'STORED\r\nCLIENT_ERROR invalid exptime argument\r\nCLIENT_ERROR invalid exptime argument\r\nEND\r\nVALUE n 0 1 1\r\n0\r\nEND\r\n',
  ],
  [
    'cas syntax',
    'cas a 0 0 1\r\ncas a 0 0 1 abc\r\ncas a 0 0 1 -1\r\na\r\nset x 0 0 1 norepl\r\nb\r\n',
    'ERROR\r\nCLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nSTORED\r\n',
  ],
  [
    'noreply everywhere it is allowed',
    'set k 0 0 5 noreply\r\nhello\r\nadd k 0 0 1 noreply\r\nx\r\nreplace zz 0 0 1 noreply\r\nx\r\nprepend k 0 0 1\r\n<\r\nappend k 0 0 1\r\n>\r\nget k\r\nincr k 1 noreply\r\ndecr k 1 noreply\r\ntouch k 1 noreply\r\nflush_all noreply\r\nverbosity 0 noreply\r\ncache_memlimit 100 noreply\r\nmn\r\n',
    'STORED\r\nSTORED\r\nVALUE k 0 7\r\n<hello>\r\nEND\r\nMN\r\n',
  ],
  [
    'wrong token counts',
    'incr\r\ndecr a\r\ntouch a\r\ntouch a 1 2 3\r\ndelete\r\ndelete a b c d\r\nverbosity 1 2 3\r\nflush_all 1 2 3\r\n',
    'ERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\n',
  ],
  [
    'key length limit',
    `get ${'k'.repeat(251)}\r\nset ${'k'.repeat(251)} 0 0 1\r\nx\r\nget ${'k'.repeat(250)}\r\n`,
    'CLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nEND\r\n',
  ],
  [
    'control characters in keys are accepted, as memcached does',
    'set k\x10y 0 0 1\r\nx\r\nget k\x10y\r\n',
    'STORED\r\nVALUE k\x10y 0 1\r\nx\r\nEND\r\n',
  ],
  [
    'stats subcommands and errors',
    'stats detail\r\nstats detail on\r\nstats detail foo\r\nstats foo\r\nstats reset\r\nstats cachedump 1\r\nstats sizes\r\n',
    'CLIENT_ERROR usage: stats detail on|off|dump\r\nOK\r\nCLIENT_ERROR usage: stats detail on|off|dump\r\nERROR\r\nRESET\r\nCLIENT_ERROR bad command line\r\nSTAT sizes_status disabled\r\nEND\r\n',
  ],
  [
    'admin commands',
    'slabs\r\nslabs automove 1\r\nlru_crawler crawl all\r\nlru_crawler foo\r\nlru tune 10 20 0.1 2\r\nlru tune 50 50 0.1 2\r\nlru foo\r\nshutdown\r\ncache_memlimit\r\ncache_memlimit 4\r\ncache_memlimit 100\r\ncache_memlimit abc\r\n',
    'ERROR\r\nOK\r\nOK\r\nERROR\r\nOK\r\nERROR hot and warm pcts must not exceed 80\r\nERROR\r\nERROR: shutdown not enabled\r\nERROR\r\nMEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\nOK\r\nERROR\r\n',
  ],
  [
    'verbosity/cache_memlimit argument errors',
    'verbosity x\r\nverbosity x noreply\r\nverbosity 9\r\ncache_memlimit 4 noreply\r\ncache_memlimit abc noreply\r\ncache_memlimit 2000000000\r\nlru tune x 1 1 1\r\nlru tune 1 1 0 1\r\n',
    'CLIENT_ERROR bad command line format\r\nOK\r\nMEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\nERROR\r\nERROR hot/warm age factors must be greater than 0\r\n',
  ],
  ['version', 'version\r\n', 'VERSION 1.6.18-hastack\r\n'],
  ['LF-only line endings', 'set a 0 0 1\nx\r\nget a\n', 'STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n'],
  [
    'too large: error, data swallowed',
    `set big 0 0 2000000\r\n${'x'.repeat(2_000_000)}\r\nmn\r\n`,
    'SERVER_ERROR object too large for cache\r\nMN\r\n',
  ],
];

describe('text protocol', () => {
  for (const [name, input, expected] of CASES) {
    it(name, () => {
      const { send } = makeSession();
      assert.equal(send(input), expected);
    });
  }

  it('a failed set removes the old value (memcached unlinks it)', () => {
    const { send } = makeSession();
    assert.equal(send('set a 0 0 1\r\nx\r\n'), 'STORED\r\n');
    assert.equal(
      send(`set a 0 0 2000000\r\n${'y'.repeat(2_000_000)}\r\nget a\r\n`),
      'SERVER_ERROR object too large for cache\r\nEND\r\n',
    );
  });

  it('quit closes after the replies queued before it', () => {
    const { send, session } = makeSession();
    assert.equal(send('get a\r\nquit\r\nget b\r\n'), 'END\r\n');
    assert.equal(session.closing, CLOSE_AFTER_WRITE);
  });

  it('an HTTP request closes the connection without a reply', () => {
    const { send, session } = makeSession();
    send('GET / HTTP/1.1\r\n');
    assert.equal(session.closing, CLOSE_NOW);
  });

  it('a line without newline past 2048 bytes closes the connection, unless it is a get', () => {
    const a = makeSession();
    a.send('x'.repeat(3000));
    assert.equal(a.session.closing, CLOSE_NOW);
    const b = makeSession();
    b.send(`get ${'k '.repeat(2000)}`);
    assert.equal(b.session.closing, 0);
    assert.equal(b.send('\r\n'), 'END\r\n');
  });

  it('pipelines many requests in one feed and answers in order', () => {
    const { send } = makeSession();
    let input = '';
    let expected = '';
    for (let i = 0; i < 500; i++) {
      input += `set k${i} ${i} 0 ${String(i).length}\r\n${i}\r\nget k${i}\r\n`;
      expected += `STORED\r\nVALUE k${i} ${i} ${String(i).length}\r\n${i}\r\nEND\r\n`;
    }
    assert.equal(send(input), expected);
  });

  it('pauses a multi-get at the output limit and resumes where it stopped', () => {
    const { send, session } = makeSession({}, { outputLimit: 64 * 1024 });
    const value = 'v'.repeat(10_000);
    let keys = '';
    for (let i = 0; i < 30; i++) {
      send(`set k${i} 0 0 ${value.length}\r\n${value}\r\n`);
      keys += ` k${i}`;
    }
    session.feed(Buffer.from(`get${keys}\r\nmn\r\n`), 0, `get${keys}\r\nmn\r\n`.length);
    assert.ok(session.runnable, 'paused at the limit');
    assert.ok(session.out.length < 64 * 1024 + 20_000);
    let all = session.out.takeAll().toString('latin1');
    while (session.runnable) {
      session.resume();
      all += session.out.takeAll().toString('latin1');
    }
    assert.equal((all.match(/VALUE /g) ?? []).length, 30);
    assert.ok(all.endsWith('END\r\nMN\r\n'));
  });

  it('yields after reqs_per_event requests', () => {
    const { session, store } = makeSession({}, { reqsPerEvent: 3 });
    const input = Buffer.from('mn\r\nmn\r\nmn\r\nmn\r\nmn\r\n');
    assert.equal(session.feed(input, 0, input.length), false);
    assert.equal(session.out.takeAll().toString(), 'MN\r\nMN\r\nMN\r\n');
    assert.equal(session.resume(), true);
    assert.equal(session.out.takeAll().toString(), 'MN\r\nMN\r\n');
    assert.equal(store.currItems, 0);
  });

  it('stats reports the keys monitoring tools read', () => {
    const { send } = makeSession();
    const stats = send('stats\r\n');
    for (const key of [
      'pid',
      'uptime',
      'time',
      'version',
      'rusage_user',
      'rusage_system',
      'curr_connections',
      'total_connections',
      'cmd_get',
      'cmd_set',
      'cmd_flush',
      'cmd_touch',
      'get_hits',
      'get_misses',
      'get_expired',
      'delete_hits',
      'delete_misses',
      'incr_hits',
      'incr_misses',
      'decr_hits',
      'decr_misses',
      'cas_hits',
      'cas_misses',
      'cas_badval',
      'touch_hits',
      'touch_misses',
      'bytes_read',
      'bytes_written',
      'limit_maxbytes',
      'bytes',
      'curr_items',
      'total_items',
      'evictions',
      'reclaimed',
      'threads',
      'max_connections',
      'rejected_connections',
    ])
      assert.match(stats, new RegExp(`^STAT ${key} \\S+\\r$`, 'm'), key);
    assert.ok(stats.endsWith('END\r\n'));
    const settings = send('stats settings\r\n');
    for (const key of [
      'maxbytes',
      'maxconns',
      'tcpport',
      'item_size_max',
      'evictions',
      'growth_factor',
      'lru_segmented',
    ])
      assert.match(settings, new RegExp(`^STAT ${key} \\S+\\r$`, 'm'), key);
    send('set a 0 0 1\r\nx\r\nget a\r\n');
    assert.match(send('stats items\r\n'), /^STAT items:1:number 1\r$/m);
    const slabs = send('stats slabs\r\n');
    assert.match(slabs, /^STAT 1:chunk_size 88\r$/m);
    assert.match(slabs, /^STAT 1:used_chunks 1\r$/m);
    assert.match(slabs, /^STAT total_malloced 1048576\r$/m);
    assert.match(send('stats conns\r\n'), /STAT 0:state conn_listening/);
  });
});
