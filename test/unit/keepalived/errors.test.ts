// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is keepalived syntax under test, not a template.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/config-error.ts';
import { seededRandom } from '../../../src/core/clock.ts';
import { isHastackError } from '../../../src/core/errors.ts';
import { createMemoryIo, parseKeepalivedConfig } from '../../../src/keepalived/index.ts';

const F = '/etc/keepalived/keepalived.conf';

function vs(body: string, header = 'virtual_server 192.0.2.1 80'): string {
  return `${header} {\n  protocol TCP\n${body}\n}\n`;
}

/** Parses and expects a ConfigError; returns it for inspection. */
function fails(
  text: string,
  code: string,
  options: Parameters<typeof parseKeepalivedConfig>[2] = {},
): ConfigError {
  try {
    parseKeepalivedConfig(text, F, { instanceId: 'lb1', ...options });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const issue of err.issues)
      assert.ok(issue.line !== undefined && issue.file !== undefined, err.message);
    return err;
  }
  assert.fail('expected the configuration to be refused');
}

describe('malformed keepalived.conf', () => {
  it('unbalanced braces', () => {
    const open = fails(vs('  real_server 192.0.2.2 80 {\n    weight 1\n'), 'HASTACK_KEEPALIVED_SYNTAX');
    assert.match(open.message, /^\/etc\/keepalived\/keepalived\.conf:1: missing '}'/);
    const extra = fails(`${vs('')}}\n`, 'HASTACK_KEEPALIVED_SYNTAX');
    assert.equal(extra.issues[0]!.line, 5);
  });

  it('bad numbers, reporting every bad line at once', () => {
    const err = fails(
      vs(
        [
          '  delay_loop -1',
          '  real_server 192.0.2.2 80 {',
          '    weight abc',
          '    uthreshold 1.5',
          '    TCP_CHECK {',
          '      connect_timeout 2s',
          '      retry 99999999999999999999',
          '    }',
          '  }',
        ].join('\n'),
      ),
      'HASTACK_KEEPALIVED_VALUE',
    );
    assert.deepEqual(
      err.issues.map((i) => i.line),
      [3, 5, 6, 8, 9],
    );
    assert.match(err.message, /keepalived\.conf:5: "weight": invalid number "abc"/);
  });

  it('unknown lb_algo, protocol, http_protocol, DNS type, boolean', () => {
    assert.match(
      fails(vs('  lb_algo fastest'), 'HASTACK_KEEPALIVED_VALUE').message,
      /:3: "lb_algo": unknown scheduler "fastest" \(one of rr, wrr/,
    );
    fails('virtual_server 192.0.2.1 80 {\n  protocol QUIC\n}\n', 'HASTACK_KEEPALIVED_VALUE');
    fails(
      vs('  real_server 192.0.2.2 80 {\n    HTTP_GET {\n      http_protocol 2\n    }\n  }'),
      'HASTACK_KEEPALIVED_VALUE',
    );
    fails(
      vs('  real_server 192.0.2.2 53 {\n    DNS_CHECK {\n      type PTR\n    }\n  }'),
      'HASTACK_KEEPALIVED_VALUE',
    );
    fails(vs('  omega maybe'), 'HASTACK_KEEPALIVED_VALUE');
  });

  it('DR and TUN forwarding, anywhere they can be set', () => {
    const dr = fails(vs('  lb_kind DR'), 'HASTACK_KEEPALIVED_LB_KIND');
    assert.equal(dr.issues[0]!.line, 3);
    assert.match(dr.message, /only forwards as NAT .*full proxy.*kernel data plane/);
    fails(vs('  real_server 192.0.2.2 80 {\n    lvs_method TUN\n  }'), 'HASTACK_KEEPALIVED_LB_KIND');
    fails(vs('  sorry_server_lvs_method DR'), 'HASTACK_KEEPALIVED_LB_KIND');
    fails(vs('  lb_kind BRIDGE'), 'HASTACK_KEEPALIVED_VALUE');
  });

  it('missing ports and bad addresses', () => {
    assert.match(
      fails(vs('', 'virtual_server 192.0.2.1'), 'HASTACK_KEEPALIVED_VALUE').message,
      /:1: .*missing port/,
    );
    fails(vs('', 'virtual_server www.example.net 80'), 'HASTACK_KEEPALIVED_VALUE');
    fails(vs('', 'virtual_server 192.0.2.1 70000'), 'HASTACK_KEEPALIVED_VALUE');
    fails(vs('  real_server 192.0.2.300 80'), 'HASTACK_KEEPALIVED_VALUE');
    fails(vs('  sorry_server 192.0.2.9 0'), 'HASTACK_KEEPALIVED_VALUE');
    const group = fails(
      `virtual_server_group G {\n  192.0.2.1 80\n  192.0.2.2\n  192.0.2.0/16 80\n}\n${vs('', 'virtual_server group G')}`,
      'HASTACK_KEEPALIVED_VALUE',
    );
    assert.deepEqual(
      group.issues.map((i) => i.line),
      [3, 4],
    );
    fails(vs('', 'virtual_server group NOPE'), 'HASTACK_KEEPALIVED_VALUE');
    fails(vs('', 'virtual_server'), 'HASTACK_KEEPALIVED_VALUE');
  });

  it('features that need the kernel: fwmark, SCTP; and regex_no_match', () => {
    fails(vs('', 'virtual_server fwmark 1'), 'HASTACK_KEEPALIVED_UNSUPPORTED_FEATURE');
    fails(
      `virtual_server_group G {\n  fwmark 3\n}\n${vs('', 'virtual_server group G')}`,
      'HASTACK_KEEPALIVED_UNSUPPORTED_FEATURE',
    );
    fails('virtual_server 192.0.2.1 80 {\n  protocol SCTP\n}\n', 'HASTACK_KEEPALIVED_UNSUPPORTED_FEATURE');
    fails(
      vs(
        '  real_server 192.0.2.2 80 {\n    HTTP_GET {\n      url {\n        path /\n        regex_no_match\n      }\n    }\n  }',
      ),
      'HASTACK_KEEPALIVED_UNSUPPORTED_FEATURE',
    );
  });

  it('values the schema refuses point at the keepalived line (and file, for includes)', () => {
    const weight = fails(vs('  real_server 192.0.2.2 80 {\n    weight 70000\n  }'), 'HASTACK_CONFIG_INVALID');
    assert.deepEqual([weight.issues[0]!.file, weight.issues[0]!.line], [F, 4]);
    assert.match(weight.message, /keepalived\.conf:4: virtual_servers\[0\]\.real_servers\[0\]\.weight: /);
    const status = fails(
      vs(
        '  real_server 192.0.2.2 80 {\n    HTTP_GET {\n      url {\n        path /\n        status_code 200 99\n      }\n    }\n  }',
      ),
      'HASTACK_CONFIG_INVALID',
    );
    assert.equal(status.issues[0]!.line, 7);
    const digest = fails(
      vs(
        '  real_server 192.0.2.2 80 {\n    HTTP_GET {\n      url {\n        path /\n        digest xyz\n      }\n    }\n  }',
      ),
      'HASTACK_CONFIG_INVALID',
    );
    assert.equal(digest.issues[0]!.line, 7);
    const included = fails(`include vs.conf\n`, 'HASTACK_CONFIG_INVALID', {
      io: createMemoryIo({
        '/etc/keepalived/vs.conf': vs('  real_server 192.0.2.2 80\n  real_server 192.0.2.2 80'),
      }),
    });
    assert.deepEqual([included.issues[0]!.file, included.issues[0]!.line], ['/etc/keepalived/vs.conf', 4]);
    assert.match(included.message, /duplicate real server/);
  });

  it('an empty file, a comment-only file, binary garbage and a huge token', () => {
    fails('', 'HASTACK_KEEPALIVED_EMPTY');
    fails('! nothing here\n# at all\n\n', 'HASTACK_KEEPALIVED_EMPTY');
    const binary = fails('\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0', 'HASTACK_KEEPALIVED_SYNTAX');
    assert.match(binary.message, /binary data/);
    fails(`virtual_server ${'9'.repeat(100_000)} 80 {\n}\n`, 'HASTACK_KEEPALIVED_SYNTAX');
    fails(`router_id "${'x'.repeat(70_000)}"`, 'HASTACK_KEEPALIVED_SYNTAX');
  });

  it('never crashes on random input: every failure is a HastackError', () => {
    const random = seededRandom(42);
    const alphabet = [
      ' ',
      '\n',
      '{',
      '}',
      '"',
      "'",
      '\\',
      '#',
      '!',
      '$',
      '@',
      '=',
      'x',
      '1',
      '.',
      ':',
      '-',
      '\t',
      '~',
    ];
    const words = [
      'virtual_server',
      'real_server',
      '192.0.2.1',
      '80',
      'HTTP_GET',
      'url',
      'path',
      'status_code',
      'weight',
      '$A',
      '${A}',
      '$A=',
      'include',
      'lb_kind',
      'group',
      'virtual_server_group',
    ];
    for (let n = 0; n < 300; n++) {
      let text = '';
      const length = Math.floor(random() * 200);
      for (let i = 0; i < length; i++) {
        text +=
          random() < 0.3
            ? `${words[Math.floor(random() * words.length)]} `
            : alphabet[Math.floor(random() * alphabet.length)];
      }
      try {
        parseKeepalivedConfig(text, F, { instanceId: 'x', io: createMemoryIo({}), random });
      } catch (err) {
        assert.ok(isHastackError(err), `input ${JSON.stringify(text)} threw ${String(err)}`);
      }
    }
  });
});
