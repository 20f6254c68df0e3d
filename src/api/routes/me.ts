// Who the API key belongs to, so that a client (the dashboard) can tell an admin key from a
// workspace key without probing.
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.js';
import { resource, serve, type Json } from '../contract.js';

const meSchema = {
  oneOf: [
    { type: 'object', properties: { kind: { type: 'string', const: 'admin' } }, required: ['kind'] },
    { type: 'object', properties: { kind: { type: 'string', const: 'workspace' }, workspace_id: { type: 'string' } }, required: ['kind', 'workspace_id'] },
  ],
} as const;

/** `{kind: 'admin'}` or `{kind: 'workspace', workspace_id}`. */
export type Me = Json<typeof meSchema>;

export const meApi = resource('me', {
  get: {
    method: 'GET', url: '/me', access: 'key', summary: 'Who the API key belongs to: the admin, or a workspace',
    answers: { 200: meSchema },
  },
});

export function meRoutes(_services: Services): FastifyPluginAsync {
  return async (app) => {
    serve(app, meApi.get, async (req) => {
      const p = req.principal;
      if (p?.kind === 'workspace') return { kind: 'workspace', workspace_id: p.workspaceId };
      return { kind: 'admin' };
    });
  };
}
