import type { Registry } from 'prom-client';
import type { RuntimeStatus } from '../runtime/status.ts';

/** What the admin API may do to the running process; the runtime implements it. */
export interface AdminController {
  readonly registry: Registry;
  status(): RuntimeStatus;
  reload(): Promise<void>;
  virtualServer(name: string): {
    setWeight(realServerKey: string, weight: number): void;
    drain(realServerKey: string): void;
  };
}
