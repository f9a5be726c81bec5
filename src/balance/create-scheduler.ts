import type { SchedulerName } from '../config/model.ts';
import { HastackError } from '../core/errors.ts';
import { DestinationHashScheduler } from './dh.ts';
import { FailoverScheduler } from './fo.ts';
import { LocalityLeastConnectionScheduler } from './lblc.ts';
import { LocalityLeastConnectionReplicationScheduler } from './lblcr.ts';
import { LeastConnectionScheduler } from './lc.ts';
import { DEFAULT_MH_TABLE_SIZE, MaglevHashScheduler } from './mh.ts';
import { NeverQueueScheduler } from './nq.ts';
import { OverflowScheduler } from './ovf.ts';
import { RoundRobinScheduler } from './rr.ts';
import { ShortestExpectedDelayScheduler } from './sed.ts';
import { SourceHashScheduler } from './sh.ts';
import { TwoChoicesScheduler } from './twos.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';
import { WeightedLeastConnectionScheduler } from './wlc.ts';
import { WeightedRoundRobinScheduler } from './wrr.ts';

/**
 * A fresh scheduler by its IPVS name. Call `update()` with the destinations
 * before the first `pick()`: until then every pick returns undefined.
 */
export function createScheduler(name: SchedulerName, options: SchedulerOptions = {}): Scheduler {
  const flags = options.flags ?? {};
  switch (name) {
    case 'rr':
      return new RoundRobinScheduler();
    case 'wrr':
      return new WeightedRoundRobinScheduler();
    case 'lc':
      return new LeastConnectionScheduler();
    case 'wlc':
      return new WeightedLeastConnectionScheduler();
    case 'sed':
      return new ShortestExpectedDelayScheduler();
    case 'nq':
      return new NeverQueueScheduler();
    case 'sh':
      return new SourceHashScheduler(flags);
    case 'dh':
      return new DestinationHashScheduler();
    case 'mh':
      return new MaglevHashScheduler(flags, options.mhTableSize ?? DEFAULT_MH_TABLE_SIZE);
    case 'lblc':
      return new LocalityLeastConnectionScheduler();
    case 'lblcr':
      return new LocalityLeastConnectionReplicationScheduler();
    case 'fo':
      return new FailoverScheduler();
    case 'ovf':
      return new OverflowScheduler();
    case 'twos':
      return new TwoChoicesScheduler(options.random);
    default:
      throw new HastackError('HASTACK_BALANCE_UNKNOWN_SCHEDULER', `unknown scheduler "${String(name)}"`, {
        details: { scheduler: name },
      });
  }
}
