import { HastackError } from '../core/errors.ts';
import { GtidSet } from './gtid-set.ts';

/*
 * Which replica to promote when the source fails (pure). Like MHA and MaxScale,
 * the most advanced replica wins: the one that has *received* the most (it
 * applies its whole relay log before it becomes writable), then the one that has
 * applied the most, then the name. A named replica is used as asked.
 */

export interface PromotionView {
  name: string;
  reachable: boolean;
  role: 'source' | 'replica' | undefined;
  /** Executed GTID set. */
  executed: string;
  /** Retrieved GTID set (relay log), for replicas. */
  retrieved: string;
  /** A stopped SQL thread with an error cannot be promoted safely. */
  sqlError: string | undefined;
}

export interface PromotionPlan {
  candidate: string;
  /** Reachable servers to re-point at the new source (the old source too, if reachable). */
  repoint: string[];
  /** The old source, if it is still reachable (a switchover). */
  liveSource: string | undefined;
  unreachable: string[];
  warnings: string[];
  reason: string;
}

export function planPromotion(views: readonly PromotionView[], requested?: string): PromotionPlan {
  const reachable = views.filter((v) => v.reachable);
  const unreachable = views.filter((v) => !v.reachable).map((v) => v.name);
  const sources = reachable.filter((v) => v.role === 'source');
  const replicas = reachable.filter((v) => v.role === 'replica');
  const received = new Map(
    replicas.map((v) => [v.name, GtidSet.parse(v.executed).addAll(GtidSet.parse(v.retrieved))]),
  );
  const warnings: string[] = [];
  if (sources.length > 1)
    warnings.push(`more than one server is a source (${sources.map((s) => s.name).join(', ')}): split brain`);

  let candidate: PromotionView | undefined;
  let reason: string;
  if (requested !== undefined) {
    candidate = views.find((v) => v.name === requested);
    if (candidate === undefined)
      throw new HastackError('HASTACK_DB_PROMOTE', `no server named "${requested}" in the cluster`);
    if (!candidate.reachable) throw new HastackError('HASTACK_DB_PROMOTE', `${requested} is not reachable`);
    if (candidate.role === 'source')
      throw new HastackError('HASTACK_DB_PROMOTE', `${requested} is already the source`);
    reason = 'named on the command line';
  } else {
    if (sources.length > 0)
      throw new HastackError(
        'HASTACK_DB_PROMOTE',
        `${sources[0]!.name} is a reachable source: name the replica to promote for a switchover`,
      );
    const eligible = replicas.filter((v) => v.sqlError === undefined);
    if (eligible.length === 0)
      throw new HastackError(
        'HASTACK_DB_PROMOTE',
        replicas.length === 0
          ? 'no reachable replica to promote'
          : 'every reachable replica has a stopped SQL thread with an error',
      );
    const score = (v: PromotionView) =>
      [received.get(v.name)!.count(), GtidSet.parse(v.executed).count()] as const;
    candidate = [...eligible].sort((a, b) => {
      const [ra, ea] = score(a);
      const [rb, eb] = score(b);
      return rb - ra || eb - ea || a.name.localeCompare(b.name);
    })[0]!;
    reason = `most advanced replica (received ${score(candidate)[0]} transactions)`;
  }
  if (candidate.sqlError !== undefined)
    warnings.push(
      `${candidate.name} has a SQL thread error (${candidate.sqlError}): promotion will fail until it is fixed`,
    );
  const mine = received.get(candidate.name) ?? GtidSet.parse(candidate.executed);
  for (const v of replicas) {
    if (v.name === candidate.name) continue;
    const extra = received.get(v.name)!.subtract(mine);
    if (!extra.isEmpty())
      warnings.push(
        `${v.name} has transactions ${candidate.name} lacks (${extra.toString()}): it will refuse to follow the new source`,
      );
  }
  const liveSource = sources.find((s) => s.name !== candidate!.name)?.name;
  return {
    candidate: candidate.name,
    repoint: reachable.filter((v) => v.name !== candidate!.name).map((v) => v.name),
    liveSource,
    unreachable,
    warnings,
    reason,
  };
}
