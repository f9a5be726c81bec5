import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { formatHostPort, type HostPort } from '../core/address.ts';
import { type Clock, type RandomSource, systemClock } from '../core/clock.ts';
import { errorMessage, HastackError } from '../core/errors.ts';
import { Applier } from './applier.ts';
import { BinlogServer } from './binlog-server.ts';
import { type BinlogFileOptions, BinlogWriter, type DurableChunk } from './binlog-writer.ts';
import { Checkpointer } from './checkpointer.ts';
import type { DbServerConfig } from './config-schema.ts';
import { contentChecksum } from './content-checksum.ts';
import { GtidSet } from './gtid-set.ts';
import { IoThread, type ThreadError } from './io-thread.ts';
import { LagWindow } from './lag-window.ts';
import { readIndex } from './log-index.ts';
import { BINLOG_BASENAME, type LogPosition, positionKey } from './log-names.ts';
import { openDatabase } from './open-database.ts';
import { ReadEngine } from './read-engine.ts';
import { RelayLog } from './relay-log.ts';
import { ensureStateTable, readState, STATE_TABLE } from './replication-state.ts';
import { type SemiSyncOutcome, SemiSyncTracker } from './semi-sync.ts';
import {
  type DataDirLayout,
  loadReplicationSettings,
  loadServerUuid,
  prepareDataDir,
  type ReplicationSettings,
  saveReplicationSettings,
} from './server-files.ts';
import {
  type ExecuteOutcome,
  type StatementRequest,
  type StatementResult,
  WriteEngine,
} from './sql-engine.ts';
import { SqlThread, sqlErrno } from './sql-thread.ts';
import type { SqlProgress } from './sql-thread-protocol.ts';
import type { BinlogFormat } from './statement-analysis.ts';
import type { DbServerSnapshot, ReplicaStatus, SourceStatus } from './status-types.ts';

/*
 * One database server: a SQLite file, its binary log, and either the source's
 * write path and replica listener, or a replica's I/O thread, relay log and SQL
 * thread. Role changes (promotion, change of source, reset) happen here and are
 * persisted in the data directory.
 */

/** Written into Format_desc events (MySQL writes its server version there). */
export const SERVER_VERSION = 'hastack-db-1';

export interface DbServerDeps {
  logger: Logger;
  clock?: Clock;
  random?: RandomSource;
}

export interface ExecuteResponse extends ExecuteOutcome {
  /** acked: enough replicas have it; async: semi-sync fell back; off: semi-sync disabled. */
  semiSync: SemiSyncOutcome | undefined;
}

interface SourceParts {
  db: ReturnType<typeof openDatabase>;
  binlog: BinlogWriter;
  engine: WriteEngine;
}

interface ReplicaParts {
  relay: RelayLog;
  io: IoThread | undefined;
  sql: SqlThread | undefined;
  unsubscribe: () => void;
}

export class DbServer {
  #cfg: DbServerConfig;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  #layout!: DataDirLayout;
  #uuid = '';
  #settings!: ReplicationSettings;
  #reader: ReadEngine | undefined;
  /** WAL checkpoints off the commit and apply paths. */
  #checkpointer: Checkpointer | undefined;
  #source: SourceParts | undefined;
  #replica: ReplicaParts | undefined;
  #durable: LogPosition = { file: '', pos: 0 };
  readonly #durableListeners = new Set<(chunks: readonly DurableChunk[]) => void>();
  readonly #semi: SemiSyncTracker;
  #semiTimer: NodeJS.Timeout | undefined;
  #binlogServer: BinlogServer | undefined;
  #executed = new GtidSet();
  #progress: SqlProgress | undefined;
  #sqlError: ThreadError | undefined;
  readonly #lag = new LagWindow();
  #gtidWaiters: { set: GtidSet; resolve: () => void }[] = [];
  /** Serializes role changes and thread control. */
  #control: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** SET GLOBAL super_read_only: a source refuses writes (switchover). */
  #superReadOnly = false;

  constructor(cfg: DbServerConfig, deps: DbServerDeps) {
    this.#cfg = cfg;
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
    this.#random = deps.random ?? Math.random;
    this.#semi = new SemiSyncTracker(this.#semiOptions(cfg), this.#clock);
  }

  get name(): string {
    return this.#cfg.name;
  }

  get config(): DbServerConfig {
    return this.#cfg;
  }

  get role(): 'source' | 'replica' {
    return this.#settings.role;
  }

  get serverUuid(): string {
    return this.#uuid;
  }

  get dataDir(): string {
    return this.#cfg.data_dir;
  }

  replicationAddress(): HostPort {
    return this.#binlogServer?.address() ?? this.#cfg.listen;
  }

  #semiOptions(cfg: DbServerConfig) {
    return {
      enabled: cfg.semi_sync.enabled,
      waitForReplicaCount: cfg.semi_sync.wait_for_replica_count,
      timeoutMs: cfg.semi_sync.timeout,
    };
  }

  async start(): Promise<void> {
    this.#layout = prepareDataDir(this.#cfg.data_dir);
    this.#uuid = loadServerUuid(this.#cfg.data_dir);
    this.#settings = loadReplicationSettings(this.#cfg.data_dir, {
      role: this.#cfg.role,
      source: this.#cfg.source,
      autoPosition: this.#cfg.auto_position,
    });
    // Create the file and the state table before any read-only connection opens it.
    const db = openDatabase(this.#layout.dbFile);
    ensureStateTable(db);
    this.#executed = GtidSet.parse(readState(db).gtidExecuted);
    db.close();
    this.#reader = new ReadEngine(this.#layout.dbFile);
    this.#checkpointer = new Checkpointer(this.#layout.dbFile, this.#cfg.name, (m) => this.#logger.warn(m));
    try {
      if (this.#settings.role === 'source') this.#becomeSource();
      else await this.#becomeReplica();
      this.#binlogServer = new BinlogServer({
        listen: this.#cfg.listen,
        heartbeatMs: this.#cfg.heartbeat,
        logger: this.#logger,
        source: {
          identity: () => ({
            serverId: this.#cfg.server_id,
            serverUuid: this.#uuid,
            isSource: this.#source !== undefined,
            name: this.#cfg.name,
          }),
          binlog: () => this.#source?.binlog,
          durable: () => this.#durable,
          subscribe: (l) => {
            this.#durableListeners.add(l);
            return () => this.#durableListeners.delete(l);
          },
          semiSync: this.#semi,
          semiSyncEnabled: () => this.#cfg.semi_sync.enabled,
        },
      });
      await this.#binlogServer.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#logger.info(
      {
        server: this.#cfg.name,
        role: this.#settings.role,
        uuid: this.#uuid,
        listen: this.replicationAddress(),
      },
      'database server started',
    );
  }

  // --- roles -------------------------------------------------------------------------------

  #becomeSource(): void {
    const db = openDatabase(this.#layout.dbFile, { backgroundCheckpoints: true });
    try {
      ensureStateTable(db);
      const state = readState(db);
      const executed = GtidSet.parse(state.gtidExecuted);
      const b = this.#cfg.binlog;
      const binlog = BinlogWriter.recover({
        ...this.#binlogFiles(),
        clock: this.#clock,
        onDurable: (chunks) => this.#onDurable(chunks),
        warn: (m) => this.#logger.warn(m),
      });
      const pending = binlog.unexecuted(executed);
      if (pending.length > 0) {
        const applier = new Applier(db, executed, state);
        for (const g of pending) applier.apply(g, undefined);
        this.#logger.warn(
          { transactions: pending.length },
          'recovered logged transactions the database lacked',
        );
      }
      binlog.start(executed);
      this.#durable = binlog.current();
      const engine = new WriteEngine({
        db,
        binlog,
        serverUuid: this.#uuid,
        executed,
        format: b.format,
        clock: this.#clock,
      });
      this.#executed = executed;
      this.#source = { db, binlog, engine };
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** This server's binary log settings, as the source's writer and the replica's SQL thread open it. */
  #binlogFiles(): BinlogFileOptions {
    const b = this.#cfg.binlog;
    return {
      dir: this.#layout.binlogDir,
      serverId: this.#cfg.server_id,
      serverUuid: this.#uuid,
      serverVersion: SERVER_VERSION,
      maxSize: b.max_size,
      expireMs: b.expire,
      maxTotalSize: b.max_total_size,
      sync: b.sync,
    };
  }

  #onDurable(chunks: readonly DurableChunk[]): void {
    const last = chunks[chunks.length - 1];
    if (last !== undefined) this.#durable = { file: last.file, pos: last.start + last.bytes.length };
    for (const l of this.#durableListeners) l(chunks);
  }

  #closeSource(): void {
    const s = this.#source;
    if (s === undefined) return;
    this.#source = undefined;
    this.#semi.releaseAll();
    this.#binlogServer?.disconnectAll();
    try {
      s.binlog.close();
    } finally {
      s.db.close();
    }
  }

  async #becomeReplica(): Promise<void> {
    const relay = RelayLog.recover({
      dir: this.#layout.relayDir,
      serverId: this.#cfg.server_id,
      serverUuid: this.#uuid,
      serverVersion: SERVER_VERSION,
      maxSize: this.#cfg.relay_log.max_size,
      syncIntervalMs: this.#cfg.relay_log.sync_interval,
      clock: this.#clock,
      warn: (m) => this.#logger.warn(m),
    });
    const unsubscribe = relay.onWritten((segments) => this.#replica?.sql?.publish(segments));
    this.#replica = { relay, io: undefined, sql: undefined, unsubscribe };
    await this.#startSql();
    if (this.#settings.source !== null) this.#startIo();
  }

  async #startSql(): Promise<void> {
    const r = this.#replica;
    if (r === undefined || r.sql?.running === true) return;
    this.#sqlError = undefined;
    const sql = new SqlThread(
      {
        name: this.#cfg.name,
        dbFile: this.#layout.dbFile,
        relayDir: this.#layout.relayDir,
        segments: r.relay.writtenSegments(),
        binlog: this.#binlogFiles(),
      },
      {
        onProgress: (p) => this.#onProgress(p),
        onSegmentDone: (name) => {
          if (this.#cfg.relay_log.purge) this.#replica?.relay.purge(name);
        },
        onError: (code, message) => {
          this.#sqlError = {
            errno: sqlErrno(code),
            code,
            message,
            at: new Date(this.#clock.wallNow()).toISOString(),
          };
          this.#logger.error({ code, err: message }, 'replica SQL thread stopped');
        },
        onExit: () => {},
      },
      this.#logger,
    );
    r.sql = sql;
    try {
      await sql.started();
      // Segments written while the worker was starting.
      sql.publish(r.relay.writtenSegments());
    } catch {
      // The error is in Last_SQL_Error.
    }
  }

  #onProgress(p: SqlProgress): void {
    this.#progress = p;
    this.#executed = GtidSet.parse(p.executed);
    this.#lag.add(p.lagUs);
    if (this.#gtidWaiters.length > 0) {
      const still: { set: GtidSet; resolve: () => void }[] = [];
      for (const w of this.#gtidWaiters) {
        if (w.set.isSubsetOf(this.#executed)) w.resolve();
        else still.push(w);
      }
      this.#gtidWaiters = still;
    }
  }

  #startIo(): void {
    const r = this.#replica;
    const source = this.#settings.source;
    if (r === undefined || source === null || r.io?.state === 'Yes' || r.io?.state === 'Connecting') return;
    r.io = new IoThread({
      name: this.#cfg.name,
      serverId: this.#cfg.server_id,
      serverUuid: this.#uuid,
      source,
      autoPosition: this.#settings.autoPosition,
      expectedSourceUuid: () => this.#settings.sourceUuid,
      semiSync: true,
      netTimeoutMs: this.#cfg.net_timeout,
      reconnect: { minMs: this.#cfg.reconnect.min, maxMs: this.#cfg.reconnect.max },
      relay: r.relay,
      gtidSet: () => this.#executed.union(r.relay.retrieved),
      startPosition: () => {
        if (r.relay.lastSource !== undefined) return r.relay.lastSource;
        const p = this.#progress?.position;
        return p !== undefined && p.sourceLogFile !== ''
          ? { file: p.sourceLogFile, pos: p.execSourceLogPos }
          : undefined;
      },
      clock: this.#clock,
      random: this.#random,
      logger: this.#logger,
      onConnected: (s) => {
        if (this.#settings.sourceUuid !== s.serverUuid) {
          this.#settings = { ...this.#settings, sourceUuid: s.serverUuid };
          saveReplicationSettings(this.#cfg.data_dir, this.#settings);
        }
      },
    });
    r.io.start();
  }

  async #closeReplica(): Promise<void> {
    const r = this.#replica;
    if (r === undefined) return;
    await r.io?.stop();
    await r.sql?.stop();
    r.unsubscribe();
    await r.relay.close();
    this.#replica = undefined;
  }

  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#control.then(fn, fn);
    this.#control = run.catch(() => {});
    return run;
  }

  // --- client API --------------------------------------------------------------------------

  /** Runs a write transaction on the source; resolves once durable and (semi-sync) acknowledged. */
  async execute(requests: readonly StatementRequest[], format?: BinlogFormat): Promise<ExecuteResponse> {
    const s = this.#source;
    if (s === undefined)
      throw new HastackError(
        'HASTACK_DB_READ_ONLY',
        `${this.#cfg.name} is a read-only replica: send writes to the source${this.#settings.source === null ? '' : ` (${formatHostPort(this.#settings.source.host, this.#settings.source.port)})`}`,
      );
    if (this.#superReadOnly)
      throw new HastackError(
        'HASTACK_DB_READ_ONLY',
        `${this.#cfg.name} is read-only (switchover in progress)`,
      );
    const outcome = s.engine.execute(requests, format);
    if (outcome.commit === undefined) return { ...outcome, semiSync: undefined };
    await s.binlog.flush();
    const key = positionKey(outcome.commit.file, outcome.commit.end);
    const semiSync = await new Promise<SemiSyncOutcome>((resolve) => {
      this.#semi.waitFor(key, resolve);
      this.#armSemiTimer();
    });
    return { ...outcome, semiSync };
  }

  #armSemiTimer(): void {
    if (this.#semiTimer !== undefined) return;
    const deadline = this.#semi.nextDeadline();
    if (deadline === undefined) return;
    this.#semiTimer = setTimeout(
      () => {
        this.#semiTimer = undefined;
        this.#semi.tick();
        this.#armSemiTimer();
      },
      Math.max(1, deadline - this.#clock.now()),
    );
  }

  /** Read-only statements; optionally waits until the given GTIDs are applied here (read your writes). */
  async query(
    requests: readonly StatementRequest[],
    options: { waitForGtids?: string; timeoutMs?: number } = {},
  ): Promise<{ results: StatementResult[]; executedGtidSet: string }> {
    if (options.waitForGtids !== undefined && options.waitForGtids !== '')
      await this.waitForGtids(GtidSet.parse(options.waitForGtids), options.timeoutMs ?? 5_000);
    const reader = this.#reader;
    if (reader === undefined) throw new HastackError('HASTACK_DB_CLOSED', 'the server is stopped');
    return { results: reader.query(requests), executedGtidSet: this.#executed.toString() };
  }

  /** WAIT_FOR_EXECUTED_GTID_SET. */
  waitForGtids(set: GtidSet, timeoutMs: number): Promise<void> {
    if (set.isSubsetOf(this.#executed)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        set,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#gtidWaiters = this.#gtidWaiters.filter((w) => w !== waiter);
        reject(
          new HastackError(
            'HASTACK_DB_WAIT_TIMEOUT',
            `${this.#cfg.name} has not applied ${set.subtract(this.#executed).toString()} after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#gtidWaiters.push(waiter);
    });
  }

  /** Canonical content checksum of the user tables (not the replication state). */
  checksum(): { checksum: string; tables: number; rows: number } {
    return contentChecksum(this.#layout.dbFile, [STATE_TABLE]);
  }

  // --- control -----------------------------------------------------------------------------

  setFormat(format: BinlogFormat): void {
    this.#cfg = { ...this.#cfg, binlog: { ...this.#cfg.binlog, format } };
    if (this.#source !== undefined) this.#source.engine.format = format;
  }

  /** SET GLOBAL super_read_only = ON|OFF on a source. */
  setReadOnly(on: boolean): void {
    this.#requireSource();
    this.#superReadOnly = on;
  }

  /** FLUSH BINARY LOGS. */
  rotateBinlog(): LogPosition {
    const s = this.#requireSource();
    s.binlog.rotate();
    void s.binlog.flush();
    return s.binlog.current();
  }

  /** PURGE BINARY LOGS TO 'file'. */
  purgeBinlogs(to: string): string[] {
    return this.#requireSource().binlog.purgeTo(to);
  }

  #requireSource(): SourceParts {
    if (this.#source === undefined)
      throw new HastackError(
        'HASTACK_DB_NOT_SOURCE',
        `${this.#cfg.name} is a replica: this needs the source`,
      );
    return this.#source;
  }

  #requireReplica(): ReplicaParts {
    if (this.#replica === undefined)
      throw new HastackError(
        'HASTACK_DB_NOT_REPLICA',
        `${this.#cfg.name} is a source: it has no replica threads`,
      );
    return this.#replica;
  }

  /** START REPLICA [IO_THREAD | SQL_THREAD]. */
  replicaStart(thread?: 'io' | 'sql'): Promise<void> {
    return this.#serialize(async () => {
      this.#requireReplica();
      if (thread !== 'io') await this.#startSql();
      if (thread !== 'sql') {
        if (this.#settings.source === null)
          throw new HastackError('HASTACK_DB_NO_SOURCE', `${this.#cfg.name} has no source configured`);
        this.#startIo();
      }
    });
  }

  /** STOP REPLICA [IO_THREAD | SQL_THREAD]. */
  replicaStop(thread?: 'io' | 'sql'): Promise<void> {
    return this.#serialize(async () => {
      const r = this.#requireReplica();
      if (thread !== 'sql') await r.io?.stop();
      if (thread !== 'io') await r.sql?.stop();
    });
  }

  /** RESET REPLICA [ALL]: forgets the relay log (and with all, the source). */
  replicaReset(all = false): Promise<void> {
    return this.#serialize(async () => {
      const r = this.#requireReplica();
      if (r.io !== undefined && r.io.state !== 'No') throw stillRunning(this.#cfg.name);
      if (r.sql?.running === true) throw stillRunning(this.#cfg.name);
      await r.relay.reset();
      const db = openDatabase(this.#layout.dbFile);
      try {
        db.exec(
          `UPDATE ${STATE_TABLE} SET relay_log_file = '', relay_log_pos = 0, source_log_file = '', exec_source_log_pos = 0`,
        );
      } finally {
        db.close();
      }
      this.#sqlError = undefined;
      r.io = undefined;
      this.#settings = {
        ...this.#settings,
        sourceUuid: null,
        ...(all ? { source: null } : {}),
      };
      saveReplicationSettings(this.#cfg.data_dir, this.#settings);
    });
  }

  /** CHANGE REPLICATION SOURCE TO: follow another source (a source is demoted to a replica). */
  changeSource(source: HostPort, autoPosition = true): Promise<void> {
    return this.#serialize(async () => {
      const wasSource = this.#source !== undefined;
      if (wasSource) this.#closeSource();
      this.#superReadOnly = false;
      this.#settings = { ...this.#settings, role: 'replica', source, autoPosition, sourceUuid: null };
      saveReplicationSettings(this.#cfg.data_dir, this.#settings);
      if (this.#replica === undefined) {
        await this.#becomeReplica();
      } else {
        await this.#replica.io?.stop();
        this.#replica.io = undefined;
        await this.#startSql();
        this.#startIo();
      }
      this.#logger.info({ source, wasSource }, 'replication source changed');
    });
  }

  /**
   * Makes this replica the source: stops receiving, applies everything already in
   * the relay log (MHA/MaxScale drain before promoting), then opens the write path.
   */
  promote(): Promise<{ executedGtidSet: string }> {
    return this.#serialize(async () => {
      if (this.#source !== undefined) return { executedGtidSet: this.#executed.toString() };
      const r = this.#replica;
      if (r !== undefined) {
        await r.io?.stop();
        if (r.sql?.running === true) await r.sql.drain();
        else {
          // Not running: start it to apply what was received, then drain.
          await this.#startSql();
          const started = r.sql as SqlThread | undefined;
          if (started?.running !== true)
            throw new HastackError(
              'HASTACK_DB_PROMOTE',
              `cannot promote ${this.#cfg.name}: the SQL thread fails (${this.#sqlError?.message ?? 'unknown error'})`,
            );
          await started.drain();
        }
        if (this.#sqlError !== undefined)
          throw new HastackError(
            'HASTACK_DB_PROMOTE',
            `cannot promote ${this.#cfg.name}: ${this.#sqlError.message}`,
          );
        await this.#closeReplica();
      }
      this.#settings = { ...this.#settings, role: 'source', source: null, sourceUuid: null };
      saveReplicationSettings(this.#cfg.data_dir, this.#settings);
      this.#superReadOnly = false;
      this.#becomeSource();
      this.#logger.warn({ executed: this.#executed.toString() }, 'promoted to source');
      return { executedGtidSet: this.#executed.toString() };
    });
  }

  /** Applies a reloaded config: tunables live; identity and addresses need a restart. */
  update(cfg: DbServerConfig): void {
    const old = this.#cfg;
    const fixed = ['server_id', 'data_dir'] as const;
    for (const k of fixed)
      if (JSON.stringify(old[k]) !== JSON.stringify(cfg[k]))
        throw new HastackError(
          'HASTACK_DB_RELOAD',
          `database server ${cfg.name}: changing ${k} needs a restart of the server`,
        );
    for (const k of ['listen', 'http'] as const)
      if (JSON.stringify(old[k]) !== JSON.stringify(cfg[k]))
        throw new HastackError(
          'HASTACK_DB_RELOAD',
          `database server ${cfg.name}: changing ${k} needs a restart`,
        );
    this.#cfg = cfg;
    this.#semi.update(this.#semiOptions(cfg));
    if (this.#source !== undefined) this.#source.engine.format = cfg.binlog.format;
  }

  // --- status ------------------------------------------------------------------------------

  snapshot(httpUrl: string): DbServerSnapshot {
    const role = this.#settings.role;
    return {
      name: this.#cfg.name,
      serverId: this.#cfg.server_id,
      serverUuid: this.#uuid,
      role,
      readOnly: this.#source === undefined || this.#superReadOnly,
      binlogFormat: this.#cfg.binlog.format.toUpperCase(),
      dataDir: this.#cfg.data_dir,
      http: httpUrl,
      replicationListen: formatHostPort(this.replicationAddress().host, this.replicationAddress().port),
      executedGtidSet: this.#executed.toString(),
      source: this.#sourceStatus(),
      replica: this.#replicaStatus(),
    };
  }

  #sourceStatus(): SourceStatus {
    const s = this.#source;
    const binlogs =
      s?.binlog.segments().map((x) => ({ name: x.name, size: x.size })) ?? this.#binlogsOnDisk();
    const current = s?.binlog.current() ??
      this.#progress?.binlog ?? { file: binlogs.at(-1)?.name ?? '', pos: binlogs.at(-1)?.size ?? 0 };
    return {
      file: current.file,
      position: current.pos,
      binlogFormat: this.#cfg.binlog.format.toUpperCase(),
      executedGtidSet: this.#executed.toString(),
      purgedGtidSet: s?.binlog.purged.toString() ?? '',
      binlogs,
      semiSync: this.#semi.status(),
      replicas: this.#binlogServer?.replicas() ?? [],
      counters: s === undefined ? undefined : { ...s.engine.counters },
    };
  }

  #binlogsOnDisk(): { name: string; size: number }[] {
    try {
      return readIndex(this.#layout.binlogDir, BINLOG_BASENAME).map((name) => {
        // The segment being written is preallocated: its size on disk is not its end.
        const current = this.#progress?.binlog;
        if (current !== undefined && current.file === name) return { name, size: current.pos };
        let size = 0;
        try {
          size = statSync(join(this.#layout.binlogDir, name)).size;
        } catch {
          // Purged meanwhile.
        }
        return { name, size };
      });
    } catch {
      return [];
    }
  }

  #replicaStatus(): ReplicaStatus | undefined {
    const r = this.#replica;
    if (r === undefined) return undefined;
    const io = r.io;
    const sqlRunning = r.sql?.running === true;
    const p = this.#progress;
    const relayCurrent = r.relay.current();
    const read = io?.readPosition ?? r.relay.lastSource;
    const source = this.#settings.source;
    const ioState = io?.state ?? 'No';
    let behind: number | null = null;
    if (sqlRunning && ioState === 'Yes') {
      if (p === undefined || p.caughtUp) behind = 0;
      else behind = Math.max(0, Math.floor((this.#clock.wallNow() - p.lastOriginalCommitUs / 1000) / 1000));
    }
    return {
      sourceHost: source?.host ?? '',
      sourcePort: source?.port ?? 0,
      sourceServerId: io?.source?.serverId ?? null,
      sourceUuid: io?.source?.serverUuid ?? this.#settings.sourceUuid,
      connectRetryMs: this.#cfg.reconnect.min,
      ioRunning: ioState,
      sqlRunning: sqlRunning ? 'Yes' : 'No',
      sourceLogFile: read?.file ?? '',
      readSourceLogPos: read?.pos ?? 0,
      relayLogFile: p?.position.relayLogFile || relayCurrent?.file || '',
      relayLogPos: p?.position.relayLogPos ?? 0,
      relaySourceLogFile: p?.position.sourceLogFile ?? '',
      execSourceLogPos: p?.position.execSourceLogPos ?? 0,
      relayLogSpace: r.relay.totalSize(),
      secondsBehindSource: behind,
      lastIoError: io?.lastError,
      lastSqlError: this.#sqlError,
      retrievedGtidSet: r.relay.retrieved.toString(),
      executedGtidSet: this.#executed.toString(),
      autoPosition: this.#settings.autoPosition,
      semiSync: true,
      lag: this.#lag.summary(),
      appliedTransactions: p?.applied ?? 0,
      ioReconnects: io?.stats.reconnects ?? 0,
    };
  }

  resetLagWindow(): void {
    this.#lag.reset();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#semiTimer);
    await this.#control.catch(() => {});
    await this.#binlogServer?.stop();
    try {
      this.#closeSource();
    } catch (err) {
      this.#logger.error({ err: errorMessage(err) }, 'closing the binary log failed');
    }
    await this.#closeReplica();
    this.#reader?.close();
    this.#reader = undefined;
    await this.#checkpointer?.stop();
    this.#checkpointer = undefined;
    for (const w of this.#gtidWaiters) w.resolve();
    this.#gtidWaiters = [];
  }
}

function stillRunning(name: string): HastackError {
  return new HastackError(
    'HASTACK_DB_REPLICA_RUNNING',
    `stop the replica threads of ${name} first (hastack db replica stop)`,
  );
}
