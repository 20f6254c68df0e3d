// Per-webhook rate limits on PostgreSQL: GCRA (src/domain/rate.ts) in one atomic statement.
// INSERT … ON CONFLICT DO UPDATE locks the webhook's row, so concurrent workers on any node
// take their sends one after the other from the latest state; each SET expression reads the
// row as it was, and `granted` is stored so that RETURNING can give it back.
import type { Pool } from 'pg';
import { RATE_EPSILON, rateInterval, rateRetryAt, rateTolerance, type RateGrant } from '../../domain/rate.js';

// $2 interval ms, $3 tolerance ms, $4 count, $5 now. The grant, from a state `tat`:
// least(count, greatest(0, floor((now + tolerance - greatest(tat, now)) / interval + ε) + 1)).
const GRANT = (tat: string) =>
  `least($4::int, greatest(0, floor(($5::float8 + $3::float8 - greatest(${tat}, $5::float8)) / $2::float8 + ${RATE_EPSILON}::float8)::int + 1))`;

const TAKE = `
  INSERT INTO webhook_rate AS r (webhook_id, tat, granted, updated_at)
  SELECT $1, $5::float8 + g * $2::float8, g, $5::bigint FROM (SELECT ${GRANT('$5::float8')} AS g) AS fresh
  ON CONFLICT (webhook_id) DO UPDATE SET
    granted = ${GRANT('r.tat')},
    tat = greatest(r.tat, $5::float8) + ${GRANT('r.tat')} * $2::float8,
    updated_at = $5::bigint
  RETURNING granted, tat`;

export async function takeRateTokens(pool: Pool, webhookId: string, perSecond: number, count: number, now: number): Promise<RateGrant> {
  const { rows } = await pool.query({
    name: 'herald_take_rate',
    text: TAKE,
    values: [webhookId, rateInterval(perSecond), rateTolerance(perSecond), count, now],
  });
  const row = rows[0]!;
  return { granted: Number(row.granted), retryAt: rateRetryAt(Number(row.tat), perSecond, now) };
}
