import type { ServiceFactory } from './services.ts';

/*
 * Every component the runtime can start from a config section, in start order
 * (stop runs in reverse). One line per component; the markers show where each goes.
 */
export const serviceFactories: readonly ServiceFactory[] = [
  // <database service>
  // <memcached service>
  // <http service>
  // <dns service>
  // <vrrp service>
];
