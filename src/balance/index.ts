export { isAvailable } from './available.ts';
export { createScheduler } from './create-scheduler.ts';
export { DestinationHashScheduler } from './dh.ts';
export { FailoverScheduler } from './fo.ts';
export { LocalityLeastConnectionScheduler } from './lblc.ts';
export { LocalityLeastConnectionReplicationScheduler } from './lblcr.ts';
export { LeastConnectionScheduler } from './lc.ts';
export {
  LOCALITY_DEFAULT_EXPIRATION_MS,
  LOCALITY_ENTRY_TIMEOUT_MS,
  LOCALITY_MAX_ENTRIES,
  type LocalityOptions,
} from './locality-table.ts';
export { DEFAULT_MH_TABLE_SIZE, MAX_MH_TABLE_SIZE, MaglevHashScheduler } from './mh.ts';
export { NeverQueueScheduler } from './nq.ts';
export { connOverhead } from './overhead.ts';
export { updateOverload } from './overload.ts';
export { OverflowScheduler } from './ovf.ts';
export { RoundRobinScheduler } from './rr.ts';
export { ShortestExpectedDelayScheduler } from './sed.ts';
export { SourceHashScheduler } from './sh.ts';
export { TwoChoicesScheduler } from './twos.ts';
export type { Destination, PickContext, Scheduler, SchedulerOptions } from './types.ts';
export { MAX_WEIGHT } from './validate-destinations.ts';
export { WeightedLeastConnectionScheduler } from './wlc.ts';
export { WeightedRoundRobinScheduler } from './wrr.ts';
