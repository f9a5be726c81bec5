/**
 * Server-wide settings and counters the protocol handlers read and write:
 * what `stats`, `stats settings` and `stats conns` report, and the runtime
 * knobs commands change (verbosity, flush permission). No I/O.
 */
export interface MemcacheSettings {
  /** The version the server reports (VERSION / stats version). */
  version: string;
  host: string;
  port: number;
  maxConnections: number;
  /** memcached's -R: requests handled per read event before yielding to other connections. */
  reqsPerEvent: number;
  /** memcached's -B: which protocols connections may use. */
  bindingProtocol: 'auto' | 'ascii' | 'binary';
  flushEnabled: boolean;
  /** Per-connection bound on reply bytes queued before the connection stops reading. */
  outputLimit: number;
  /** Longest request line (memcached: 2048) and longest get line. */
  maxLine: number;
  maxGetLine: number;
  idleTimeoutSec: number;
  tcpBacklog: number;
}

export interface ConnectionReport {
  id: number;
  addr: string;
  state: string;
  secsSinceLastCmd: number;
}

export class ServerState {
  readonly settings: MemcacheSettings;
  verbosity = 0;
  currConnections = 0;
  totalConnections = 0;
  rejectedConnections = 0;
  connectionStructures = 0;
  bytesRead = 0;
  bytesWritten = 0;
  connYields = 0;
  /** Reads paused because a client did not take its replies. */
  backpressurePauses = 0;
  listenDisabledNum = 0;
  acceptingConns = 1;
  /** Filled in by the socket shell for `stats conns`. */
  connections: () => ConnectionReport[] = () => [];
  /** rusage for `stats` (user, system seconds); the shell supplies process.cpuUsage. */
  rusage: () => { user: number; system: number } = () => ({ user: 0, system: 0 });
  pid = 0;

  constructor(settings: MemcacheSettings) {
    this.settings = settings;
  }
}
