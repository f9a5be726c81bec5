import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandAddressRange } from '../../../src/keepalived/address-range.ts';
import { parseFormattedPath } from '../../../src/keepalived/line-map.ts';
import { scriptToShellCommand, splitScriptWords } from '../../../src/keepalived/script-command.ts';

describe('keepalived script strings', () => {
  it('splits words as keepalived does and re-quotes them for /bin/sh', () => {
    assert.deepEqual(splitScriptWords(`/bin/x  a 'b c' "d e" f\\ g`), ['/bin/x', 'a', 'b c', 'd e', 'f g']);
    assert.equal(scriptToShellCommand('/usr/bin/check.sh 10.0.0.1:80'), '/usr/bin/check.sh 10.0.0.1:80');
    assert.equal(scriptToShellCommand(`/bin/x 'a b' $HOME;rm`), `/bin/x 'a b' '$HOME;rm'`);
    assert.equal(scriptToShellCommand(`/bin/x "it's"`), `/bin/x 'it'\\''s'`);
    assert.throws(() => scriptToShellCommand(`/bin/x 'open`), /missing closing '/);
  });
});

describe('virtual_server_group address ranges', () => {
  const expand = (text: string, limit = 256) => expandAddressRange(text, limit);

  it('expands single addresses, octet ranges, full ranges and CIDR blocks', () => {
    assert.deepEqual(expand('192.0.2.1'), { ok: true, addresses: ['192.0.2.1'] });
    assert.deepEqual(expand('192.0.2.3-5'), { ok: true, addresses: ['192.0.2.3', '192.0.2.4', '192.0.2.5'] });
    assert.deepEqual(expand('192.0.2.255-192.0.3.1'), {
      ok: true,
      addresses: ['192.0.2.255', '192.0.3.0', '192.0.3.1'],
    });
    assert.deepEqual(expand('192.0.2.9/30'), {
      ok: true,
      addresses: ['192.0.2.8', '192.0.2.9', '192.0.2.10', '192.0.2.11'],
    });
    assert.deepEqual(expand('2001:db8::9-b'), {
      ok: true,
      addresses: ['2001:db8::9', '2001:db8::a', '2001:db8::b'],
    });
    assert.deepEqual(expand('2001:db8::/127'), { ok: true, addresses: ['2001:db8::', '2001:db8::1'] });
  });

  it('refuses bad ranges and ranges beyond the limit', () => {
    for (const bad of [
      '192.0.2.5-3',
      '192.0.2.1-300',
      '192.0.2.0/33',
      'host-1',
      '192.0.2.0/23',
      '2001:db8::1-12345',
    ]) {
      assert.equal(expand(bad).ok, false, bad);
    }
    assert.equal(expand('192.0.2.0/24', 255).ok, false);
  });
});

describe('issue paths', () => {
  it('parses formatted paths back', () => {
    assert.deepEqual(parseFormattedPath('virtual_servers[0].real_servers[12].checks[1].timeout'), [
      'virtual_servers',
      0,
      'real_servers',
      12,
      'checks',
      1,
      'timeout',
    ]);
    assert.deepEqual(parseFormattedPath(''), []);
  });
});
