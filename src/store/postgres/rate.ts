// Per-webhook rate limits on PostgreSQL: GCRA's arithmetic is takeRate (src/domain/rate.ts),
// the same function SQLite calls; here its read-modify-write runs in a short transaction that
// holds the webhook's row lock, so concurrent workers on any node take their sends one after
// the other from the latest state. The first statement inserts the row when there is none
// (at tat = now, which takeRate treats as "never limited") or locks it, and returns its tat.
import type { PoolClient } from 'pg';
import { takeRate, type RateGrant } from '../../domain/rate.js';

export async function takeRateTokens(c: PoolClient, webhookId: string, perSecond: number, count: number, now: number): Promise<RateGrant> {
  const { rows } = await c.query({
    name: 'herald_lock_rate',
    text: `INSERT INTO webhook_rate AS r (webhook_id, tat, granted, updated_at) VALUES ($1, $2::float8, 0, $3::bigint)
           ON CONFLICT (webhook_id) DO UPDATE SET tat = r.tat
           RETURNING tat`,
    values: [webhookId, now, now],
  });
  const grant = takeRate(Number(rows[0]!.tat), perSecond, count, now);
  await c.query({
    name: 'herald_store_rate',
    text: 'UPDATE webhook_rate SET tat = $2, granted = $3, updated_at = $4 WHERE webhook_id = $1',
    values: [webhookId, grant.tat, grant.granted, now],
  });
  return { granted: grant.granted, retryAt: grant.retryAt };
}
