import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.js';
import { CLIENT_ID_PATTERN, newApiKey, newId } from '../../domain/ids.js';
import { ConflictError } from '../../store/store.js';
import { hashKey, requireAdmin, workspaceFor } from '../auth.js';
import { HttpError, badInput, notFound } from '../problems.js';
import { presentKey, presentWorkspace } from '../present.js';
import { pageQuery, pageRequest, pageResponse, withId, wsParams } from './common.js';

const name = { type: 'string', minLength: 1, maxLength: 200 } as const;
const uri = { type: ['string', 'null'], maxLength: 2048 } as const;

export function workspaceRoutes(services: Services): FastifyPluginAsync {
  const { store } = services;
  return async (app) => {
    app.post<{ Body: { name: string; uri?: string | null; id?: string } }>('/workspaces', {
      schema: {
        body: {
          type: 'object',
          properties: { name, uri, id: { type: 'string' } },
          required: ['name'],
          additionalProperties: false,
        },
      },
    }, async (req, reply) => {
      requireAdmin(req);
      const { id, uri: wsUri } = req.body;
      if (id !== undefined && !CLIENT_ID_PATTERN.test(id)) throw badInput('id', 'must be 1 to 64 letters, digits, _ or -');
      const now = Date.now();
      const workspace = {
        id: id ?? newId('ws', now),
        name: req.body.name,
        uri: wsUri ?? null,
        webhooksEnabled: false,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await store.createWorkspace(workspace);
      } catch (err) {
        if (err instanceof ConflictError) throw new HttpError(409, `a workspace with id ${workspace.id} already exists`, [{ path: 'id', message: 'is taken' }]);
        throw err;
      }
      reply.status(201);
      return presentWorkspace(workspace);
    });

    app.get<{ Querystring: { limit?: string; cursor?: string } }>('/workspaces', {
      schema: { querystring: { type: 'object', properties: pageQuery, additionalProperties: false } },
    }, async (req) => {
      requireAdmin(req);
      return pageResponse(await store.listWorkspaces(pageRequest(req.query)), presentWorkspace);
    });

    app.get<{ Params: { ws: string } }>('/workspaces/:ws', { schema: { params: wsParams } }, async (req) => {
      return presentWorkspace(await workspaceFor(req, services, req.params.ws));
    });

    app.patch<{ Params: { ws: string }; Body: { name?: string; uri?: string | null; webhooks_enabled?: boolean } }>('/workspaces/:ws', {
      schema: {
        params: wsParams,
        body: {
          type: 'object',
          properties: { name, uri, webhooks_enabled: { type: 'boolean' } },
          additionalProperties: false,
        },
      },
    }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      const updated = await store.updateWorkspace(
        req.params.ws,
        { name: req.body.name, uri: req.body.uri, webhooksEnabled: req.body.webhooks_enabled },
        Date.now(),
      );
      if (!updated) throw notFound(`workspace ${req.params.ws}`);
      return presentWorkspace(updated);
    });

    app.delete<{ Params: { ws: string } }>('/workspaces/:ws', { schema: { params: wsParams } }, async (req, reply) => {
      requireAdmin(req);
      if (!(await store.deleteWorkspace(req.params.ws))) throw notFound(`workspace ${req.params.ws}`);
      reply.status(204);
    });

    // ---- API keys of a workspace ----

    app.post<{ Params: { ws: string }; Body: { name?: string | null } | undefined }>('/workspaces/:ws/keys', {
      schema: {
        params: wsParams,
        body: { type: ['object', 'null'], properties: { name: { type: ['string', 'null'], maxLength: 200 } }, additionalProperties: false },
      },
    }, async (req, reply) => {
      await workspaceFor(req, services, req.params.ws);
      const now = Date.now();
      const key = newApiKey('workspace');
      const record = { id: newId('key', now), workspaceId: req.params.ws, name: req.body?.name ?? null, createdAt: now };
      await store.createKey(record, hashKey(key));
      reply.status(201);
      return { ...presentKey(record), key };
    });

    app.get<{ Params: { ws: string }; Querystring: { limit?: string; cursor?: string } }>('/workspaces/:ws/keys', {
      schema: { params: wsParams, querystring: { type: 'object', properties: pageQuery, additionalProperties: false } },
    }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      return pageResponse(await store.listKeys(req.params.ws, pageRequest(req.query)), presentKey);
    });

    app.delete<{ Params: { ws: string; key: string } }>('/workspaces/:ws/keys/:key', {
      schema: { params: withId('key') },
    }, async (req, reply) => {
      await workspaceFor(req, services, req.params.ws);
      if (!(await store.revokeKey(req.params.ws, req.params.key, Date.now()))) throw notFound(`key ${req.params.key}`);
      reply.status(204);
    });
  };
}

