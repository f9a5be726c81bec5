import type { TrackProcessConfig } from '../../src/vrrp/process-match.ts';

/** A vrrp_track_process config with keepalived's defaults: name = process, weight 1, quorum 1..any, no delays. */
export function trackProcessConfig(name: string, over: Partial<TrackProcessConfig> = {}): TrackProcessConfig {
  return {
    name,
    process: name,
    fullCommand: false,
    weight: 1,
    weightReverse: false,
    quorum: 1,
    quorumMax: Number.POSITIVE_INFINITY,
    forkDelayMs: 0,
    terminateDelayMs: 0,
    ...over,
  };
}
