// Workspaces: the tenants. Creating, listing and deleting them takes the admin key.
import type { FastifyPluginAsync } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import { CLIENT_ID_PATTERN, newId } from '../../domain/ids.js';
import { ConflictError, type Workspace as WorkspaceRecord } from '../../store/store.js';
import { resource, serve, type Json } from '../contract.js';
import { HttpError, badInput, notFound } from '../problems.js';
import { listOf, listQuery, time, wsParams } from '../schemas.js';
import { iso, pageRequest, pageResponse } from './common.js';

// ---- Schemas and types ----

const name = { type: 'string', minLength: 1, maxLength: 200 } as const;
const uri = { type: ['string', 'null'], maxLength: 2048 } as const;

export const workspaceSchema = {
  $id: 'Workspace',
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    uri: { type: ['string', 'null'] },
    webhooks_enabled: { type: 'boolean', description: 'the Status switch: nothing is sent while false' },
    created_at: time,
    updated_at: time,
  },
  required: ['id', 'name', 'uri', 'webhooks_enabled', 'created_at', 'updated_at'],
} as const;

const workspaceCreateSchema = {
  type: 'object',
  properties: { name, uri, id: { type: 'string' } },
  required: ['name'],
  additionalProperties: false,
} as const;

const workspacePatchSchema = {
  type: 'object',
  properties: { name, uri, webhooks_enabled: { type: 'boolean' } },
  additionalProperties: false,
} as const;

export type Workspace = Json<typeof workspaceSchema>;
export type WorkspaceInput = FromSchema<typeof workspaceCreateSchema>;
export type WorkspacePatch = FromSchema<typeof workspacePatchSchema>;

export function presentWorkspace(w: WorkspaceRecord): Workspace {
  return {
    id: w.id,
    name: w.name,
    uri: w.uri,
    webhooks_enabled: w.webhooksEnabled,
    created_at: iso(w.createdAt),
    updated_at: iso(w.updatedAt),
  };
}

// ---- Contract ----

export const workspaceApi = resource('workspaces', {
  create: {
    method: 'POST', url: '/workspaces', access: 'admin', summary: 'Create a workspace (admin)',
    body: workspaceCreateSchema, answers: { 201: workspaceSchema },
  },
  list: {
    method: 'GET', url: '/workspaces', access: 'admin', summary: 'List workspaces (admin)',
    querystring: listQuery(), answers: { 200: listOf(workspaceSchema) },
  },
  get: {
    method: 'GET', url: '/workspaces/:ws', access: 'workspace', summary: 'Get a workspace',
    params: wsParams, answers: { 200: workspaceSchema },
  },
  update: {
    method: 'PATCH', url: '/workspaces/:ws', access: 'workspace', summary: 'Update a workspace; webhooks_enabled is the status switch',
    params: wsParams, body: workspacePatchSchema, answers: { 200: workspaceSchema },
  },
  delete: {
    method: 'DELETE', url: '/workspaces/:ws', access: 'admin', summary: 'Delete a workspace and everything in it (admin)',
    params: wsParams, answers: { 204: null },
  },
});

// ---- Handlers ----

/** A workspace's uri goes to receivers as business_uri, where a `javascript:` or `data:` URI could be followed: web addresses only. */
function checkUri(uri: string | null | undefined): void {
  if (uri === null || uri === undefined) return;
  let protocol = '';
  try {
    protocol = new URL(uri).protocol;
  } catch {
    /* not a URL: refused below */
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw badInput('uri', 'must be an http:// or https:// URL (it is sent to receivers as business_uri), or null');
}

export function workspaceRoutes(services: Services): FastifyPluginAsync {
  const { store } = services;
  return async (app) => {
    serve(app, workspaceApi.create, async (req, reply) => {
      const { id, uri: wsUri } = req.body;
      if (id !== undefined && !CLIENT_ID_PATTERN.test(id)) throw badInput('id', 'must be 1 to 64 letters, digits, _ or -');
      checkUri(wsUri);
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

    serve(app, workspaceApi.list, async (req) => pageResponse(await store.listWorkspaces(pageRequest(req.query)), presentWorkspace));

    serve(app, workspaceApi.get, async (req) => presentWorkspace(req.workspace));

    serve(app, workspaceApi.update, async (req) => {
      checkUri(req.body.uri);
      const updated = await store.updateWorkspace(
        req.params.ws,
        { name: req.body.name, uri: req.body.uri, webhooksEnabled: req.body.webhooks_enabled },
        Date.now(),
      );
      if (!updated) throw notFound(`workspace ${req.params.ws}`);
      return presentWorkspace(updated);
    });

    serve(app, workspaceApi.delete, async (req, reply) => {
      if (!(await store.deleteWorkspace(req.params.ws))) throw notFound(`workspace ${req.params.ws}`);
      reply.status(204);
    });
  };
}
