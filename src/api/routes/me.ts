// Who the API key belongs to, so that a client (the dashboard) can tell an admin key from a
// workspace key without probing.
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.js';
import { resource, serve, type Json } from '../contract.js';
import { noKey } from '../auth.js';

const meSchema = {
  oneOf: [
    { type: 'object', properties: { kind: { type: 'string', const: 'admin' } }, required: ['kind'] },
    { type: 'object', properties: { kind: { type: 'string', const: 'workspace' }, workspace_id: { type: 'string' } }, required: ['kind', 'workspace_id'] },
    {
      type: 'object',
      properties: {
        kind: { type: 'string', const: 'portal' }, workspace_id: { type: 'string' }, access: { type: 'string', enum: ['manage', 'view'] },
        expires_at: { type: 'string', format: 'date-time' },
      },
      required: ['kind', 'workspace_id', 'access', 'expires_at'],
    },
  ],
} as const;

/** `{kind: 'admin'}`, `{kind: 'workspace', workspace_id}` or `{kind: 'portal', workspace_id, access, expires_at}` (a portal session). */
export type Me = Json<typeof meSchema>;

export const meApi = resource('me', {
  get: {
    method: 'GET', url: '/me', access: 'key', summary: 'Who the API key belongs to: the admin, a workspace, or a portal session of a workspace',
    answers: { 200: meSchema },
  },
});

export function meRoutes(_services: Services): FastifyPluginAsync {
  return async (app) => {
    serve(app, meApi.get, async (req) => {
      const p = req.principal;
      if (p?.kind === 'workspace') return { kind: 'workspace', workspace_id: p.workspaceId };
      if (p?.kind === 'portal') return { kind: 'portal', workspace_id: p.workspaceId, access: p.access, expires_at: new Date(p.expiresAt).toISOString() };
      if (p?.kind === 'admin') return { kind: 'admin' };
      // Never reached (authorise refuses a call without a principal), and never an admin by default.
      throw noKey();
    });
  };
}
