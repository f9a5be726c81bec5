import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeSession } from './helpers.ts';

/* Meta commands: expected replies as memcached 1.6.18 sends them for the same input. */
const CASES: [name: string, input: string, expected: string][] = [
  [
    'mg flags, miss, quiet, ms modes and errors, md',
    'ms foo 2 T90 F5\r\nhi\r\nmg foo s v t f c k O123 h l\r\nmg foo\r\nmg missing v\r\nmg missing v q k O9\r\nmg foo q v\r\nmn\r\nms foo 2 c k O1 q\r\nhi\r\nms foo 2 MX\r\nhi\r\nms foo 2 C999\r\nhi\r\nms foo 2 I\r\nhi\r\nms foo S2\r\nms foo 2 v v\r\nhi\r\nms foo 2 Z\r\nhi\r\nmd foo q\r\nmd foo\r\nmd foo q\r\nmn\r\n',
    'HD\r\nVA 2 s2 t90 f5 c1 kfoo O123 h0 l0\r\nhi\r\nHD\r\nEN\r\nVA 2\r\nhi\r\nMN\r\nCLIENT_ERROR invalid mode for ms M token\r\nEX\r\nHD\r\nCLIENT_ERROR bad command line format\r\nCLIENT_ERROR duplicate flag\r\nCLIENT_ERROR invalid flag\r\nNF\r\nNF\r\nMN\r\n',
  ],
  [
    'ma, me, base64 keys, opaque limit, vivify',
    'ma cnt\r\nma cnt N0 J10 v\r\nma cnt v\r\nma cnt MD D100 v t c\r\nma cnt MX\r\nma cnt D-1\r\nms s 1\r\nx\r\nma s\r\nme cnt\r\nme nothere\r\nmg Zm9v b k v\r\nms Zm9v 2 b\r\nab\r\nmg Zm9v b k v\r\nmg foo b\r\nmg !!! b\r\nmg foo v Oxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nmg foo v v\r\nmg\r\nmg foo N30 v t c\r\nmg foo N30 v t\r\nmg foo R30 v t\r\n',
    'NF\r\nVA 2\r\n10\r\nVA 2\r\n11\r\nVA 1 t-1 c3\r\n0\r\nCLIENT_ERROR invalid mode for ma M token\r\nCLIENT_ERROR invalid or duplicate flag\r\nHD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nME cnt exp=-1 la=0 cas=3 fetch=no cls=1 size=47\r\nEN\r\nEN kZm9v b\r\nHD\r\nVA 2 kZm9v b\r\nab\r\nCLIENT_ERROR error decoding key\r\nCLIENT_ERROR error decoding key\r\nCLIENT_ERROR opaque token too long\r\nCLIENT_ERROR duplicate flag\r\nERROR\r\nVA 2 t-1 c5\r\nab\r\nVA 2 t-1\r\nab\r\nVA 2 t-1\r\nab\r\n',
  ],
  [
    'stale-while-revalidate: R win, md I, ms C I',
    'ms k 1 T100\r\na\r\nmg k R200 v c\r\nmg k R200 v\r\nmd k I T30\r\nmg k v c t\r\nmg k v c\r\nms k 1 C1 I\r\nb\r\nmg k v c\r\nmx k\r\nm\r\nmgg k\r\nmg k u v h l\r\nmg k T50 t v\r\nme k\r\n',
    'HD\r\nVA 1 c1 W\r\na\r\nVA 1 Z\r\na\r\nHD\r\nVA 1 c2 t30 X W\r\na\r\nVA 1 c2 Z X\r\na\r\nHD\r\nVA 1 c3 Z X\r\nb\r\nERROR\r\nERROR\r\nERROR\r\nVA 1 h1 l0 Z X\r\nb\r\nVA 1 t50 Z X\r\nb\r\nME k exp=-50 la=0 cas=3 fetch=yes cls=1 size=44\r\n',
  ],
  [
    'ms append/prepend/add/replace modes',
    'ms a 3 T0 F1 c\r\nabc\r\nmg a c f s t v\r\nms a 3 MA\r\ndef\r\nmg a v\r\nms a 2 MP\r\n__\r\nmg a v\r\nms nope 1 MA\r\nx\r\nms nope 1 MR\r\nx\r\nms nope 1 ME\r\nx\r\nms nope 1 ME\r\ny\r\nmg nope v\r\n',
    'HD c1\r\nVA 3 c1 f1 s3 t-1\r\nabc\r\nHD\r\nVA 6\r\nabcdef\r\nHD\r\nVA 8\r\n__abcdef\r\nNS\r\nNS\r\nHD\r\nNS\r\nVA 1\r\nx\r\n',
  ],
  [
    'md with CAS, quiet and opaque',
    'ms a 1 C0\r\nx\r\nms a 1 T-1\r\nx\r\nmg a v\r\nms a 1\r\nx\r\nmd a C999\r\nmd a q O5 k\r\nmd a q O5 k\r\nmn\r\n',
    'NF\r\nHD\r\nEN\r\nHD\r\nEX\r\nNF O5 ka\r\nMN\r\n',
  ],
  [
    'ma quiet and modes',
    'ma n q\r\nma n N0 q\r\nma n q D5\r\nma n v\r\nma n O1 k v t\r\nma n MI M+\r\nma n C1\r\nmn\r\n',
    'NF\r\nHD\r\nVA 1\r\n6\r\nVA 1 O1 kn t-1\r\n7\r\nCLIENT_ERROR invalid or duplicate flag\r\nEX\r\nMN\r\n',
  ],
  [
    'newer flags: E sets the CAS, md x empties the value',
    'ms e 1 E12345\r\nx\r\nmg e c v\r\nmd e x\r\nmg e v s f\r\n',
    'HD\r\nVA 1 c12345\r\nx\r\nHD\r\nVA 0 s0 f0\r\n\r\n',
  ],
];

describe('meta protocol', () => {
  for (const [name, input, expected] of CASES) {
    it(name, () => {
      const { send } = makeSession();
      assert.equal(send(input), expected);
    });
  }

  it('mg N creates a stub item and hands out one win (dog-pile protection)', () => {
    const { send } = makeSession();
    assert.equal(send('mg hot N30 v t\r\n'), 'VA 0 t30 W\r\n\r\n');
    assert.equal(send('mg hot N30 v\r\n'), 'VA 0 Z\r\n\r\n');
    assert.equal(send('ms hot 2 T60\r\nok\r\nmg hot v\r\n'), 'HD\r\nVA 2\r\nok\r\n');
  });

  it('too large and bad data chunk are answered even with q', () => {
    const { send } = makeSession();
    assert.equal(
      send(`ms a 2000000 q\r\n${'x'.repeat(2_000_000)}\r\nmn\r\n`),
      'SERVER_ERROR object too large for cache\r\nMN\r\n',
    );
    assert.equal(send('ms a 1 q\r\nxy\r\n'), 'CLIENT_ERROR bad data chunk\r\nERROR\r\n');
  });
});
