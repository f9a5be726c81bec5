import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeepalivedConfig } from '../../../src/keepalived/index.ts';

/* track_file / vrrp_track_file / vrrp_track_process blocks and the instances' track_file / track_process lists. */

const CONF = `
track_file maint {
    file /run/keepalived/maint
    weight 0
    init_file
}
vrrp_track_file drain {
    file "/run/keepalived/drain level"
    weight -10 reverse
    init_file 3 overwrite
}
vrrp_track_process haproxy {
    process haproxy
    weight 20
    quorum 1
    delay 0.5
}
vrrp_track_process nginx_master {
    process /usr/sbin/nginx -g "daemon off;"
    param_match partial
    full_command
    quorum 1
    quorum_max 4
    fork_delay 1
    terminate_delay 2.5
    weight -30 reverse
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.100/24
    }
    track_file {
        maint
        drain weight 2 noreverse
    }
    track_process {
        haproxy
        nginx_master weight -254
    }
}
`;

describe('keepalived.conf trackers → track_files / track_processes', () => {
  const loaded = parseKeepalivedConfig(CONF, '/etc/keepalived/keepalived.conf', { instanceId: 'lb1' });
  const vrrp = loaded.config.sections.vrrp!;

  it('converts track_file and its older name vrrp_track_file', () => {
    assert.deepEqual(vrrp.trackFiles, [
      {
        name: 'maint',
        path: '/run/keepalived/maint',
        weight: 0,
        weightReverse: false,
        init: { value: 0, overwrite: false },
      },
      {
        name: 'drain',
        path: '/run/keepalived/drain level',
        weight: -10,
        weightReverse: true,
        init: { value: 3, overwrite: true },
      },
    ]);
  });

  it('converts vrrp_track_process: parameters, matching, quorum and delays', () => {
    assert.deepEqual(vrrp.trackProcesses, [
      {
        name: 'haproxy',
        process: 'haproxy',
        fullCommand: false,
        weight: 20,
        weightReverse: false,
        quorum: 1,
        quorumMax: Number.POSITIVE_INFINITY,
        forkDelayMs: 500,
        terminateDelayMs: 500,
      },
      {
        name: 'nginx_master',
        process: '/usr/sbin/nginx',
        params: ['-g', 'daemon off;'],
        paramMatch: 'partial',
        fullCommand: true,
        weight: -30,
        weightReverse: true,
        quorum: 1,
        quorumMax: 4,
        forkDelayMs: 1000,
        terminateDelayMs: 2500,
      },
    ]);
  });

  it("converts the instance's track_file and track_process lists (weights up to ±254)", () => {
    const i = vrrp.instances[0]!;
    assert.deepEqual(i.trackFiles, [{ file: 'maint' }, { file: 'drain', weight: 2, reverse: false }]);
    assert.deepEqual(i.trackProcesses, [{ process: 'haproxy' }, { process: 'nginx_master', weight: -254 }]);
    assert.deepEqual(loaded.warnings, []);
  });

  it('refuses a tracker without its file or process, a weight out of range and an unknown name, with lines', () => {
    const issues = (text: string) => {
      try {
        parseKeepalivedConfig(text, 'k.conf');
      } catch (err) {
        return (err as { issues: { line?: number; message: string }[] }).issues.map(
          (i) => `${i.line ?? '-'} ${i.message}`,
        );
      }
      return [];
    };
    const instance = (lists: string) =>
      `vrrp_instance X {\n interface eth0\n virtual_router_id 1\n${lists}}\n`;
    assert.match(
      issues(`track_file f {\n weight 1\n}\n${instance('')}`).join('\n'),
      /^1 .*track_file f has no file/,
    );
    assert.match(
      issues(`vrrp_track_process p {\n quorum 1\n}\n${instance('')}`).join('\n'),
      /^1 .*vrrp_track_process p has no process/,
    );
    assert.match(
      issues(`track_file f {\n file /run/f\n}\n${instance(' track_file {\n  f weight 255\n }\n')}`).join(
        '\n',
      ),
      /^8 .*weight 255 is outside -254\.\.254/,
    );
    assert.match(
      issues(instance(' track_process {\n  nope\n }\n')).join('\n'),
      /no track_process named "nope"/,
    );
    assert.match(
      issues(`vrrp_track_process p {\n process x\n param_match fuzzy\n}\n${instance('')}`).join('\n'),
      /^3 .*"param_match": expected initial or partial/,
    );
  });
});
