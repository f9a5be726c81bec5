import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYamlConfig } from '../../../src/config/load-config.ts';
import { databaseSchema } from '../../../src/db/config-schema.ts';
import { type PromotionView, planPromotion } from '../../../src/db/promote-plan.ts';
import { formatDatabaseStatus } from '../../../src/db/status-format.ts';
import type { DbServerSnapshot } from '../../../src/db/status-types.ts';

const U = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const view = (
  name: string,
  role: 'source' | 'replica' | undefined,
  executed: string,
  retrieved = '',
  extra: Partial<PromotionView> = {},
): PromotionView => ({
  name,
  reachable: role !== undefined,
  role,
  executed: executed === '' ? '' : `${U}:${executed}`,
  retrieved: retrieved === '' ? '' : `${U}:${retrieved}`,
  sqlError: undefined,
  ...extra,
});

describe('promotion plan', () => {
  it('picks the replica that received the most, not the one that applied the most', () => {
    const plan = planPromotion([
      view('a', undefined, ''),
      view('b', 'replica', '1-90', '1-95'),
      view('c', 'replica', '1-93', '1-93'),
    ]);
    assert.equal(plan.candidate, 'b');
    assert.deepEqual(plan.repoint, ['c']);
    assert.deepEqual(plan.unreachable, ['a']);
    assert.match(plan.reason, /received 95/);
  });

  it('breaks ties by applied count, then name; skips replicas with SQL errors', () => {
    assert.equal(
      planPromotion([view('c', 'replica', '1-5', '1-9'), view('b', 'replica', '1-7', '1-9')]).candidate,
      'b',
    );
    assert.equal(planPromotion([view('c', 'replica', '1-9'), view('b', 'replica', '1-9')]).candidate, 'b');
    assert.equal(
      planPromotion([view('b', 'replica', '1-9', '', { sqlError: 'boom' }), view('c', 'replica', '1-2')])
        .candidate,
      'c',
    );
  });

  it('refuses without a candidate, or with a live source unless a replica is named', () => {
    assert.throws(() => planPromotion([view('a', undefined, '')]), /no reachable replica/);
    assert.throws(
      () => planPromotion([view('a', 'source', '1-3'), view('b', 'replica', '1-3')]),
      /reachable source/,
    );
    const sw = planPromotion([view('a', 'source', '1-3'), view('b', 'replica', '1-3')], 'b');
    assert.equal(sw.liveSource, 'a');
    assert.deepEqual(sw.repoint, ['a']);
    assert.throws(() => planPromotion([view('a', 'source', '1-3')], 'a'), /already the source/);
    assert.throws(() => planPromotion([view('a', 'source', '1-3')], 'zz'), /no server named/);
  });

  it('warns when another replica has transactions the candidate lacks', () => {
    const plan = planPromotion([view('b', 'replica', '1-5'), view('c', 'replica', '1-9')], 'b');
    assert.match(plan.warnings.join(), /c has transactions b lacks \(.*:6-9\)/);
  });
});

describe('database config section', () => {
  const yaml = (servers: string) => `admin: false\ndatabase:\n  servers:\n${servers}`;
  it('fills defaults and parses sizes and durations', () => {
    const cfg = parseYamlConfig(
      yaml(
        `    - { name: db1, server_id: 1, role: source, data_dir: /tmp/x, listen: 127.0.0.1:3306, http: 127.0.0.1:8306, binlog: { max_size: 16mb, expire: 1d } }\n`,
      ),
    );
    const s = cfg.sections.database!.servers[0]!;
    assert.equal(s.binlog.max_size, 16 * 1024 * 1024);
    assert.equal(s.binlog.expire, 86_400_000);
    assert.equal(s.binlog.format, 'row');
    assert.deepEqual(s.semi_sync, { enabled: false, wait_for_replica_count: 1, timeout: 10_000 });
    assert.equal(s.relay_log.purge, true);
  });

  it('reports errors at the key', () => {
    const bad = (servers: unknown[], match: RegExp) => {
      const r = databaseSchema.safeParse({ servers });
      assert.equal(r.success, false);
      assert.match(JSON.stringify(r.error?.issues), match);
    };
    const base = { role: 'source', data_dir: '/x', listen: '127.0.0.1:1', http: '127.0.0.1:2' };
    bad([{ ...base, name: 'a', server_id: 0 }], /server_id must be at least 1/);
    bad(
      [
        { ...base, name: 'a', server_id: 1 },
        { ...base, name: 'b', server_id: 1, listen: '127.0.0.1:3', http: '127.0.0.1:4' },
      ],
      /duplicate server_id 1/,
    );
    bad([{ ...base, name: 'a', server_id: 1, role: 'replica' }], /a replica needs source/);
    bad([{ ...base, name: 'a', server_id: 1, binlog: { max_size: '12 parsecs' } }], /invalid size/);
    bad([{ ...base, name: 'a', server_id: 1, binlog: { format: 'json' } }], /format/);
    bad(
      [{ ...base, name: 'a', server_id: 1, heartbeat: '5s', net_timeout: '1s' }],
      /net_timeout must be longer/,
    );
  });
});

describe('status text', () => {
  it('looks like SHOW MASTER STATUS and SHOW REPLICA STATUS\\G', () => {
    const replica: DbServerSnapshot = {
      name: 'db2',
      serverId: 2,
      serverUuid: U,
      role: 'replica',
      readOnly: true,
      binlogFormat: 'ROW',
      dataDir: '/d',
      http: 'http://127.0.0.1:1',
      replicationListen: '127.0.0.1:2',
      executedGtidSet: `${U}:1-5`,
      source: undefined,
      replica: {
        sourceHost: '127.0.0.1',
        sourcePort: 3306,
        sourceServerId: 1,
        sourceUuid: U,
        connectRetryMs: 100,
        ioRunning: 'Connecting',
        sqlRunning: 'No',
        sourceLogFile: 'binlog.000003',
        readSourceLogPos: 1234,
        relayLogFile: 'relay-bin.000002',
        relayLogPos: 99,
        relaySourceLogFile: 'binlog.000003',
        execSourceLogPos: 1000,
        relayLogSpace: 4096,
        secondsBehindSource: null,
        lastIoError: {
          errno: 2003,
          code: 'ECONNREFUSED',
          message: 'error reconnecting',
          at: '2024-01-01T00:00:00.000Z',
        },
        lastSqlError: {
          errno: 1594,
          code: 'HASTACK_DB_EVENT_CHECKSUM',
          message: 'relay log read failure: x',
          at: '2024',
        },
        retrievedGtidSet: `${U}:1-7`,
        executedGtidSet: `${U}:1-5`,
        autoPosition: true,
        semiSync: true,
        lag: { samples: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
        appliedTransactions: 5,
        ioReconnects: 3,
      },
    };
    const text = formatDatabaseStatus({ servers: [replica] });
    assert.match(text, /database server db2: REPLICA \(read-only\), server_id 2/);
    assert.match(text, /\n {10}Replica_IO_State: Connecting to source\n/);
    assert.match(text, /Replica_IO_Running: Connecting\n\s+Replica_SQL_Running: No/);
    assert.match(text, /Seconds_Behind_Source: NULL/);
    assert.match(text, /Last_Errno: 1594\n\s+Last_Error: relay log read failure: x/);
    assert.match(text, /Last_SQL_Error: relay log read failure: x \[HASTACK_DB_EVENT_CHECKSUM\]/);
    assert.match(
      text,
      /Retrieved_Gtid_Set: 3e11fa47.*:1-7\n\s+Executed_Gtid_Set: 3e11fa47.*:1-5\n\s+Auto_Position: 1/,
    );
    assert.match(formatDatabaseStatus('garbage'), /^database: "garbage"/);
  });
});
