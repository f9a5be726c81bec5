import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/config-error.ts';
import { createMemoryIo, expandIncludes, globToRegExp } from '../../../src/keepalived/include.ts';
import { createLexState } from '../../../src/keepalived/lexer.ts';

function expand(
  files: Record<string, string>,
  main = '/etc/keepalived/keepalived.conf',
  limits?: { maxDepth: number; maxFiles: number },
) {
  return expandIncludes(main, files[main]!, createLexState(), createMemoryIo(files), limits);
}

function words(files: Record<string, string>): string[] {
  return expand(files).tokens.map((t) => `${t.file.split('/').pop()}:${t.line}:${t.text}`);
}

function includeError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'HASTACK_KEEPALIVED_INCLUDE');
    return err;
  }
  assert.fail('expected an include error');
}

describe('keepalived includes', () => {
  it('reads glob matches in sorted order, in place of the include line', () => {
    const out = words({
      '/etc/keepalived/keepalived.conf': 'a 1\ninclude conf.d/*.conf\nz 26\n',
      '/etc/keepalived/conf.d/20-b.conf': 'b 2\n',
      '/etc/keepalived/conf.d/10-a.conf': '\nc 3\n',
      '/etc/keepalived/conf.d/notes.txt': 'not 0\n',
      '/etc/keepalived/conf.d/sub/30-x.conf': 'deep 0\n',
    });
    assert.deepEqual(out, [
      'keepalived.conf:1:a',
      'keepalived.conf:1:1',
      '10-a.conf:2:c',
      '10-a.conf:2:3',
      '20-b.conf:1:b',
      '20-b.conf:1:2',
      'keepalived.conf:3:z',
      'keepalived.conf:3:26',
    ]);
  });

  it('resolves relative paths against the including file, includes inside blocks, and shares definitions', () => {
    const out = words({
      '/etc/keepalived/keepalived.conf': '$PORT=8080\ninclude /srv/lb/vs.conf\n',
      '/srv/lb/vs.conf': 'vs {\n  include rs/{one,two}.inc\n}\n',
      '/srv/lb/rs/one.inc': 'port $PORT\n$PORT=9090\n',
      '/srv/lb/rs/two.inc': 'port $PORT\n',
    });
    assert.deepEqual(out, [
      'vs.conf:1:vs',
      'vs.conf:1:{',
      'one.inc:1:port',
      'one.inc:1:8080',
      'two.inc:1:port',
      'two.inc:1:9090',
      'vs.conf:3:}',
    ]);
  });

  it('reports a missing include file at the include line; a wildcard without match only warns', () => {
    const err = includeError(() =>
      expand({ '/etc/keepalived/keepalived.conf': 'a 1\n\ninclude missing.conf\n' }),
    );
    assert.equal(err.issues[0]!.line, 3);
    assert.equal(err.issues[0]!.file, '/etc/keepalived/keepalived.conf');
    assert.match(err.message, /missing\.conf does not exist/);

    const optional = expand({
      '/etc/keepalived/keepalived.conf': 'include conf.d/*.conf\nincluder opt/*.conf\n',
    });
    assert.deepEqual(
      optional.warnings.map((w) => [w.code, w.line]),
      [['HASTACK_KEEPALIVED_INCLUDE_EMPTY', 1]],
    );
  });

  it('detects include cycles and names the chain', () => {
    const err = includeError(() =>
      expand({
        '/etc/keepalived/keepalived.conf': 'include a.conf\n',
        '/etc/keepalived/a.conf': 'x 1\ninclude b.conf\n',
        '/etc/keepalived/b.conf': 'include a.conf\n',
      }),
    );
    assert.equal(err.issues[0]!.file, '/etc/keepalived/b.conf');
    assert.equal(err.issues[0]!.line, 1);
    assert.match(
      err.message,
      /cycle: \/etc\/keepalived\/a\.conf -> \/etc\/keepalived\/b\.conf -> \/etc\/keepalived\/a\.conf/,
    );
    includeError(() => expand({ '/etc/keepalived/keepalived.conf': 'include keepalived.conf\n' }));
  });

  it('allows the same file twice side by side, within depth and file limits', () => {
    const files = {
      '/k/main.conf': 'include x.conf\ninclude x.conf\n',
      '/k/x.conf': 'x 1\n',
    };
    assert.equal(expand(files, '/k/main.conf').tokens.length, 4);
    includeError(() => expand(files, '/k/main.conf', { maxDepth: 16, maxFiles: 2 }));
    const chain: Record<string, string> = { '/k/main.conf': 'include 1.conf\n' };
    for (let i = 1; i <= 5; i++) chain[`/k/${i}.conf`] = `include ${i + 1}.conf\n`;
    chain['/k/6.conf'] = 'end 1\n';
    assert.equal(expand(chain, '/k/main.conf').tokens.length, 2);
    const deep = includeError(() => expand(chain, '/k/main.conf', { maxDepth: 3, maxFiles: 100 }));
    assert.match(deep.message, /nested deeper than 3/);
  });

  it('reports unreadable files and errors inside included files with their own file and line', () => {
    const io = createMemoryIo({ '/k/main.conf': '', '/k/bad.conf': '' });
    const failing = {
      ...io,
      readFile: (p: string) => (p === '/k/bad.conf' ? assert.fail('EACCES') : io.readFile(p)),
    };
    includeError(() => expandIncludes('/k/main.conf', 'include bad.conf\n', createLexState(), failing));
    try {
      expand(
        { '/k/main.conf': 'include inner.conf\n', '/k/inner.conf': 'ok 1\nbroken "quote\n' },
        '/k/main.conf',
      );
      assert.fail('expected a syntax error');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'HASTACK_KEEPALIVED_SYNTAX');
      assert.equal(err.issues[0]!.file, '/k/inner.conf');
      assert.equal(err.issues[0]!.line, 2);
    }
  });

  it('translates globs like glob(3)', () => {
    assert.ok(globToRegExp('/a/*.conf').test('/a/x.conf'));
    assert.ok(!globToRegExp('/a/*.conf').test('/a/b/x.conf'));
    assert.ok(globToRegExp('/a/?.c[a-z]nf').test('/a/1.conf'));
    assert.ok(globToRegExp('/a/[!x]*').test('/a/y'));
    assert.ok(!globToRegExp('/a/[!x]*').test('/a/x'));
    assert.ok(globToRegExp('/a/{b,c/d}.conf').test('/a/c/d.conf'));
    assert.ok(globToRegExp('/a/x+(1).conf').test('/a/x+(1).conf'));
  });
});
