/** The memcached section of the `npm start` demo: a 64 MB cache on memcached's usual port. */
export function memcachedDemoSection(): string {
  return `memcached:
  listen: 127.0.0.1:11211
  memory_limit: 64m
  item_size_max: 1m
  max_connections: 1024
`;
}
