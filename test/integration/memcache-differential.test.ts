import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../helpers/free-port.ts';
import { exchange, requireTool, startMemcache } from './memcache-helpers.ts';

/*
 * The same request streams to the real memcached (Debian's, 1.6.x) and to
 * hastack, one fresh connection each, in the same order on both: the replies
 * must be byte-identical (CAS values included). Known, documented differences
 * are normalized: the `size=` of `me` (hastack's item header is smaller).
 */
const CORPUS = [
  'set n 0 0 2\r\n10\r\ndecr n 3\r\nget n\r\nincr n 18446744073709551615\r\nincr n x\r\nincr n -1\r\nset s 0 0 2\r\nab\r\nincr s 1\r\nset sp 0 0 3\r\n 12\r\nincr sp 1\r\nincr nope 1\r\nset e 0 0 0\r\n\r\nincr e 1\r\n',
  'set big 0 0 2\r\nabcd\r\nget big\r\n',
  'set  x  0 0 1 \r\nb\r\nget x\r\nGET x\r\nget\r\ng\r\n\r\nset x 0 0\r\nset x 0 0 -1\r\nset x abc 0 1\r\nset x 0 0 1 noreply extra\r\n',
  'append nokey 0 0 1\r\na\r\nset a 7 0 1\r\na\r\nappend a 9 0 1\r\nb\r\ngets a\r\ncas a 0 0 1 999\r\nc\r\ncas zz 0 0 1 1\r\nc\r\ntouch a 10\r\ntouch zz 10\r\ndelete a 0\r\ndelete a 5\r\ndelete a noreply\r\ndelete a\r\nverbosity\r\nverbosity 1\r\nverbosity 1 noreply\r\nflush_all 0\r\nflush_all -1\r\nflush_all x\r\n',
  'set a 4294967295 0 1\r\na\r\nget a\r\nset a 4294967296 0 1\r\na\r\nset a -1 0 1\r\na\r\nset a 0 2147483648 1\r\na\r\nset a 0 -2147483649 1\r\na\r\nset a 0 0 1\t\r\na\r\nset a +5 0 1\r\na\r\nget a\r\nset a 0 0 01\r\na\r\nset a 1x 0 1\r\n',
  'incr a 18446744073709551616\r\nset n 0 0 20\r\n18446744073709551615\r\nincr n 1\r\nget n\r\nset m 0 0 2\r\n-1\r\nincr m 1\r\nset m 0 0 20\r\n-9223372036854775808\r\nincr m 1\r\nset m 0 0 2\r\n+4\r\nincr m 1\r\ntouch n abc\r\ngat abc n\r\ngat 0\r\ngats 0 n\r\n',
  'set a 0 0 1\r\nab\r\nget a\r\nset b 0 0 1\r\na\rget b\r\n',
  'cas a 0 0 1\r\ncas a 0 0 1 abc\r\ncas a 0 0 1 -1\r\na\r\nget a\r\nset x 0 0 1 norepl\r\nb\r\nmn\r\n',
  'ms foo 2 T90 F5\r\nhi\r\nmg foo s v t f c k O123 h l\r\nmg foo\r\nmg missing v\r\nmg missing v q k O9\r\nmg foo q v\r\nmn\r\nms foo 2 c k O1 q\r\nhi\r\nms foo 2 MX\r\nhi\r\nms foo 2 C999\r\nhi\r\nms foo 2 I\r\nhi\r\nms foo S2\r\nms foo 2 v v\r\nhi\r\nms foo 2 Z\r\nhi\r\nmd foo q\r\nmd foo\r\nmd foo q\r\nmn\r\n',
  'ma cnt\r\nma cnt N0 J10 v\r\nma cnt v\r\nma cnt MD D100 v t c\r\nma cnt MX\r\nma cnt D-1\r\nms s 1\r\nx\r\nma s\r\nme cnt\r\nme nothere\r\nmg Zm9v b k v\r\nms Zm9v 2 b\r\nab\r\nmg Zm9v b k v\r\nmg foo b\r\nmg !!! b\r\nmg foo v Oxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nmg foo v v\r\nmg\r\nmg foo N30 v t c\r\nmg foo N30 v t\r\nmg foo R30 v t\r\n',
  'ms k 1 T100\r\na\r\nmg k R200 v c\r\nmg k R200 v\r\nmd k I T30\r\nmg k v c t\r\nmg k v c\r\nms k 1 C1 I\r\nb\r\nmg k v c\r\nmx k\r\nm\r\nmgg k\r\nmg k u v h l\r\nmg k T50 t v\r\nme k\r\n',
  'get a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g\r\nset z 0 0 1\r\n1\r\nget a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g\r\n',
  'stats detail\r\nstats detail on\r\nstats detail foo\r\nstats foo\r\nstats reset\r\nstats cachedump 1\r\n',
  'slabs\r\nslabs automove 1\r\nlru_crawler foo\r\nlru tune 10 20 0.1 2\r\nlru tune 50 50 0.1 2\r\nlru foo\r\nshutdown\r\ncache_memlimit\r\ncache_memlimit 4\r\ncache_memlimit 100\r\ncache_memlimit 100 noreply\r\ncache_memlimit abc\r\nmn\r\n',
  'get a\r\nquit\r\nget b\r\n',
  'set k 0 0 5 noreply\r\nhello\r\nadd k 0 0 1 noreply\r\nx\r\nreplace zz 0 0 1 noreply\r\nx\r\nprepend k 0 0 1\r\n<\r\nappend k 0 0 1\r\n>\r\nget k\r\nincr k 1 noreply\r\ndecr k 1 noreply\r\ntouch k 1 noreply\r\nmn\r\n',
  'incr\r\ndecr a\r\ntouch a\r\ntouch a 1 2 3\r\ndelete\r\ndelete a b c d\r\nverbosity 1 2 3\r\nflush_all 1 2 3\r\nmn\r\n',
  'ms a 3 T0 F1 c\r\nabc\r\nmg a c f s t v\r\nms a 3 MA\r\ndef\r\nmg a v\r\nms a 2 MP\r\n__\r\nmg a v\r\nms nope 1 MA\r\nx\r\nms nope 1 MR\r\nx\r\nms nope 1 ME\r\nx\r\nms nope 1 ME\r\ny\r\nmg nope v\r\n',
  'ms a 1 C0\r\nx\r\nms a 1 T-1\r\nx\r\nmg a v\r\nmd a C1\r\nmd a\r\nms a 1 Ttt\r\nx\r\nmd a q O5 k\r\nmd a q O5 k\r\nmn\r\n',
  'ma n q\r\nma n N0 q\r\nma n q D5\r\nma n v\r\nma n O1 k v t\r\nma n MI M+\r\nma n C1\r\nmn\r\n',
  'set a 0 0 1\r\n1\r\ngets a\r\nflush_all\r\ngets a\r\nset a 0 0 1\r\n2\r\ngets a\r\nmn\r\n',
];

function normalize(text: string): string {
  return text.replace(/( cls=\d+) size=\d+/g, '$1 size=N');
}

describe('differential: hastack vs memcached', () => {
  it('byte-identical replies on the protocol corpus', async (t) => {
    const memcached = requireTool(t, 'memcached', 'memcached');
    if (memcached === undefined) return;
    const port = await freePort();
    const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-t', '1', '-m', '64'];
    if (process.getuid?.() === 0) args.push('-u', 'root');
    const child = spawn(memcached, args, { stdio: 'ignore' });
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) break;
      await sleep(50);
    }
    const hastack = await startMemcache(t);
    const mark = 'mn\r\n';
    for (const input of CORPUS) {
      // A trailing mn fences the replies: wait for as many MN as the stream has mn (quit closes instead).
      const fences = (input + mark).split('mn\r\n').length - 1;
      const until = (s: string) => s.split('MN\r\n').length - 1 >= fences;
      const [a, b] = await Promise.all([
        exchange(port, input + mark, until, 2000),
        exchange(hastack.port, input + mark, until, 2000),
      ]);
      assert.equal(normalize(b.text), normalize(a.text), `input: ${JSON.stringify(input)}`);
    }
  });
});
