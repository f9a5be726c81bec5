import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  matchesProcess,
  parseProcStat,
  splitCmdline,
  type TrackProcessConfig,
  usesCmdline,
} from '../../../src/vrrp/process-match.ts';
import { trackProcessConfig } from '../../helpers/track-process-config.ts';

/* vrrp_track_process matching: which processes a tracker counts, as keepalived decides it. */

function config(over: Partial<TrackProcessConfig> = {}): TrackProcessConfig {
  return trackProcessConfig('t', { process: 'nginx', ...over });
}

describe('parseProcStat', () => {
  it('reads the name and state of an ordinary line', () => {
    assert.deepEqual(parseProcStat('1234 (nginx) S 1 1234 1234 0 -1 4194560 ...\n'), {
      comm: 'nginx',
      state: 'S',
    });
  });

  it('takes the name up to the LAST parenthesis (names may hold spaces and parentheses)', () => {
    assert.deepEqual(parseProcStat('77 (a b) (c)) R 1 2 3'), { comm: 'a b) (c)', state: 'R' });
    assert.deepEqual(parseProcStat('78 (x(y) Z 1'), { comm: 'x(y', state: 'Z' });
    assert.deepEqual(parseProcStat('79 () S 1'), { comm: '', state: 'S' });
    assert.deepEqual(parseProcStat('80 (new\nline) D 1'), { comm: 'new\nline', state: 'D' });
  });

  it('gives undefined for malformed text, never throws', () => {
    for (const text of ['', '12', '12 (abc', '12 abc) S', '12 (abc)', '12 (abc) ', ')(', '12 (abc)S 1'])
      assert.equal(parseProcStat(text), undefined, JSON.stringify(text));
  });
});

describe('splitCmdline', () => {
  it('splits NUL-separated arguments and drops the final NUL', () => {
    assert.deepEqual(splitCmdline(Buffer.from('/usr/sbin/nginx\0-g\0daemon off;\0')), [
      '/usr/sbin/nginx',
      '-g',
      'daemon off;',
    ]);
  });

  it('keeps empty arguments, handles a rewritten title without NUL and kernel threads', () => {
    assert.deepEqual(splitCmdline(Buffer.from('prog\0\0x\0')), ['prog', '', 'x']);
    assert.deepEqual(splitCmdline(Buffer.from('nginx: master process')), ['nginx: master process']);
    assert.deepEqual(splitCmdline(Buffer.alloc(0)), []);
    assert.deepEqual(splitCmdline(Buffer.from('\0')), ['']);
  });
});

describe('matchesProcess', () => {
  it('compares the name exactly without params (no prefix, no pattern)', () => {
    const c = config();
    assert.equal(usesCmdline(c), false);
    assert.equal(matchesProcess(c, { comm: 'nginx', state: 'S' }), true);
    assert.equal(matchesProcess(c, { comm: 'nginx2', state: 'S' }), false);
    assert.equal(matchesProcess(c, { comm: 'ngin', state: 'S' }), false);
    assert.equal(matchesProcess(config({ process: 'ngin.' }), { comm: 'nginx', state: 'S' }), false);
    // The name alone decides: argv (when read for other trackers) does not matter.
    assert.equal(matchesProcess(c, { comm: 'nginx', state: 'R', argv: ['/usr/sbin/other'] }), true);
  });

  it('never counts a zombie', () => {
    assert.equal(matchesProcess(config(), { comm: 'nginx', state: 'Z' }), false);
    const full = config({ process: '/usr/sbin/nginx', fullCommand: true });
    assert.equal(matchesProcess(full, { comm: 'nginx', state: 'Z', argv: ['/usr/sbin/nginx'] }), false);
  });

  it('full_command compares argv[0] exactly, whatever follows', () => {
    const c = config({ process: '/usr/sbin/nginx', fullCommand: true });
    assert.equal(usesCmdline(c), true);
    assert.equal(
      matchesProcess(c, { comm: 'nginx', state: 'S', argv: ['/usr/sbin/nginx', '-g', 'x'] }),
      true,
    );
    assert.equal(matchesProcess(c, { comm: 'nginx', state: 'S', argv: ['nginx'] }), false);
    assert.equal(matchesProcess(c, { comm: 'nginx', state: 'S', argv: [] }), false);
    assert.equal(matchesProcess(c, { comm: 'nginx', state: 'S' }), false, 'no argv read: no match');
  });

  it('params without param_match must be exactly the arguments', () => {
    const c = config({ process: 'nginx', params: ['-g', 'daemon off;'] });
    assert.equal(usesCmdline(c), true);
    const m = (argv: string[]) => matchesProcess(c, { comm: 'x', state: 'S', argv });
    assert.equal(m(['nginx', '-g', 'daemon off;']), true);
    assert.equal(m(['nginx', '-g', 'daemon off;', '-q']), false);
    assert.equal(m(['nginx', '-g']), false);
    assert.equal(m(['nginx', '-g', 'daemon']), false);
    assert.equal(m(['/usr/sbin/nginx', '-g', 'daemon off;']), false, 'argv[0] is compared exactly');
  });

  it('param_match partial: the first n arguments equal, more may follow', () => {
    const c = config({ params: ['-c', '/etc/a.conf'], paramMatch: 'partial' });
    const m = (argv: string[]) => matchesProcess(c, { comm: 'x', state: 'S', argv });
    assert.equal(m(['nginx', '-c', '/etc/a.conf']), true);
    assert.equal(m(['nginx', '-c', '/etc/a.conf', '-q']), true);
    assert.equal(m(['nginx', '-c', '/etc/a.conf.bak']), false);
    assert.equal(m(['nginx', '-c']), false);
  });

  it('param_match initial: the first n-1 equal, the nth starts with the last', () => {
    const c = config({ params: ['-c', '/etc/nginx/'], paramMatch: 'initial' });
    const m = (argv: string[]) => matchesProcess(c, { comm: 'x', state: 'S', argv });
    assert.equal(m(['nginx', '-c', '/etc/nginx/a.conf']), true);
    assert.equal(m(['nginx', '-c', '/etc/nginx/']), true);
    assert.equal(m(['nginx', '-c', '/etc/nginx/a.conf', '-q']), true);
    assert.equal(m(['nginx', '-c', '/etc/other/a.conf']), false);
    assert.equal(m(['nginx', '-x', '/etc/nginx/a.conf']), false);
    assert.equal(m(['nginx', '-c']), false);
    const one = config({ params: ['--conf='], paramMatch: 'initial' });
    assert.equal(matchesProcess(one, { comm: 'x', state: 'S', argv: ['nginx', '--conf=/a'] }), true);
  });

  it('param_match exact with params: same as no param_match', () => {
    const c = config({ params: ['a'], paramMatch: 'exact' });
    assert.equal(matchesProcess(c, { comm: 'x', state: 'S', argv: ['nginx', 'a'] }), true);
    assert.equal(matchesProcess(c, { comm: 'x', state: 'S', argv: ['nginx', 'a', 'b'] }), false);
  });

  it('param_match without params: the process must have no arguments', () => {
    for (const paramMatch of ['exact', 'partial', 'initial'] as const) {
      for (const params of [undefined, []]) {
        const c = config({ paramMatch, params });
        assert.equal(usesCmdline(c), true);
        assert.equal(matchesProcess(c, { comm: 'x', state: 'S', argv: ['nginx'] }), true, paramMatch);
        assert.equal(matchesProcess(c, { comm: 'x', state: 'S', argv: ['nginx', '-q'] }), false, paramMatch);
      }
    }
  });

  it('empty params without param_match or full_command fall back to the name', () => {
    const c = config({ params: [] });
    assert.equal(usesCmdline(c), false);
    assert.equal(matchesProcess(c, { comm: 'nginx', state: 'S' }), true);
  });
});
