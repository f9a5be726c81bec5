import { formatDatabaseStatus } from '../db/status-format.ts';
import { formatHttpStatus } from '../http/status-format.ts';
import { formatMemcacheStatus } from '../memcache/status-format.ts';
import { formatVrrpStatus } from '../vrrp/status-format.ts';
/*
 * Text for `hastack status` of each component service, keyed by its config
 * section. A formatter turns the service's snapshot (from GET /status) into lines
 * printed after the virtual server table. One line per component below.
 */
export const serviceStatusFormatters: Readonly<Record<string, (snapshot: unknown) => string>> = {
  memcached: formatMemcacheStatus,
  vrrp: formatVrrpStatus,
  http: formatHttpStatus,
  database: formatDatabaseStatus,
  // <dns status>
};
