import { HastackError } from '../core/errors.ts';
import { GtidSet, isServerUuid } from './gtid-set.ts';
import { type HelloMessage, PROTOCOL_VERSION, protocolError } from './wire-protocol.ts';

/*
 * Who may replicate from a source. Mirrors MySQL's rules: server_id 0 cannot
 * replicate, a replica must not share the source's server_id, two live replicas
 * must not share one (a reconnect with the same UUID replaces the stale
 * connection, as MySQL kills a zombie dump thread), and a replica that remembers
 * another source UUID is talking to the wrong server.
 */

export function parseHello(raw: unknown): HelloMessage {
  const h = raw as Partial<HelloMessage> | null;
  if (h === null || typeof h !== 'object') throw protocolError('HELLO is not an object');
  if (h.protocol !== PROTOCOL_VERSION)
    throw protocolError(`protocol version ${String(h.protocol)} is not supported (want ${PROTOCOL_VERSION})`);
  const ok =
    typeof h.serverId === 'number' &&
    Number.isInteger(h.serverId) &&
    h.serverId >= 0 &&
    h.serverId <= 0xffffffff &&
    typeof h.serverUuid === 'string' &&
    isServerUuid(h.serverUuid) &&
    typeof h.name === 'string' &&
    (h.expectedSourceUuid === null ||
      (typeof h.expectedSourceUuid === 'string' && isServerUuid(h.expectedSourceUuid))) &&
    typeof h.autoPosition === 'boolean' &&
    typeof h.gtidSet === 'string' &&
    (h.file === null || typeof h.file === 'string') &&
    typeof h.pos === 'number' &&
    Number.isInteger(h.pos) &&
    h.pos >= 0 &&
    typeof h.semiSync === 'boolean';
  if (!ok) throw protocolError('HELLO has missing or invalid fields');
  GtidSet.parse(h.gtidSet as string);
  return h as HelloMessage;
}

export interface SourceIdentity {
  serverId: number;
  serverUuid: string;
  isSource: boolean;
  name: string;
}

export interface ConnectedReplica {
  serverId: number;
  serverUuid: string;
}

export interface Admission {
  /** UUID of a stale connection of the same replica to close. */
  replaces: string | undefined;
}

export function admitReplica(
  hello: HelloMessage,
  source: SourceIdentity,
  connected: Iterable<ConnectedReplica>,
): Admission {
  if (hello.serverId === 0)
    throw new HastackError(
      'HASTACK_DB_SERVER_ID_ZERO',
      'a replica with server_id 0 cannot replicate: give it a unique server_id',
    );
  if (!source.isSource)
    throw new HastackError(
      'HASTACK_DB_NOT_SOURCE',
      `${source.name} (server_id ${source.serverId}) is a replica, not a source: point the replica at the source`,
    );
  if (hello.serverId === source.serverId)
    throw new HastackError(
      'HASTACK_DB_DUPLICATE_SERVER_ID',
      `replica and source have the same server_id ${hello.serverId}: server_id must be unique in the topology`,
    );
  if (hello.serverUuid === source.serverUuid)
    throw new HastackError(
      'HASTACK_DB_DUPLICATE_SERVER_UUID',
      `replica and source have the same server UUID ${hello.serverUuid} (a copied data directory?): remove auto.json from the copy`,
    );
  if (hello.expectedSourceUuid !== null && hello.expectedSourceUuid !== source.serverUuid)
    throw new HastackError(
      'HASTACK_DB_WRONG_SOURCE',
      `wrong source: this replica follows server UUID ${hello.expectedSourceUuid} but ${source.name} is ${source.serverUuid}; use "hastack db replica reset" or change the source to follow another server`,
    );
  let replaces: string | undefined;
  for (const c of connected) {
    if (c.serverUuid === hello.serverUuid) replaces = c.serverUuid;
    else if (c.serverId === hello.serverId)
      throw new HastackError(
        'HASTACK_DB_DUPLICATE_SERVER_ID',
        `another replica (UUID ${c.serverUuid}) is already connected with server_id ${hello.serverId}: server_id must be unique in the topology`,
      );
  }
  return { replaces };
}

/**
 * Auto-positioning check: the source must have every transaction the replica
 * needs still in its binary logs, and the replica must not have transactions the
 * source never had (errant transactions).
 */
export function checkGtidStart(replicaSet: GtidSet, sourceExecuted: GtidSet, sourcePurged: GtidSet): void {
  const errant = replicaSet.subtract(sourceExecuted);
  if (!errant.isEmpty())
    throw new HastackError(
      'HASTACK_DB_ERRANT_TRANSACTIONS',
      `the replica has transactions the source does not have (${errant.toString()}): it diverged or follows the wrong source`,
    );
  const missingPurged = sourcePurged.subtract(replicaSet);
  if (!missingPurged.isEmpty())
    throw new HastackError(
      'HASTACK_DB_SOURCE_PURGED',
      `the source purged binary logs with transactions the replica still needs (${missingPurged.toString()}): rebuild the replica from a copy of the source`,
    );
}
