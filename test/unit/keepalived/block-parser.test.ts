import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/config-error.ts';
import { type ConfigNode, parseBlocks } from '../../../src/keepalived/block-parser.ts';
import { tokenize } from '../../../src/keepalived/lexer.ts';

const F = 'k.conf';

/** A compact view of the tree: keyword, args, and children when there is a block. */
function shape(nodes: ConfigNode[]): unknown[] {
  return nodes.map((n) =>
    n.children === undefined ? [n.keyword, ...n.args] : [n.keyword, ...n.args, shape(n.children)],
  );
}

function parse(text: string): ConfigNode[] {
  return parseBlocks(tokenize(text, F));
}

function syntaxLine(text: string): number | undefined {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'HASTACK_KEEPALIVED_SYNTAX');
    assert.match(err.message, /^k\.conf:\d+: /);
    return err.issues[0]!.line;
  }
  assert.fail('expected a syntax error');
}

describe('keepalived block parser', () => {
  it('builds nested blocks with positions', () => {
    const nodes = parse(
      'virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  real_server 10.0.0.2 80 {\n    weight 2\n  }\n}\n',
    );
    assert.deepEqual(shape(nodes), [
      [
        'virtual_server',
        '10.0.0.1',
        '80',
        [
          ['lb_algo', 'rr'],
          ['real_server', '10.0.0.2', '80', [['weight', '2']]],
        ],
      ],
    ]);
    const rs = nodes[0]!.children![1]!;
    assert.equal(rs.line, 3);
    assert.equal(rs.children![0]!.line, 4);
    assert.equal(rs.file, F);
  });

  it('accepts blocks on one line, glued braces, and statements after a closing brace', () => {
    assert.deepEqual(shape(parse('url { path / } url{path /x}')), [
      ['url', [['path', '/']]],
      ['url', [['path', '/x']]],
    ]);
    assert.deepEqual(shape(parse('a { b { c 1 } d 2 }\ne 3')), [
      [
        'a',
        [
          ['b', [['c', '1']]],
          ['d', '2'],
        ],
      ],
      ['e', '3'],
    ]);
  });

  it("accepts '{' on the line after the keyword, as keepalived does", () => {
    assert.deepEqual(shape(parse('global_defs\n{\n  router_id x\n}\n')), [
      ['global_defs', [['router_id', 'x']]],
    ]);
  });

  it('keeps empty blocks apart from flags', () => {
    const [check, flag] = parse('PING_CHECK {\n}\nalpha\n');
    assert.deepEqual(check!.children, []);
    assert.equal(flag!.children, undefined);
  });

  it('reports unbalanced braces with the line to look at', () => {
    // A missing '}' points at the block that is never closed.
    assert.equal(
      syntaxLine('virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n    weight 1\n}\n'),
      1,
    );
    assert.equal(syntaxLine('a {\n}\n}\n'), 3);
    assert.equal(syntaxLine('a {\n}\n{\n'), 3);
    assert.equal(syntaxLine('{\n'), 1);
    assert.equal(syntaxLine(`${'a {'.repeat(40)}${'}'.repeat(40)}`), 1);
  });
});
