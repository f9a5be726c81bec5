import type { DemoPortsLike } from './demo-types.ts';

/**
 * The `npm start` demo's database: a source and two replicas (semi-sync, MIXED
 * binlog format), all three in the demo process on their own ports and data
 * directories, replicating over loopback TCP like separate hosts would.
 */
export function databaseDemoSection(o: DemoPortsLike): string {
  const base = o.port + 300;
  const dir = process.env.HASTACK_DEMO_DB_DIR ?? `${process.env.TMPDIR ?? '/tmp'}/hastack-demo-db`;
  const server = (i: number, role: string) => `    - name: db${i}
      server_id: ${i}
      role: ${role}
      data_dir: ${dir}/db${i}
      listen: 127.0.0.1:${base + i * 10}
      http: 127.0.0.1:${base + i * 10 + 1}
${role === 'replica' ? `      source: 127.0.0.1:${base + 10}\n` : ''}      binlog:
        format: mixed
      semi_sync:
        enabled: true
        timeout: 2s
`;
  return `database:
  servers:
${server(1, 'source')}${server(2, 'replica')}${server(3, 'replica')}  cluster:
${[1, 2, 3].map((i) => `    - name: db${i}\n      http: 127.0.0.1:${base + i * 10 + 1}\n`).join('')}`;
}
