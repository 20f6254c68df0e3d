// A workspace's API keys. A key is shown once, in the answer to its creation; only its hash is stored.
import type { FastifyPluginAsync } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import { newApiKey, newId } from '../../domain/ids.js';
import type { ApiKey as ApiKeyRecord } from '../../store/store.js';
import { hashKey } from '../auth.js';
import { resource, serve, type Json } from '../contract.js';
import { notFound } from '../problems.js';
import { listOf, listQuery, time, withId, wsParams } from '../schemas.js';
import { iso, pageRequest, pageResponse } from './common.js';

// ---- Schemas and types ----

export const keySchema = {
  $id: 'ApiKey',
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: ['string', 'null'] },
    key: { type: 'string', description: 'only in the answer to its creation' },
    created_at: time,
  },
  required: ['id', 'name', 'created_at'],
} as const;

const keyCreateSchema = {
  type: ['object', 'null'],
  properties: { name: { type: ['string', 'null'], maxLength: 200 } },
  additionalProperties: false,
} as const;

export type ApiKey = Json<typeof keySchema>;
/** The answer to a key's creation: the only one that holds the key itself. */
export type NewApiKey = ApiKey & { key: string };
export type ApiKeyInput = NonNullable<FromSchema<typeof keyCreateSchema>>;

export function presentKey(k: ApiKeyRecord): ApiKey {
  return { id: k.id, name: k.name, created_at: iso(k.createdAt) };
}

// ---- Contract ----

export const keyApi = resource('keys', {
  create: {
    method: 'POST', url: '/workspaces/:ws/keys', access: 'workspace', portal: 'never', summary: 'Create a workspace API key (shown only in this answer)',
    params: wsParams, body: keyCreateSchema, answers: { 201: keySchema },
  },
  list: {
    method: 'GET', url: '/workspaces/:ws/keys', access: 'workspace', portal: 'never', summary: 'List API keys (without the keys)',
    params: wsParams, querystring: listQuery(), answers: { 200: listOf(keySchema) },
  },
  revoke: {
    method: 'DELETE', url: '/workspaces/:ws/keys/:key', access: 'workspace', portal: 'never', summary: 'Revoke an API key',
    params: withId('key'), answers: { 204: null },
  },
});

// ---- Handlers ----

export function keyRoutes(services: Services): FastifyPluginAsync {
  const { store } = services;
  return async (app) => {
    serve(app, keyApi.create, async (req, reply) => {
      const now = Date.now();
      const key = newApiKey('workspace');
      const record = { id: newId('key', now), workspaceId: req.params.ws, name: req.body?.name ?? null, createdAt: now };
      await store.createKey(record, hashKey(key));
      // Shown only in this answer: kept by no cache.
      reply.status(201).header('cache-control', 'no-store');
      return { ...presentKey(record), key };
    });

    serve(app, keyApi.list, async (req) => pageResponse(await store.listKeys(req.params.ws, pageRequest(req.query)), presentKey));

    serve(app, keyApi.revoke, async (req, reply) => {
      if (!(await store.revokeKey(req.params.ws, req.params.key, Date.now()))) throw notFound(`key ${req.params.key}`);
      reply.status(204);
    });
  };
}
