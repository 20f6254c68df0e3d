import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.js';

/**
 * Who the API key belongs to, so that a client (the dashboard) can tell an admin key from a
 * workspace key without probing: `{kind: 'admin'}` or `{kind: 'workspace', workspace_id}`.
 */
export function meRoutes(_services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/me', async (req) => {
      const p = req.principal;
      if (p?.kind === 'workspace') return { kind: 'workspace', workspace_id: p.workspaceId };
      return { kind: 'admin' };
    });
  };
}
