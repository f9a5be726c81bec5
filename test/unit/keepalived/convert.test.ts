import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CheckSpec, VirtualServerConfig } from '../../../src/config/model.ts';
import {
  convertKeepalived,
  loadKeepalivedConfigFile,
  parseBlocks,
  parseKeepalivedConfig,
  tokenize,
} from '../../../src/keepalived/index.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/keepalived/', import.meta.url));

function vsNamed(list: VirtualServerConfig[], name: string): VirtualServerConfig {
  const vs = list.find((v) => v.name === name);
  assert.ok(vs, `no virtual server ${name} in ${list.map((v) => v.name).join(', ')}`);
  return vs;
}

function only<T>(items: readonly T[]): T {
  assert.equal(items.length, 1);
  return items[0]!;
}

describe('keepalived.conf → hastack config (full fixture)', async () => {
  const loaded = await loadKeepalivedConfigFile(`${FIXTURES}full.conf`, { instanceId: 'lb1' });
  const vss = loaded.config.virtualServers;

  it('creates one virtual server per virtual_server, named IP:PORT unless TCP and UDP share it', () => {
    assert.equal(loaded.source.kind, 'keepalived');
    assert.deepEqual(
      vss.map((v) => [v.name, v.host, v.port, v.protocol]),
      [
        ['192.0.2.10:80', '192.0.2.10', 80, 'tcp'],
        ['192.0.2.10:443', '192.0.2.10', 443, 'tcp'],
        ['192.0.2.20:25', '192.0.2.20', 25, 'tcp'],
        ['192.0.2.53:53-udp', '192.0.2.53', 53, 'udp'],
        ['192.0.2.53:53-tcp', '192.0.2.53', 53, 'tcp'],
        ['[2001:db8::10]:80', '2001:db8::10', 80, 'tcp'],
      ],
    );
  });

  it('maps virtual server settings: scheduler, persistence, sorry server, quorum, alpha/omega, inhibit', () => {
    const web = vsNamed(vss, '192.0.2.10:80');
    assert.equal(web.scheduler, 'wrr');
    assert.deepEqual(web.schedulerFlags, { hashPort: false, fallback: false });
    assert.equal(web.persistenceTimeoutMs, 120_000);
    assert.equal(web.persistenceGranularity, 24);
    assert.deepEqual(web.sorryServer, { host: '198.51.100.99', port: 8080 });
    assert.equal(web.sorryServerInhibit, true);
    assert.equal(web.quorum, 3);
    assert.equal(web.hysteresis, 1);
    assert.equal(web.quorumUp, '/usr/local/bin/vip-ctl up web');
    assert.equal(web.quorumDown, '/usr/local/bin/vip-ctl down web');
    assert.equal(web.startDown, true);
    assert.equal(web.notifyDownOnStop, true);
    assert.equal(web.inhibitOnFailure, true);
    // lvs_timeouts tcp 600 / udp 45 become the idle timeouts.
    assert.equal(web.idleTimeoutMs, 600_000);
    assert.equal(vsNamed(vss, '192.0.2.53:53-udp').idleTimeoutMs, 45_000);

    const tls = vsNamed(vss, '192.0.2.10:443');
    assert.equal(tls.scheduler, 'sh');
    assert.deepEqual(tls.schedulerFlags, { hashPort: true, fallback: true });
    // persistence_timeout without a value: keepalived's 6 minutes.
    assert.equal(tls.persistenceTimeoutMs, 360_000);
    assert.equal(tls.persistenceGranularity, 32);
    assert.equal(tls.sorryServer, undefined);
    assert.equal(tls.quorum, 1);
    assert.equal(tls.startDown, false);
    assert.equal(tls.inhibitOnFailure, false);
  });

  it('maps real servers: weight, thresholds, notify scripts for /bin/sh, default weight and port', () => {
    const web = vsNamed(vss, '192.0.2.10:80');
    const [rs1, rs2, rs3] = web.realServers;
    assert.deepEqual(
      [rs1!.host, rs1!.port, rs1!.weight, rs1!.upperThreshold, rs1!.lowerThreshold],
      ['198.51.100.1', 8080, 3, 500, 400],
    );
    // keepalived passes 'web 1' as one argument; the shell command keeps it one.
    assert.equal(rs1!.notifyUp, `/usr/local/bin/rs-event up 'web 1'`);
    assert.equal(rs1!.notifyDown, '/usr/local/bin/rs-down.sh');
    assert.deepEqual([rs2!.weight, rs3!.weight], [2, 1]);
    const dns = vsNamed(vss, '192.0.2.53:53-udp');
    assert.deepEqual(
      dns.realServers.map((r) => [r.host, r.port, r.weight]),
      [
        ['198.51.100.53', 53, 1],
        ['198.51.100.54', 53, 1],
      ],
    );
    const v6 = vsNamed(vss, '[2001:db8::10]:80');
    assert.deepEqual(
      [v6.realServers[0]!.host, v6.realServers[0]!.port, v6.realServers[0]!.weight],
      ['2001:db8::100', 8080, 5],
    );
    assert.deepEqual(v6.realServers[0]!.checks, []);
  });

  it('converts HTTP_GET with digest, status ranges, per-URL virtualhost and explicit timing', () => {
    const check = only(vsNamed(vss, '192.0.2.10:80').realServers[0]!.checks) as Extract<
      CheckSpec,
      { type: 'http' }
    >;
    assert.deepEqual(check, {
      type: 'http',
      tls: false,
      urls: [
        {
          path: '/health',
          status: [
            { min: 200, max: 299 },
            { min: 304, max: 304 },
          ],
          digest: '5d41402abc4b2a76b9719d911017c592',
        },
        {
          path: '/status',
          status: [
            { min: 200, max: 200 },
            { min: 401, max: 403 },
          ],
          virtualhost: 'status.example.net',
        },
      ],
      virtualhost: 'www.example.net',
      httpVersion: '1.1',
      verifyTls: false,
      intervalMs: 10_000,
      timeoutMs: 2_500,
      retries: 2,
      retryDelayMs: 1_000,
      rise: 1,
      fall: 1,
      startDown: true,
      warmupMs: 10_000,
    });
  });

  it('converts TCP_CHECK, MISC_CHECK (misc_dynamic) and PING_CHECK with keepalived defaults', () => {
    const [tcp, misc] = vsNamed(vss, '192.0.2.10:80').realServers[1]!.checks;
    assert.deepEqual(tcp, {
      type: 'tcp',
      connectPort: 8081,
      intervalMs: 10_000,
      timeoutMs: 3_000,
      retries: 1,
      retryDelayMs: 1_000,
      rise: 1,
      fall: 1,
      startDown: true,
      warmupMs: 10_000,
    });
    assert.deepEqual(misc, {
      type: 'misc',
      command: '/usr/local/bin/load-weight.sh 198.51.100.2',
      dynamic: true,
      intervalMs: 10_000,
      timeoutMs: 4_000,
      retries: 0,
      retryDelayMs: 1_000,
      rise: 1,
      fall: 1,
      startDown: true,
      warmupMs: 10_000,
    });
    // delay_loop on the real server is the default for its checkers.
    const ping = only(vsNamed(vss, '192.0.2.10:80').realServers[2]!.checks);
    assert.deepEqual(
      [ping.type, ping.intervalMs, ping.timeoutMs, ping.retries, ping.retryDelayMs, ping.warmupMs],
      ['icmp', 20_000, 5_000, 4, 1_000, 20_000],
    );
  });

  it('converts SSL_GET with SNI from the virtualhost, keepalived HTTP/1.0 and 3 s retry delay', () => {
    const [a, b] = vsNamed(vss, '192.0.2.10:443').realServers;
    const sni = only(a!.checks) as Extract<CheckSpec, { type: 'http' }>;
    assert.equal(sni.tls, true);
    assert.equal(sni.sni, 'secure.example.net');
    assert.equal(sni.virtualhost, 'secure.example.net');
    assert.equal(sni.httpVersion, '1.0');
    assert.deepEqual(sni.urls, [{ path: '/healthz', status: [{ min: 200, max: 299 }] }]);
    assert.deepEqual(
      [sni.intervalMs, sni.timeoutMs, sni.retries, sni.retryDelayMs, sni.warmupMs, sni.startDown],
      [5_000, 5_000, 1, 3_000, 5_000, false],
    );
    const plain = only(b!.checks) as Extract<CheckSpec, { type: 'http' }>;
    assert.equal(plain.sni, undefined);
    assert.deepEqual(plain.urls[0]!.status, [{ min: 200, max: 200 }]);
  });

  it('converts SMTP_CHECK and DNS_CHECK (retry 3, retry delay = delay_loop, SOA . by default)', () => {
    const smtp = only(vsNamed(vss, '192.0.2.20:25').realServers[0]!.checks);
    assert.deepEqual(smtp, {
      type: 'smtp',
      helo: 'mail-check.example.net',
      intervalMs: 30_000,
      timeoutMs: 10_000,
      retries: 2,
      retryDelayMs: 5_000,
      rise: 1,
      fall: 1,
      startDown: false,
      warmupMs: 30_000,
    });
    const [named, plain] = vsNamed(vss, '192.0.2.53:53-udp').realServers.map((r) => only(r.checks));
    assert.deepEqual(
      [named!.type, (named as { qtype: string }).qtype, (named as { name: string }).name],
      ['dns', 'A', 'probe.example.net'],
    );
    assert.deepEqual([named!.retries, named!.retryDelayMs, named!.intervalMs], [3, 15_000, 15_000]);
    assert.deepEqual([(plain as { qtype: string }).qtype, (plain as { name: string }).name], ['SOA', '.']);
    // No delay_loop anywhere: keepalived's 60 s.
    const tcp = only(vsNamed(vss, '192.0.2.53:53-tcp').realServers[0]!.checks);
    assert.deepEqual([tcp.intervalMs, tcp.timeoutMs, tcp.retries, tcp.warmupMs], [60_000, 5_000, 1, 60_000]);
  });

  it('warns about every keyword without effect, with its line', () => {
    assert.deepEqual(
      loaded.warnings.map((w) => [w.code, w.line]),
      [
        ['HASTACK_KEEPALIVED_IGNORED', 6], // notification_email
        ['HASTACK_KEEPALIVED_IGNORED', 9], // notification_email_from
        ['HASTACK_KEEPALIVED_IGNORED', 10], // smtp_server
        ['HASTACK_KEEPALIVED_IGNORED', 11], // smtp_connect_timeout
        ['HASTACK_KEEPALIVED_IGNORED', 12], // enable_script_security
        ['HASTACK_KEEPALIVED_IGNORED', 13], // script_user
        ['HASTACK_KEEPALIVED_IGNORED', 14], // lvs_timeouts tcpfin
      ],
    );
    assert.ok(loaded.warnings.every((w) => w.file === `${FIXTURES}full.conf`));
  });

  it('converts the vrrp_instance into the vrrp section', () => {
    const [vi] = loaded.config.sections.vrrp!.instances;
    assert.deepEqual(
      [vi!.name, vi!.initialState, vi!.interface, vi!.vrid, vi!.priority, vi!.advertIntMs, vi!.unicastSrcIp],
      ['VI_WEB', 'MASTER', 'eth0', 42, 150, 1000, '192.0.2.2'],
    );
    assert.deepEqual(vi!.unicastPeers, [{ address: '192.0.2.3' }]);
    assert.deepEqual(vi!.vips, [{ address: '192.0.2.10', prefix: 24 }]);
  });
});

describe('keepalived.conf → hastack config (other fixtures)', () => {
  it('warns for each unsupported keyword at its line and still converts the rest', async () => {
    const loaded = await loadKeepalivedConfigFile(`${FIXTURES}unsupported.conf`, { instanceId: 'lb1' });
    const seen = loaded.warnings.map(
      (w) => `${w.line} ${w.code.replace('HASTACK_KEEPALIVED_', '')} ${w.message.split('"')[1]}`,
    );
    assert.deepEqual(seen, [
      '5 IGNORED smtp_alert',
      '6 IGNORED enable_script_security',
      '7 IGNORED script_user',
      '10 UNSUPPORTED static_ipaddress',
      '53 IGNORED ha_suspend',
      '54 UNSUPPORTED persistence_engine',
      '57 IGNORED smtp_alert',
      '58 UNSUPPORTED UDP_CHECK',
      '62 IGNORED bind_if',
      '63 IGNORED log_all_failures',
      '72 UNSUPPORTED ops',
      '78 IGNORED regex_options',
      '80 IGNORED fast_recovery',
    ]);
    const [web, dns] = loaded.config.virtualServers;
    assert.deepEqual(
      web!.realServers[0]!.checks.map((c) => c.type),
      ['tcp'],
    );
    assert.equal(dns!.protocol, 'udp');
    assert.equal(dns!.idleTimeoutMs, 300_000);
    // The VRRP blocks convert now: global garp delay, script, both instances, the sync group.
    const vrrp = loaded.config.sections.vrrp!;
    assert.deepEqual(
      vrrp.instances.map((i) => [i.name, i.vrid, i.garp.masterDelayMs, i.trackScripts]),
      [
        ['VI_1', 51, 10_000, [{ script: 'chk_web' }]],
        ['VI_2', 52, 10_000, []],
      ],
    );
    assert.deepEqual([vrrp.scripts[0]!.name, vrrp.scripts[0]!.intervalMs], ['chk_web', 2000]);
    assert.deepEqual(vrrp.syncGroups[0]!.members, ['VI_1', 'VI_2']);
  });

  it('follows includes relative to each file and shares $definitions across files', async () => {
    const loaded = await loadKeepalivedConfigFile(`${FIXTURES}includes/main.conf`);
    const [web, api] = loaded.config.virtualServers;
    assert.equal(web!.name, '192.0.2.40:80');
    assert.deepEqual([web!.realServers[0]!.port, web!.realServers[0]!.weight], [8080, 2]);
    assert.equal(web!.realServers[0]!.checks[0]!.timeoutMs, 1_000);
    assert.equal(api!.name, '192.0.2.41:80');
    assert.deepEqual(
      loaded.warnings.map((w) => [w.file?.slice(FIXTURES.length), w.line, w.message.split('"')[1]]),
      [['includes/conf.d/20-api.conf', 8, 'smtp_alert']],
    );
  });

  it('selects @id lines and expands multi-line definitions per instance id', async () => {
    const one = await loadKeepalivedConfigFile(`${FIXTURES}conditional.conf`, { instanceId: 'lb1' });
    const two = await loadKeepalivedConfigFile(`${FIXTURES}conditional.conf`, { instanceId: 'lb2' });
    const rs = (l: typeof one) => l.config.virtualServers[0]!.realServers;
    assert.equal(one.config.virtualServers[0]!.name, '192.0.2.60:80');
    assert.deepEqual(
      rs(one).map((r) => [r.host, r.weight, r.notifyUp]),
      [
        ['198.51.100.61', 10, '/usr/local/bin/rs-up primary 61'],
        ['198.51.100.62', 10, '/usr/local/bin/rs-up primary 62'],
        ['198.51.100.64', 1, undefined],
      ],
    );
    assert.deepEqual(
      rs(two).map((r) => [r.host, r.weight, r.notifyUp]),
      [
        ['198.51.100.61', 20, '/usr/local/bin/rs-up standby 61'],
        ['198.51.100.62', 20, '/usr/local/bin/rs-up standby 62'],
        ['198.51.100.63', 1, undefined],
        ['198.51.100.64', 1, undefined],
      ],
    );
    // Undefined $references are not substituted; the shell must not expand them either.
    assert.equal(rs(one)[2]!.notifyDown, `/usr/local/bin/alert '$HOME' '\${UNDEFINED}'`);
  });

  it('expands a virtual_server_group into one virtual server per address', async () => {
    const loaded = await loadKeepalivedConfigFile(`${FIXTURES}group.conf`);
    assert.deepEqual(
      loaded.config.virtualServers.map((v) => v.name),
      [
        '192.0.2.70:80',
        '192.0.2.71:80',
        '192.0.2.72:80',
        '192.0.2.73:80',
        '192.0.2.76:8080',
        '192.0.2.77:8080',
      ],
    );
    for (const vs of loaded.config.virtualServers) {
      assert.deepEqual(
        vs.realServers.map((r) => [r.host, r.port, r.checks[0]!.intervalMs]),
        [['198.51.100.70', 80, 3_000]],
      );
    }
  });

  it('adjusts quorum and hysteresis as keepalived does, with a warning', () => {
    const text = [
      'virtual_server 192.0.2.1 80 {',
      '  protocol TCP',
      '  quorum 10',
      '  hysteresis 4',
      '  real_server 192.0.2.2 80 {',
      '    weight 2',
      '  }',
      '  real_server 192.0.2.3 80 {',
      '    weight 1',
      '  }',
      '}',
    ].join('\n');
    const loaded = parseKeepalivedConfig(text, '/k.conf', { instanceId: 'x' });
    const vs = loaded.config.virtualServers[0]!;
    assert.deepEqual([vs.quorum, vs.hysteresis], [3, 2]);
    assert.deepEqual(
      loaded.warnings.map((w) => [w.code, w.line]),
      [
        ['HASTACK_KEEPALIVED_ADJUSTED', 3],
        ['HASTACK_KEEPALIVED_ADJUSTED', 4],
      ],
    );
  });

  it('cascades timing from virtual server to real server to checker, and per-server inhibit', () => {
    const text = [
      'virtual_server 192.0.2.1 80 {',
      '  protocol TCP',
      '  delay_loop 7',
      '  connect_timeout 2',
      '  retry 5',
      '  warmup 0',
      '  real_server 192.0.2.2 80 {',
      '    delay_before_retry 0.25',
      '    alpha on',
      '    inhibit_on_failure',
      '    HTTP_GET {',
      '      url { path / }',
      '      retry 0',
      '    }',
      '  }',
      '  real_server 192.0.2.3 80 {',
      '    TCP_CHECK { }',
      '  }',
      '}',
    ].join('\n');
    const loaded = parseKeepalivedConfig(text, '/k.conf', { instanceId: 'x' });
    const vs = loaded.config.virtualServers[0]!;
    const [http] = vs.realServers[0]!.checks;
    const [tcp] = vs.realServers[1]!.checks;
    assert.deepEqual(
      [http!.intervalMs, http!.timeoutMs, http!.retries, http!.retryDelayMs, http!.warmupMs, http!.startDown],
      [7_000, 2_000, 0, 250, 0, true],
    );
    assert.deepEqual(
      [tcp!.intervalMs, tcp!.timeoutMs, tcp!.retries, tcp!.retryDelayMs, tcp!.warmupMs, tcp!.startDown],
      [7_000, 2_000, 5, 1_000, 0, false],
    );
    // Only one of two real servers inhibits: the schema has one flag per virtual server.
    assert.equal(vs.inhibitOnFailure, false);
    assert.deepEqual(
      loaded.warnings.map((w) => [w.code, w.line]),
      [['HASTACK_KEEPALIVED_UNSUPPORTED', 10]],
    );
  });

  it('converts old SMTP_CHECK host blocks into one check per host, and protocol-less servers to TCP', () => {
    const text = [
      'virtual_server 192.0.2.1 25 {',
      '  real_server 192.0.2.2 25 {',
      '    SMTP_CHECK {',
      '      connect_timeout 9',
      '      host {',
      '        connect_ip 192.0.2.2',
      '      }',
      '      host {',
      '        connect_ip 198.51.100.7',
      '        connect_port 587',
      '        bindto 192.0.2.9',
      '        connect_timeout 4',
      '      }',
      '    }',
      '  }',
      '}',
    ].join('\n');
    const loaded = parseKeepalivedConfig(text, '/k.conf', { instanceId: 'x' });
    const vs = loaded.config.virtualServers[0]!;
    assert.equal(vs.protocol, 'tcp');
    assert.deepEqual(
      vs.realServers[0]!.checks.map((c) => [c.type, c.connectHost, c.connectPort, c.bindHost, c.timeoutMs]),
      [
        ['smtp', '192.0.2.2', undefined, undefined, 9_000],
        ['smtp', '198.51.100.7', 587, '192.0.2.9', 4_000],
      ],
    );
    assert.deepEqual(
      loaded.warnings.map((w) => [w.code, w.line]),
      [
        ['HASTACK_KEEPALIVED_ADJUSTED', 1],
        ['HASTACK_KEEPALIVED_DEPRECATED', 5],
      ],
    );
  });

  it('lineOf maps raw-config key paths to the keepalived line that produced them', () => {
    const text = [
      'virtual_server 192.0.2.1 80 {',
      '  protocol TCP',
      '  lb_algo rr',
      '  real_server 192.0.2.2 80 {',
      '    weight 4',
      '  }',
      '  real_server 192.0.2.3 80 {',
      '    weight 5',
      '    TCP_CHECK {',
      '      connect_timeout 3',
      '    }',
      '  }',
      '}',
    ].join('\n');
    const result = convertKeepalived(parseBlocks(tokenize(text, '/k.conf')), '/k.conf');
    const rs1 = ['virtual_servers', 0, 'real_servers', 1];
    assert.equal(result.lineOf(['virtual_servers', 0]), 1);
    assert.equal(result.lineOf(['virtual_servers', 0, 'listen']), 1);
    assert.equal(result.lineOf(['virtual_servers', 0, 'scheduler']), 3);
    assert.equal(result.lineOf(['virtual_servers', 0, 'real_servers', 0, 'weight']), 5);
    assert.equal(result.lineOf([...rs1, 'weight']), 8);
    assert.equal(result.lineOf([...rs1, 'checks', 0]), 9);
    assert.equal(result.lineOf([...rs1, 'checks', 0, 'timeout']), 10);
    // Defaults written out explicitly point at the block they apply to.
    assert.equal(result.lineOf([...rs1, 'checks', 0, 'interval']), 9);
    assert.equal(result.lineOf(['admin']), undefined);
    const raw = result.raw.virtual_servers![0]!.real_servers![1]!.checks![0];
    assert.deepEqual(raw, {
      type: 'tcp',
      interval: '60000ms',
      timeout: '3000ms',
      retries: 1,
      retry_delay: '1000ms',
      rise: 1,
      fall: 1,
      alpha: false,
      warmup: '60000ms',
    });
  });
});
