import { databaseDemoSection } from '../db/demo-section.ts';
import { httpDemoSection } from '../http/demo-section.ts';
import { memcachedDemoSection } from '../memcache/demo-section.ts';

/**
 * The embedded default configuration of `npm start`: one L4 virtual server with
 * HTTP health checks in front of three demo web servers. Later parts (VRRP, proxy,
 * caches, DNS, database) join this file.
 */
export interface DemoPorts {
  port: number;
  adminPort: number;
  backendPorts: number[];
}

/**
 * Sections other components add to the demo, each a function returning YAML text
 * (ending in a newline). One line per component; the markers show where each goes.
 */
const DEMO_SECTIONS: readonly ((o: DemoPorts) => string)[] = [
  memcachedDemoSection,
  httpDemoSection,
  databaseDemoSection,
  // <dns demo>
];

export function demoConfigYaml(o: DemoPorts): string {
  return `# hastack demo (embedded default)
admin:
  listen: 127.0.0.1:${o.adminPort}
log:
  level: info
shutdown_grace: 2s
virtual_servers:
  - name: web
    listen: 127.0.0.1:${o.port}
    protocol: tcp
    scheduler: wrr
    connect_timeout: 1s
    checks:
      - type: http
        path: /healthz
        status: 200
        interval: 1s
        timeout: 500ms
        rise: 2
        fall: 2
    real_servers:
${o.backendPorts.map((p, i) => `      - address: 127.0.0.1:${p}\n        weight: ${i === 0 ? 2 : 1}`).join('\n')}
${DEMO_SECTIONS.map((section) => section(o)).join('')}`;
}
