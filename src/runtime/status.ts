import type { ConfigWarning } from '../config/model.ts';
import type { VirtualServerSnapshot } from '../l4/snapshot.ts';

/** The JSON served by `GET /status` and read by `hastack status`. */
export interface RuntimeStatus {
  version: string;
  pid: number;
  startedAt: string;
  uptimeSeconds: number;
  config: { kind: 'yaml' | 'keepalived' | 'builtin'; file?: string };
  warnings: ConfigWarning[];
  reloads: { count: number; failures: number; lastAt?: number; lastError?: string };
  admin: string | undefined;
  virtualServers: VirtualServerSnapshot[];
  /** Snapshots of component services by section key (memcached, vrrp, http...). */
  services: Record<string, unknown>;
  /** Configured components that are not running because the machine lacks what they need (e.g. the native addon). */
  unavailable?: Record<string, { code: string; message: string }>;
}
