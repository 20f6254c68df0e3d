// Portal sessions on SQLite (CONTRACT section 6). Opening a link reads and marks it in one
// write transaction behind the write lock, so it opens once.
import { linkRefusal } from '../../domain/portal.js';
import type { Page, PageRequest, PortalSession } from '../store.js';
import { paged, rowToPortalSession, type Row } from '../rows.js';
import type { SqliteConnection } from './connection.js';

const NO_CURSOR = Number.MAX_SAFE_INTEGER;

export function createPortalSession(c: SqliteConnection, s: PortalSession, tokenHash: string): Promise<void> {
  return c.write(() => {
    c.sql('INSERT INTO portal_sessions (id, workspace_id, access, theme, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(s.id, s.workspaceId, s.access, JSON.stringify(s.theme), tokenHash, s.expiresAt, s.createdAt);
  });
}

export function listPortalSessions(c: SqliteConnection, workspaceId: string, page: PageRequest): Page<PortalSession> {
  const rows = c.sql('SELECT * FROM portal_sessions WHERE workspace_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?')
    .all(workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1) as Row[];
  return paged(rows, page.limit, rowToPortalSession);
}

export function revokePortalSessions(c: SqliteConnection, workspaceId: string, id: string | null, now: number): Promise<number> {
  return c.write(
    () => c.sql('UPDATE portal_sessions SET revoked_at = coalesce(revoked_at, ?) WHERE workspace_id = ? AND (? IS NULL OR id = ?)')
      .run(now, workspaceId, id, id).changes,
  );
}

export function openPortalLink(c: SqliteConnection, tokenHash: string, sessionHash: string, now: number) {
  return c.write(() => {
    const row = c.sql('SELECT * FROM portal_sessions WHERE token_hash = ?').get(tokenHash) as Row | undefined;
    const session = row ? rowToPortalSession(row) : null;
    const refusal = linkRefusal(session, now);
    if (refusal || !session) return { session, refusal };
    c.sql('UPDATE portal_sessions SET used_at = ?, session_hash = ? WHERE id = ?').run(now, sessionHash, session.id);
    return { session: { ...session, usedAt: now }, refusal: null };
  });
}

export function findPortalSession(c: SqliteConnection, sessionHash: string): PortalSession | null {
  const row = c.sql('SELECT * FROM portal_sessions WHERE session_hash = ?').get(sessionHash) as Row | undefined;
  return row ? rowToPortalSession(row) : null;
}
