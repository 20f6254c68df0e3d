// Portal sessions on PostgreSQL (CONTRACT section 6). Opening a link reads it FOR UPDATE and
// marks it in one transaction, so it opens once however many nodes are asked at once.
import { linkRefusal, type PortalRefusal } from '../../domain/portal.js';
import type { Page, PageRequest, PortalSession } from '../store.js';
import { paged, rowToPortalSession } from '../rows.js';
import type { PgContext } from './admin.js';

const NO_CURSOR = Number.MAX_SAFE_INTEGER;

export async function createPortalSession(x: PgContext, s: PortalSession, tokenHash: string): Promise<void> {
  await x.pool.query(
    'INSERT INTO portal_sessions (id, workspace_id, access, theme, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [s.id, s.workspaceId, s.access, JSON.stringify(s.theme), tokenHash, s.expiresAt, s.createdAt],
  );
}

export async function listPortalSessions(x: PgContext, workspaceId: string, page: PageRequest): Promise<Page<PortalSession>> {
  const { rows } = await x.pool.query(
    'SELECT * FROM portal_sessions WHERE workspace_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3',
    [workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1],
  );
  return paged(rows, page.limit, rowToPortalSession);
}

export async function revokePortalSessions(x: PgContext, workspaceId: string, id: string | null, now: number): Promise<number> {
  const result = await x.pool.query(
    'UPDATE portal_sessions SET revoked_at = coalesce(revoked_at, $1) WHERE workspace_id = $2 AND ($3::text IS NULL OR id = $3)',
    [now, workspaceId, id],
  );
  return result.rowCount ?? 0;
}

export function openPortalLink(
  x: PgContext, tokenHash: string, sessionHash: string, now: number,
): Promise<{ session: PortalSession | null; refusal: PortalRefusal | null }> {
  return x.tx(async (c) => {
    const [row] = (await c.query('SELECT * FROM portal_sessions WHERE token_hash = $1 FOR UPDATE', [tokenHash])).rows;
    const session = row ? rowToPortalSession(row) : null;
    const refusal = linkRefusal(session, now);
    if (refusal || !session) return { session, refusal };
    await c.query('UPDATE portal_sessions SET used_at = $1, session_hash = $2 WHERE id = $3', [now, sessionHash, session.id]);
    return { session: { ...session, usedAt: now }, refusal: null };
  });
}

export async function findPortalSession(x: PgContext, sessionHash: string): Promise<PortalSession | null> {
  const [row] = (await x.pool.query('SELECT * FROM portal_sessions WHERE session_hash = $1', [sessionHash])).rows;
  return row ? rowToPortalSession(row) : null;
}
