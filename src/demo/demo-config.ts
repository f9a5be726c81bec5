import { HastackError } from '../core/errors.ts';
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
  /** memcached's listen port; 11211 (memcached's own default) when absent. */
  memcachedPort?: number;
}

/**
 * Sections other components add to the demo, each a function returning YAML text
 * (ending in a newline). One line per component; the markers show where each goes.
 */
const DEMO_SECTIONS: readonly ((o: DemoPorts) => string)[] = [
  memcachedSection,
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

/**
 * src/memcache's demo section always listens on 11211; the demo moves it when asked.
 * Fails loudly (not silently on 11211) if that section's listen line changes shape.
 */
function memcachedSection(o: DemoPorts): string {
  const text = memcachedDemoSection();
  if (o.memcachedPort === undefined) return text;
  const listen = /^([ \t]*listen:[ \t]*127\.0\.0\.1:)\d+[ \t]*$/m;
  if (!listen.test(text))
    throw new HastackError(
      'HASTACK_DEMO_CONFIG',
      'cannot place the demo memcached: no "listen: 127.0.0.1:<port>" line',
    );
  return text.replace(listen, `$1${o.memcachedPort}`);
}
