/*
 * Text for `hastack status` of each component service, keyed by its config
 * section. A formatter turns the service's snapshot (from GET /status) into lines
 * printed after the virtual server table. One line per component below.
 */
export const serviceStatusFormatters: Readonly<Record<string, (snapshot: unknown) => string>> = {
  // <memcached status>
  // <vrrp status>
  // <http status>
  // <database status>
  // <dns status>
};
