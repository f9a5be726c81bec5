export { DEFAULT_PORT, KetamaRing, keyHash, type RingServer } from './ketama.ts';
export { MemcacheClient, type MemcacheClientOptions, type StoreOptions } from './memcache-client.ts';
export { ReplyReader, type RetrievedValue } from './reply-reader.ts';
export { ServerPool, type ServerPoolOptions } from './server-pool.ts';
