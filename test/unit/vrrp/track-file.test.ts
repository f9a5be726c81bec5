import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseYamlConfig } from '../../../src/config/load-config.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { CODE_TRACK_FILE, FileTracker } from '../../../src/vrrp/track-file.ts';
import { parseTrackFileValue } from '../../../src/vrrp/track-file-value.ts';
import { effectivePriority, fileEffect, processEffect } from '../../../src/vrrp/tracking.ts';

/* track_file: the value parser (strtol as keepalived), its effect on an instance, the config, the watcher. */

describe('track_file value (strtol base 0, as keepalived)', () => {
  it('reads decimal, hex and octal with sign and white space, the longest valid prefix', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['5\n', 5],
      ['  -12 trailing words', -12],
      ['+7', 7],
      ['0x1F', 31],
      ['0X10', 16],
      ['010', 8],
      ['08', 0], // octal: the 8 ends the number
      ['0x', 0], // no hex digit: just the 0
      ['12abc', 12],
      ['\t\n 42', 42],
      ['2147483647', 2147483647],
      ['-2147483648', -2147483648],
    ];
    for (const [text, want] of cases) assert.equal(parseTrackFileValue(text), want, JSON.stringify(text));
  });

  it('no digits at all (empty, words, a lone sign) is 0', () => {
    for (const text of ['', '\n', 'maintenance', '-', '+ 5', 'x10'])
      assert.equal(parseTrackFileValue(text), 0, text);
  });

  it('a number outside 32 bits is refused (undefined: keepalived keeps the previous value)', () => {
    for (const text of ['2147483648', '-2147483649', '0xffffffff', '99999999999999999999999999999999999'])
      assert.equal(parseTrackFileValue(text), undefined, text);
  });

  it('reads only the first 127 bytes, as keepalived', () => {
    assert.equal(parseTrackFileValue(`${' '.repeat(126)}7`), 7);
    assert.equal(parseTrackFileValue(`${' '.repeat(127)}7`), 0);
  });

  it('never throws on random input', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = ' \t\n+-0123456789abcdefxX\u00e9\u0000';
    for (let i = 0; i < 5_000; i++) {
      let s = '';
      const n = Math.floor(rnd() * 40);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const v = parseTrackFileValue(s);
      assert.ok(v === undefined || Number.isInteger(v));
    }
  });
});

describe('track_file and track_process effects', () => {
  it('weight 0: a non-zero value is FAULT (reverse: a zero value)', () => {
    assert.deepEqual(fileEffect('m', 0, 0, false), { delta: 0 });
    assert.match(fileEffect('m', 3, 0, false).fault!, /file m reads 3/);
    assert.match(fileEffect('m', 0, 0, true).fault!, /reads 0 \(reverse\)/);
    assert.deepEqual(fileEffect('m', 3, 0, true), { delta: 0 });
  });

  it('otherwise value × weight (negated when reversed); ≤ −254 is FAULT; more than 253 counts 253', () => {
    assert.deepEqual(fileEffect('m', 5, 10, false), { delta: 50 });
    assert.deepEqual(fileEffect('m', 5, 10, true), { delta: -50 });
    assert.deepEqual(fileEffect('m', -3, 10, false), { delta: -30 });
    assert.deepEqual(fileEffect('m', 30, 10, false), { delta: 253 });
    assert.deepEqual(fileEffect('m', -253, 1, false), { delta: -253 });
    assert.match(fileEffect('m', -254, 1, false).fault!, /weighted -254/);
    // The instance's priority stays in 1..254 whatever the sum.
    assert.equal(effectivePriority(100, [fileEffect('m', -200, 1, false).delta]), 1);
  });

  it('a process quorum counts as a script: weight added while up (>0) or down (<0), 0 = FAULT', () => {
    assert.deepEqual(processEffect('haproxy', true, 20, false), { delta: 20 });
    assert.deepEqual(processEffect('haproxy', false, 20, false), { delta: 0 });
    assert.deepEqual(processEffect('haproxy', false, -20, false), { delta: -20 });
    assert.match(processEffect('haproxy', false, 0, false).fault!, /process haproxy is down/);
    assert.match(processEffect('haproxy', true, 0, true).fault!, /up \(reverse\)/);
  });
});

const BASE = (trackers: string, uses: string) => `
admin: false
vrrp:
${trackers}
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: 51
      virtual_ipaddress: [10.0.0.100/24]
${uses}
`;

describe('track_files and track_processes in hastack.yaml', () => {
  it('reads both, with keepalived defaults, and the instances’ uses', () => {
    const vrrp = parseYamlConfig(
      BASE(
        `  track_files:
    - { name: maint, file: /run/maint }
    - { name: drain, file: /run/drain, weight: -10, reverse: true, init_file: { value: 2, overwrite: true } }
    - { name: boot, file: /run/boot, init_file: 0 }
  track_processes:
    - { name: haproxy, process: haproxy }
    - { name: nginx, process: /usr/sbin/nginx, params: [-g, daemon off;], param_match: partial, weight: 0, quorum: 2, quorum_max: 9, delay: 500ms }
    - { name: none, process: rogue, quorum_max: 0, fork_delay: 1s }`,
        `      track_file: [maint, { file: drain, weight: 5, reverse: false }]
      track_process: [haproxy, { process: nginx, weight: -30 }]`,
      ),
    ).sections.vrrp!;
    assert.deepEqual(vrrp.trackFiles, [
      { name: 'maint', path: '/run/maint', weight: 1, weightReverse: false },
      {
        name: 'drain',
        path: '/run/drain',
        weight: -10,
        weightReverse: true,
        init: { value: 2, overwrite: true },
      },
      {
        name: 'boot',
        path: '/run/boot',
        weight: 1,
        weightReverse: false,
        init: { value: 0, overwrite: false },
      },
    ]);
    const [haproxy, nginx, none] = vrrp.trackProcesses;
    assert.deepEqual(haproxy, {
      name: 'haproxy',
      process: 'haproxy',
      fullCommand: false,
      weight: 1,
      weightReverse: false,
      quorum: 1,
      quorumMax: Number.POSITIVE_INFINITY,
      forkDelayMs: 0,
      terminateDelayMs: 0,
    });
    assert.deepEqual(
      [nginx!.params, nginx!.paramMatch, nginx!.weight, nginx!.quorum, nginx!.quorumMax, nginx!.forkDelayMs],
      [['-g', 'daemon off;'], 'partial', 0, 2, 9, 500],
    );
    assert.deepEqual(
      [none!.quorum, none!.quorumMax, none!.forkDelayMs, none!.terminateDelayMs],
      [0, 0, 1000, 0],
    );
    const i = vrrp.instances[0]!;
    assert.deepEqual(i.trackFiles, [{ file: 'maint' }, { file: 'drain', weight: 5, reverse: false }]);
    assert.deepEqual(i.trackProcesses, [{ process: 'haproxy' }, { process: 'nginx', weight: -30 }]);
  });

  it('refuses unknown names, duplicates, bad weights and quorum_max below quorum, with the path', () => {
    const bad = (yaml: string, pattern: RegExp) =>
      assert.throws(
        () => parseYamlConfig(yaml),
        (err: Error & { issues?: unknown }) => {
          assert.match(`${err.message} ${JSON.stringify(err.issues)}`, pattern);
          return true;
        },
      );
    bad(BASE('', '      track_file: [maint]'), /no track_file named "maint"/);
    bad(BASE('', '      track_process: [haproxy]'), /no track_process named "haproxy"/);
    bad(
      BASE('  track_files:\n    - { name: m, file: /a }\n    - { name: m, file: /b }', ''),
      /duplicate track_file name "m"/,
    );
    bad(
      BASE('  track_files: [{ name: m, file: /a }]', '      track_file: [{ file: m, weight: 255 }]'),
      /track_file/,
    );
    bad(
      BASE('  track_processes: [{ name: p, process: x, quorum: 3, quorum_max: 2 }]', ''),
      /quorum_max must be at least quorum/,
    );
    bad(BASE('  track_processes: [{ name: p, process: x, weight: 300 }]', ''), /track_processes/);
  });
});

describe('FileTracker (real files)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hastack-track-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const tracker = (extra: Partial<ConstructorParameters<typeof FileTracker>[0]> = {}) =>
    new FileTracker(
      { name: `t${++n}`, path: join(dir, `f${n}`), weight: 1, weightReverse: false, ...extra },
      { logger: silentLogger(), pollMs: 60_000 },
    );

  async function until(check: () => boolean, ms = 3_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check() && Date.now() < deadline) await sleep(5);
  }

  it('reads at start (a missing file reads 0), then follows writes, removal and renames into place', async () => {
    const t = tracker();
    const path = t.config.path;
    const seen: number[] = [];
    t.start();
    t.subscribe((v) => seen.push(v));
    try {
      assert.equal(t.value, 0);
      assert.match(t.status().lastError ?? '', /no such file/);
      writeFileSync(path, '5\n');
      await until(() => t.value === 5);
      assert.equal(t.value, 5);
      unlinkSync(path);
      await until(() => t.value === 0);
      assert.equal(t.value, 0);
      // The atomic way to replace a file: write elsewhere, rename over it.
      writeFileSync(`${path}.tmp`, '0x20');
      spawnSync('mv', [`${path}.tmp`, path]);
      await until(() => t.value === 32);
      assert.deepEqual(seen, [5, 0, 32]);
    } finally {
      t.stop();
    }
  });

  it('a shell `echo N > file` (truncate, then write) is never seen as the empty file in between', async () => {
    const t = tracker();
    writeFileSync(t.config.path, '3\n');
    t.start();
    const seen: number[] = [];
    t.subscribe((v) => seen.push(v));
    try {
      for (const v of [4, 5, 6, 7]) {
        spawnSync('sh', ['-c', `echo ${v} > '${t.config.path}'`]);
        await until(() => t.value === v);
      }
      assert.deepEqual(seen, [4, 5, 6, 7]);
    } finally {
      t.stop();
    }
  });

  it('a number that does not fit keeps the previous value and says why', async () => {
    const t = tracker();
    writeFileSync(t.config.path, '9');
    t.start();
    try {
      writeFileSync(t.config.path, '99999999999');
      await until(() => t.status().lastError !== undefined);
      assert.equal(t.value, 9);
      assert.match(t.status().lastError!, /not a 32-bit number; keeping 9/);
      writeFileSync(t.config.path, '1');
      await until(() => t.value === 1);
      assert.equal(t.status().lastError, undefined);
    } finally {
      t.stop();
    }
  });

  it('init_file creates a missing file, leaves an existing one, or overwrites it when asked', () => {
    const create = tracker({ init: { value: 4, overwrite: false } });
    create.start();
    create.stop();
    assert.equal(readFileSync(create.config.path, 'utf8'), '4\n');
    assert.equal(create.value, 4);
    const keep = tracker({ init: { value: 4, overwrite: false } });
    writeFileSync(keep.config.path, '8');
    keep.start();
    keep.stop();
    assert.equal(keep.value, 8);
    const overwrite = tracker({ init: { value: 0, overwrite: true } });
    writeFileSync(overwrite.config.path, '8');
    overwrite.start();
    overwrite.stop();
    assert.equal(overwrite.value, 0);
  });

  it('a directory that does not exist is a clear error at start', () => {
    const t = new FileTracker(
      { name: 'gone', path: join(dir, 'no-such-dir', 'f'), weight: 1, weightReverse: false },
      { logger: silentLogger() },
    );
    assert.throws(() => t.start(), {
      code: CODE_TRACK_FILE,
      message: /directory .*no-such-dir does not exist/,
    });
  });

  it('the backstop poll re-reads even without a watch event', async () => {
    const t = new FileTracker(
      { name: 'poll', path: join(dir, 'polled'), weight: 1, weightReverse: false },
      // No directory watch (as on a network file system without inotify): only the poll can see it.
      { logger: silentLogger(), pollMs: 50, watch: false },
    );
    t.start();
    try {
      writeFileSync(t.config.path, '12');
      await until(() => t.value === 12);
      assert.equal(t.value, 12);
      assert.ok(t.status().reads >= 2);
    } finally {
      t.stop();
    }
  });
});
