import type { DemoPortsLike } from './demo-ports.ts';

/**
 * The reverse proxy of the `npm start` demo: on the port after the L4 virtual
 * server, `/static/` served from the project's docs, everything else to the demo
 * web servers (least connections, HTTP health checks).
 */
export function httpDemoSection(o: DemoPortsLike): string {
  const docs = JSON.stringify(new URL('../../docs/', import.meta.url).pathname);
  const servers = o.backendPorts.map((p) => `        - address: 127.0.0.1:${p}\n`).join('');
  return `http:
  listeners:
    - name: front
      listen: 127.0.0.1:${o.port + 1}
      routes:
        - name: static
          match: { path_prefix: /static/ }
          static: { root: ${docs}, index: architecture.md, strip_prefix: true }
        - name: app
          pool: app
  pools:
    app:
      scheduler: lc
      servers:
${servers}      health_check: { type: http, path: /healthz, interval: 1s, timeout: 500ms, rise: 2, fall: 2 }
`;
}
