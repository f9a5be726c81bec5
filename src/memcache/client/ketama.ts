import { createHash } from 'node:crypto';

/*
 * Ketama consistent hashing as libketama defines it and libmemcached and the
 * `memcached` npm client (through `hashring`) implement it: each server gets
 * floor(weight share * 40 * servers) MD5 digests of "<server>-<i>", each digest
 * four points (little-endian 32-bit words), 160 per server with equal weights.
 * A key maps to the first point at or after the first word of MD5(key),
 * wrapping to the first point. Like those clients, a server on the default port
 * 11211 is hashed by host alone ("10.0.0.1-0", not "10.0.0.1:11211-0").
 */

export interface RingServer {
  /** host:port, as given in the client's server list. */
  address: string;
  weight: number;
}

export const KETAMA_VNODES = 40;
export const KETAMA_POINTS_PER_HASH = 4;
export const DEFAULT_PORT = 11211;

export class KetamaRing {
  /** Sorted points and the server index owning each. */
  readonly points: Uint32Array;
  readonly owners: Int32Array;
  readonly servers: readonly RingServer[];

  constructor(servers: readonly RingServer[], defaultPort = DEFAULT_PORT) {
    this.servers = servers;
    const entries: { value: number; owner: number }[] = [];
    const total = servers.reduce((sum, s) => sum + s.weight, 0);
    servers.forEach((server, owner) => {
      const share = total === 0 ? 0 : server.weight / total;
      const hashes = Math.floor(share * KETAMA_VNODES * servers.length);
      const name = hashName(server.address, defaultPort);
      for (let i = 0; i < hashes; i++) {
        const d = md5(`${name}-${i}`);
        for (let j = 0; j < KETAMA_POINTS_PER_HASH; j++)
          entries.push({ value: d.readUInt32LE(j * 4), owner });
      }
    });
    // Stable sort by point value, as the reference clients (ties keep server order).
    entries.sort((a, b) => a.value - b.value);
    this.points = Uint32Array.from(entries, (e) => e.value);
    this.owners = Int32Array.from(entries, (e) => e.owner);
  }

  /** The server for a key, or undefined when the ring is empty. */
  get(key: string | Buffer): RingServer | undefined {
    const i = this.pointIndex(keyHash(key));
    return i < 0 ? undefined : this.servers[this.owners[i]!];
  }

  /** Index of the first point >= hash, wrapping to 0 (-1 when empty). */
  pointIndex(hash: number): number {
    const points = this.points;
    if (points.length === 0) return -1;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }
}

function md5(text: string | Buffer): Buffer {
  return createHash('md5').update(text).digest();
}

/** The 32-bit point of a key: MD5's first four bytes, little-endian. */
export function keyHash(key: string | Buffer): number {
  return md5(key).readUInt32LE(0);
}

function hashName(address: string, defaultPort: number): string {
  const suffix = `:${defaultPort}`;
  return address.endsWith(suffix) ? address.slice(0, -suffix.length) : address;
}
