// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is keepalived syntax under test, not a template.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/config-error.ts';
import { seededRandom } from '../../../src/core/clock.ts';
import { decomment, tokenize } from '../../../src/keepalived/lexer.ts';

const F = '/etc/keepalived/keepalived.conf';

/** Words per logical line, braces included, e.g. [['a', 'b', '{'], ['}']]. */
function lines(text: string, instanceId?: string): string[][] {
  const out: string[][] = [];
  let last = -1;
  for (const t of tokenize(text, F, instanceId === undefined ? {} : { instanceId })) {
    if (t.stmt !== last) out.push([]);
    last = t.stmt;
    out[out.length - 1]!.push(t.text);
  }
  return out;
}

function syntaxErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'HASTACK_KEEPALIVED_SYNTAX');
    return err;
  }
  assert.fail('expected a syntax error');
}

describe('keepalived lexer', () => {
  it('strips # and ! comments anywhere on a line, but not inside quotes', () => {
    assert.deepEqual(lines('! header\n# another\nweight 3 # trailing\nlb_algo rr! glued\n'), [
      ['weight', '3'],
      ['lb_algo', 'rr'],
    ]);
    assert.deepEqual(lines('misc_path "/bin/check #1 !important"'), [
      ['misc_path', '/bin/check #1 !important'],
    ]);
    assert.deepEqual(lines("notify_up '/bin/x # y'"), [['notify_up', '/bin/x # y']]);
    assert.deepEqual(lines('name a\\#b\\!c'), [['name', 'a#b!c']]);
  });

  it('records file and line for each token, counting blank and comment lines', () => {
    const tokens = tokenize('\n# c\n\nvirtual_server 10.0.0.1 80 {\n}\n', F);
    assert.deepEqual(
      tokens.map((t) => [t.text, t.line, t.file]),
      [
        ['virtual_server', 4, F],
        ['10.0.0.1', 4, F],
        ['80', 4, F],
        ['{', 4, F],
        ['}', 5, F],
      ],
    );
  });

  it('makes braces tokens of their own even when glued to words', () => {
    assert.deepEqual(lines('real_server 10.0.0.2 80{weight 2}'), [
      ['real_server', '10.0.0.2', '80', '{', 'weight', '2', '}'],
    ]);
    const kinds = tokenize('url{path /}', F).map((t) => t.kind);
    assert.deepEqual(kinds, ['word', 'open', 'word', 'word', 'close']);
    // Quoted braces are text.
    assert.deepEqual(lines('regex "a{2}"'), [['regex', 'a{2}']]);
  });

  it('joins quoted and unquoted parts into one word and keeps inner blanks', () => {
    assert.deepEqual(lines('x abcd" efg h jkl "mnop'), [['x', 'abcd efg h jkl mnop']]);
    assert.deepEqual(lines('x abcd "efg h jkl" mnop'), [['x', 'abcd', 'efg h jkl', 'mnop']]);
    assert.deepEqual(lines('x "" \'\''), [['x', '', '']]);
    assert.deepEqual(lines('x "it\'s" \'say "hi"\''), [['x', "it's", 'say "hi"']]);
  });

  it('handles shell-like escapes', () => {
    assert.deepEqual(lines('x "a\\tb" \\x41\\102 "\\"q\\"" \\cA \\\\ \\z'), [
      ['x', 'a\tb', 'AB', '"q"', '\x01', '\\', 'z'],
    ]);
  });

  it('selects @ID lines by the instance id, and @^ID lines when it differs', () => {
    const text = '@lb1 priority 200\n@lb2 priority 100\n@^lb1 state BACKUP\n@lb1\nplain 1\n';
    assert.deepEqual(lines(text, 'lb1'), [
      ['priority', '200'],
      ['plain', '1'],
    ]);
    assert.deepEqual(lines(text, 'lb2'), [
      ['priority', '100'],
      ['state', 'BACKUP'],
      ['plain', '1'],
    ]);
    // Without an id every @ID line is skipped and every @^ID line kept.
    assert.deepEqual(lines(text), [
      ['state', 'BACKUP'],
      ['plain', '1'],
    ]);
  });

  it('defines $NAME=value and substitutes $NAME and ${NAME}; undefined references stay', () => {
    const text = [
      '$BASE=10.2.${SUB}',
      '$SUB=0',
      'ip ${BASE}.100/32',
      '$SUB=10',
      'ip ${BASE}.100/32',
      'port $PORT',
      '$PORT=8080',
      'port $PORT',
      'glued $PORTx ${PORT}x',
      'script "$HOME/bin ${UNDEF}"',
    ].join('\n');
    assert.deepEqual(lines(text), [
      ['ip', '10.2.0.100/32'],
      ['ip', '10.2.10.100/32'],
      ['port', '$PORT'],
      ['port', '8080'],
      ['glued', '$PORTx', '8080x'],
      ['script', '$HOME/bin ${UNDEF}'],
    ]);
  });

  it('lets substitutions and conditionals work together', () => {
    const text = '@main $PRIO=240\n@backup $PRIO=200\npriority $PRIO\n$IF_MAIN=@main\n$IF_MAIN weight 5\n';
    assert.deepEqual(lines(text, 'main'), [
      ['priority', '240'],
      ['weight', '5'],
    ]);
    assert.deepEqual(lines(text, 'backup'), [['priority', '200']]);
  });

  it('expands multi-line definitions line by line, re-evaluating each line', () => {
    const text = [
      '$RS= \\',
      'real_server 10.0.0.${N} 80 { \\',
      '  @a weight 7 \\',
      '  @b weight 9 \\',
      '}',
      '$N=1',
      '$RS',
      '$N=2',
      '$RS',
    ].join('\n');
    assert.deepEqual(lines(text, 'a'), [
      ['real_server', '10.0.0.1', '80', '{'],
      ['weight', '7'],
      ['}'],
      ['real_server', '10.0.0.2', '80', '{'],
      ['weight', '7'],
      ['}'],
    ]);
    // Every expanded token points at the line that used the definition.
    const tokens = tokenize(text, F, { instanceId: 'b' });
    assert.deepEqual([...new Set(tokens.map((t) => t.line))], [7, 9]);
  });

  it('provides ${_INSTANCE}, ${_PWD}, ${_HASH}, ${_BANG} and ${_RANDOM min max}', () => {
    const words = lines('x ${_INSTANCE} ${_PWD} ${_HASH}${_BANG} ${_RANDOM 5 5}', 'lb7');
    assert.deepEqual(words, [['x', 'lb7', '/etc/keepalived', '#!', '5']]);
    const [rand] = tokenize('r ${_RANDOM 10 20}', F, { random: seededRandom(1) }).slice(1);
    assert.ok(Number(rand!.text) >= 10 && Number(rand!.text) <= 20);
  });

  it('reports include lines as directives, not tokens', () => {
    assert.throws(() => tokenize('include conf.d/*.conf\n', F), /include is not available here/);
  });

  it('rejects unterminated quotes, stray continuations and ~SEQ with file:line', () => {
    const quote = syntaxErrorOf(() => tokenize('a 1\nmisc_path "/bin/x\n', F));
    assert.equal(quote.issues[0]!.line, 2);
    assert.match(quote.message, /keepalived\.conf:2: missing closing "/);
    syntaxErrorOf(() => tokenize('weight 1 \\\n', F));
    syntaxErrorOf(() => tokenize('~SEQ(N, 1, 3) ip 10.0.0.${N}\n', F));
  });

  it('refuses binary data, huge lines and runaway substitutions', () => {
    const nul = syntaxErrorOf(() => tokenize('a 1\nb \0\x01\x02', F));
    assert.equal(nul.issues[0]!.line, 2);
    syntaxErrorOf(() => tokenize(`x ${'a'.repeat(70_000)}`, F));
    syntaxErrorOf(() => tokenize('$A=${A}${A}\nx ${A}', F));
    syntaxErrorOf(() => tokenize('$B=$B \nx $B ', F));
  });

  it('ignores a byte order mark and CRLF line ends', () => {
    assert.deepEqual(lines('\ufeffglobal_defs {\r\n  router_id a\r\n}\r\n'), [
      ['global_defs', '{'],
      ['router_id', 'a'],
      ['}'],
    ]);
  });

  it('decomment keeps quoted comment characters and reports continuations', () => {
    assert.deepEqual(decomment('  a "b # c" # d  '), { text: 'a "b # c"', continued: false });
    assert.deepEqual(decomment('$X= a \\'), { text: '$X= a', continued: true });
  });
});
