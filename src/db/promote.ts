import { errorMessage } from '../core/errors.ts';
import { dbRequest, type ServerTarget } from './http-client.ts';
import { type PromotionPlan, type PromotionView, planPromotion } from './promote-plan.ts';
import type { DbServerSnapshot } from './status-types.ts';

/*
 * `hastack db promote [NAME]`: fail over (or switch over) a cluster through the
 * servers' HTTP APIs, as MHA or MaxScale would:
 *   1. ask every server for its status; pick the most advanced replica (or NAME);
 *   2. switchover only: make the live source read-only and wait until the
 *      candidate has applied everything it executed;
 *   3. promote the candidate: it stops receiving, applies its whole relay log,
 *      then becomes writable;
 *   4. re-point every other reachable server (the old source too) at it by GTID
 *      auto-positioning.
 */

export interface PromoteReport {
  plan: PromotionPlan;
  newSource: string;
  replicationAddress: string;
  executedGtidSet: string;
  repointed: string[];
  failed: { name: string; error: string }[];
}

export async function promoteCluster(
  cluster: readonly ServerTarget[],
  o: { name?: string; token?: string; log?: (line: string) => void } = {},
): Promise<PromoteReport> {
  const log = o.log ?? (() => {});
  const req = { token: o.token, timeoutMs: 3_000 };
  const statuses = await Promise.all(
    cluster.map(async (t) => {
      try {
        return { t, s: await dbRequest<DbServerSnapshot>(t, 'GET', '/db/status', undefined, req) };
      } catch {
        return { t, s: undefined };
      }
    }),
  );
  const views: PromotionView[] = statuses.map(({ t, s }) => ({
    name: t.name,
    reachable: s !== undefined,
    role: s?.role,
    executed: s?.executedGtidSet ?? '',
    retrieved: s?.replica?.retrievedGtidSet ?? '',
    sqlError: s?.replica?.lastSqlError?.message,
  }));
  const plan = planPromotion(views, o.name);
  for (const w of plan.warnings) log(`warning: ${w}`);
  if (plan.unreachable.length > 0) log(`unreachable: ${plan.unreachable.join(', ')}`);
  log(`promoting ${plan.candidate}: ${plan.reason}`);
  const byName = new Map(cluster.map((t) => [t.name, t]));
  const candidate = byName.get(plan.candidate)!;
  const long = { token: o.token, timeoutMs: 120_000 };

  if (plan.liveSource !== undefined) {
    const old = byName.get(plan.liveSource)!;
    log(`switchover: ${plan.liveSource} becomes read-only`);
    await dbRequest(old, 'POST', '/db/read-only', { on: true }, req);
    const st = await dbRequest<DbServerSnapshot>(old, 'GET', '/db/status', undefined, req);
    log(`waiting for ${plan.candidate} to apply ${st.executedGtidSet || '(nothing)'}`);
    await dbRequest(candidate, 'POST', '/db/wait', { gtids: st.executedGtidSet, timeout_ms: 60_000 }, long);
  }

  const promoted = await dbRequest<{ executedGtidSet: string }>(candidate, 'POST', '/db/promote', {}, long);
  const st = await dbRequest<DbServerSnapshot>(candidate, 'GET', '/db/status', undefined, req);
  log(
    `${plan.candidate} is the source (replication ${st.replicationListen}, executed ${promoted.executedGtidSet})`,
  );

  const repointed: string[] = [];
  const failed: { name: string; error: string }[] = [];
  for (const name of plan.repoint) {
    try {
      await dbRequest(
        byName.get(name)!,
        'POST',
        '/db/replica/source',
        { source: st.replicationListen, auto_position: true },
        long,
      );
      repointed.push(name);
      log(`${name} now replicates from ${plan.candidate}`);
    } catch (err) {
      failed.push({ name, error: errorMessage(err) });
      log(`could not re-point ${name}: ${errorMessage(err)}`);
    }
  }
  return {
    plan,
    newSource: plan.candidate,
    replicationAddress: st.replicationListen,
    executedGtidSet: promoted.executedGtidSet,
    repointed,
    failed,
  };
}
