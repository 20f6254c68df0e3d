// Webhooks: a URL subscribed to one topic of a workspace, with its secret, filter and headers.
import { validateHeaderValue } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import { recordNow } from '../../delivery/test-send.js';
import { newId } from '../../domain/ids.js';
import { ORDERINGS } from '../../domain/ordering.js';
import { validateFilter } from '../../domain/filter.js';
import { generateSecret, isReservedHeader } from '../../domain/signing.js';
import { rotation, secretProblem, signingFields } from '../../domain/webhook-keys.js';
import { checkWebhookUrl } from '../../delivery/target-guard.js';
import type { Webhook as WebhookRecord, WebhookPatch as WebhookRecordPatch } from '../../store/store.js';
import { resource, serve, type Json } from '../contract.js';
import { badInput, HttpError, notFound, type FieldError } from '../problems.js';
import { isoDateTime, listOf, listQuery, time, withId, wsParams } from '../schemas.js';
import { iso, pageRequest, pageResponse, parseWindow } from './common.js';
import { deliveryDetail, deliveryDetailSchema } from './deliveries.js';
import { viewOnly } from '../auth.js';
import { maskHeaders } from '../../domain/portal.js';

// ---- Schemas and types ----

export const webhookSchema = {
  $id: 'Webhook',
  type: 'object',
  properties: {
    id: { type: 'string' },
    workspace_id: { type: 'string' },
    topic: { type: 'string' },
    url: { type: 'string' },
    prefix: { type: 'string' },
    filter: { type: ['object', 'null'], additionalProperties: true },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    description: { type: ['string', 'null'] },
    enabled: { type: 'boolean' },
    disabled_reason: { type: ['string', 'null'] },
    rate_limit: { type: ['integer', 'null'], description: 'requests per second at most' },
    signing: { type: 'string', enum: ['hmac', 'ed25519'], description: 'ed25519 adds a v1a signature (GET …/public-key verifies it)' },
    ordering: { type: 'string', enum: ORDERINGS, description: "'fifo': one delivery at a time, in publish order" },
    paused: { type: 'boolean', description: 'deliveries are queued but not sent until false again' },
    created_at: time,
    updated_at: time,
  },
  required: [
    'id', 'workspace_id', 'topic', 'url', 'prefix', 'filter', 'headers', 'description', 'enabled', 'disabled_reason', 'rate_limit',
    'signing', 'ordering', 'paused', 'created_at', 'updated_at',
  ],
} as const;

const webhookFields = {
  topic: { type: 'string', minLength: 1, maxLength: 128 },
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  secret: { type: 'string', minLength: 1, maxLength: 512 },
  prefix: { type: 'string', maxLength: 64 },
  filter: { type: ['object', 'null'] },
  headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 32 },
  description: { type: ['string', 'null'], maxLength: 1024 },
  enabled: { type: 'boolean' },
  rate_limit: { type: ['integer', 'null'], minimum: 1, maximum: 100_000, description: 'requests per second at most' },
  signing: { type: 'string', enum: ['hmac', 'ed25519'], description: 'hmac (the default) signs v1; ed25519 also v1a with a key pair Herald makes' },
  ordering: { type: 'string', enum: ORDERINGS, description: "'fifo': one delivery at a time, in publish order (default 'none')" },
  paused: { type: 'boolean', description: 'true: queue deliveries without sending them' },
} as const;

const webhookPatchSchema = { type: 'object', properties: webhookFields, additionalProperties: false } as const;
const webhookCreateSchema = { ...webhookPatchSchema, required: ['topic', 'url'] } as const;

const rotateInputSchema = {
  type: ['object', 'null'],
  properties: { secret: webhookFields.secret, grace_seconds: { type: 'integer', minimum: 0, maximum: 30 * 86_400 } },
  additionalProperties: false,
} as const;

const testInputSchema = { type: ['object', 'null'], properties: { data: { type: 'object' } }, additionalProperties: false } as const;

const recoverInputSchema = {
  type: 'object',
  properties: { since: isoDateTime, until: isoDateTime },
  required: ['since'],
  additionalProperties: false,
} as const;

const secretSchema = { type: 'object', properties: { secret: { type: 'string' } }, required: ['secret'] } as const;

const publicKeySchema = {
  type: 'object',
  properties: { public_key: { type: 'string', description: 'whpk_ + base64 of the raw 32-byte Ed25519 public key' } },
  required: ['public_key'],
} as const;

const rotatedSecretSchema = {
  type: 'object',
  properties: { secret: { type: 'string' }, previous_secret_expires_at: { type: ['string', 'null'], format: 'date-time' } },
  required: ['secret', 'previous_secret_expires_at'],
} as const;

export type Webhook = Json<typeof webhookSchema>;
/** What creating a webhook takes. */
export type WebhookInput = FromSchema<typeof webhookCreateSchema>;
/** What updating a webhook takes: any of the fields. */
export type WebhookPatch = FromSchema<typeof webhookPatchSchema>;
export type WebhookSecret = Json<typeof secretSchema>;
export type WebhookPublicKey = Json<typeof publicKeySchema>;
export type RotatedSecret = Json<typeof rotatedSecretSchema>;
export type SecretRotation = NonNullable<FromSchema<typeof rotateInputSchema>>;
export type RecoverInput = FromSchema<typeof recoverInputSchema>;

/** A webhook; `masked` (a view session) hides its custom headers' values, often the receiver's credentials. */
export function presentWebhook(w: WebhookRecord, masked = false): Webhook {
  return {
    id: w.id,
    workspace_id: w.workspaceId,
    topic: w.topic,
    url: w.url,
    prefix: w.prefix,
    filter: w.filter,
    headers: masked ? maskHeaders(w.headers) : w.headers,
    description: w.description,
    enabled: w.enabled,
    disabled_reason: w.disabledReason,
    rate_limit: w.rateLimit,
    signing: w.signing,
    ordering: w.ordering,
    paused: w.paused,
    created_at: iso(w.createdAt),
    updated_at: iso(w.updatedAt),
  };
}

// ---- Contract ----

const byId = withId('id');

export const webhookApi = resource('webhooks', {
  create: {
    method: 'POST', url: '/workspaces/:ws/webhooks', access: 'workspace', summary: 'Subscribe a URL to a topic',
    params: wsParams, body: webhookCreateSchema, answers: { 201: webhookSchema },
  },
  list: {
    method: 'GET', url: '/workspaces/:ws/webhooks', access: 'workspace', summary: 'List webhooks',
    params: wsParams, querystring: listQuery({ topic: { type: 'string', maxLength: 128 } }), answers: { 200: listOf(webhookSchema) },
  },
  get: {
    method: 'GET', url: '/workspaces/:ws/webhooks/:id', access: 'workspace', summary: 'Get a webhook',
    params: byId, answers: { 200: webhookSchema },
  },
  secret: {
    method: 'GET', url: '/workspaces/:ws/webhooks/:id/secret', access: 'workspace', portal: 'manage', summary: "Get a webhook's secret",
    params: byId, answers: { 200: secretSchema },
  },
  publicKey: {
    method: 'GET', url: '/workspaces/:ws/webhooks/:id/public-key', access: 'workspace',
    summary: "Get an ed25519 webhook's public key, which verifies its v1a signatures (409 for an hmac webhook)",
    params: byId, answers: { 200: publicKeySchema },
  },
  rotateSecret: {
    method: 'POST', url: '/workspaces/:ws/webhooks/:id/secret/rotate', access: 'workspace',
    summary: 'Rotate the secret: the new one signs from now on, the old one too until the grace period ends',
    params: byId, body: rotateInputSchema, answers: { 200: rotatedSecretSchema },
  },
  update: {
    method: 'PATCH', url: '/workspaces/:ws/webhooks/:id', access: 'workspace', summary: 'Update a webhook',
    params: byId, body: webhookPatchSchema, answers: { 200: webhookSchema },
  },
  delete: {
    method: 'DELETE', url: '/workspaces/:ws/webhooks/:id', access: 'workspace', summary: 'Delete a webhook; its pending deliveries are cancelled',
    params: byId, answers: { 204: null },
  },
  test: {
    method: 'POST', url: '/workspaces/:ws/webhooks/:id/test', access: 'workspace', summary: "Send one test request now with the topic's sample (not retried)",
    params: byId, body: testInputSchema,
    answers: { 200: { type: 'object', properties: { delivery: deliveryDetailSchema }, required: ['delivery'] } },
  },
  recover: {
    method: 'POST', url: '/workspaces/:ws/webhooks/:id/recover', access: 'workspace', summary: "Queue the webhook's failed deliveries of a time window again",
    params: byId, body: recoverInputSchema,
    answers: { 202: { type: 'object', properties: { requeued: { type: 'integer' } }, required: ['requeued'] } },
  },
});

// ---- Handlers ----

/**
 * Whether Node's HTTP client (and undici, the same rule) would send this header value: a value
 * it refuses (a character above U+00FF, a control character, CR, LF, NUL) would fail every attempt.
 */
function sendableHeaderValue(value: string): boolean {
  try {
    validateHeaderValue('x-check', value);
    return true;
  } catch {
    return false;
  }
}

const MAX_FILTER_BYTES = 16 * 1024;

/** Checks what JSON Schema cannot: the catalog, the URL's target, the filter, the header names. */
async function checkFields(services: Services, body: WebhookPatch): Promise<void> {
  const errors: FieldError[] = [];
  const secretFault = body.secret === undefined ? null : secretProblem(body.secret);
  if (secretFault) errors.push({ path: 'secret', message: secretFault });
  if (body.topic !== undefined && !(await services.topics.get(body.topic))) {
    errors.push({ path: 'topic', message: `"${body.topic}" is not in the topic catalog (GET /api/v1/topics)` });
  }
  if (body.url !== undefined) {
    const problem = await checkWebhookUrl(body.url, { allowPrivate: services.config.allowPrivateTargets });
    if (problem) errors.push({ path: 'url', message: problem });
  }
  if (body.prefix !== undefined && !/^[A-Za-z0-9_.:-]{0,64}$/.test(body.prefix)) {
    errors.push({ path: 'prefix', message: 'must be at most 64 characters of A-Z a-z 0-9 _ . : -' });
  }
  if (body.filter !== undefined && body.filter !== null) {
    if (JSON.stringify(body.filter).length > MAX_FILTER_BYTES) {
      errors.push({ path: 'filter', message: `is larger than ${MAX_FILTER_BYTES} bytes` });
    } else {
      for (const fault of validateFilter(body.filter)) {
        errors.push({ path: fault.path ? `filter.${fault.path}` : 'filter', message: fault.message });
      }
    }
  }
  for (const name of Object.keys(body.headers ?? {})) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/.test(name)) {
      errors.push({ path: `headers.${name}`, message: 'is not a valid header name' });
    } else if (isReservedHeader(name, services.config.headerPrefix)) {
      errors.push({ path: `headers.${name}`, message: 'is set by Herald or is hop-by-hop and cannot be overridden' });
    } else if (!sendableHeaderValue(body.headers![name]!)) {
      errors.push({ path: `headers.${name}`, message: 'can never be sent: use visible ASCII or Latin-1 characters, spaces and tabs (no line breaks or other control characters)' });
    }
  }
  if (errors.length > 0) throw new HttpError(400, errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}

export function webhookRoutes(services: Services): FastifyPluginAsync {
  const { store } = services;

  /** The webhook `:id` of the workspace `:ws`, or 404. */
  async function webhookOf(req: { params: { ws: string; id: string } }): Promise<WebhookRecord> {
    const webhook = await store.getWebhook(req.params.ws, req.params.id);
    if (!webhook) throw notFound(`webhook ${req.params.id}`);
    return webhook;
  }

  return async (app) => {
    serve(app, webhookApi.create, async (req, reply) => {
      await checkFields(services, req.body);
      const now = Date.now();
      const b = req.body;
      const webhook: WebhookRecord = {
        id: newId('wh', now),
        workspaceId: req.params.ws,
        topic: b.topic,
        url: b.url,
        secret: services.secrets.seal(b.secret ?? generateSecret()),
        prefix: b.prefix ?? '',
        filter: b.filter && Object.keys(b.filter).length > 0 ? b.filter : null,
        headers: b.headers ?? {},
        description: b.description ?? null,
        enabled: b.enabled ?? true,
        disabledReason: null,
        rateLimit: b.rate_limit ?? null,
        previousSecrets: [],
        ...signingFields(null, b.signing ?? 'hmac', services.secrets),
        ordering: b.ordering ?? 'none',
        paused: b.paused ?? false,
        createdAt: now,
        updatedAt: now,
      };
      await store.createWebhook(webhook);
      reply.status(201);
      return presentWebhook(webhook);
    });

    serve(app, webhookApi.list, async (req) => pageResponse(await store.listWebhooks(req.params.ws, req.query.topic, pageRequest(req.query)), (w) => presentWebhook(w, viewOnly(req.principal))));

    serve(app, webhookApi.get, async (req) => presentWebhook(await webhookOf(req), viewOnly(req.principal)));

    // Answers that hold a secret are kept by no cache (a browser's or a proxy's).
    serve(app, webhookApi.secret, async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return { secret: services.secrets.open((await webhookOf(req)).secret) };
    });

    serve(app, webhookApi.publicKey, async (req) => {
      const webhook = await webhookOf(req);
      if (webhook.signing !== 'ed25519' || webhook.publicKey === null) {
        throw new HttpError(409, `webhook ${webhook.id} signs with hmac and has no public key; set signing to "ed25519" to give it a key pair`);
      }
      return { public_key: webhook.publicKey };
    });

    serve(app, webhookApi.update, async (req) => {
      const current = await webhookOf(req);
      await checkFields(services, req.body);
      const b = req.body;
      const patch: WebhookRecordPatch = {
        topic: b.topic,
        url: b.url,
        secret: b.secret === undefined ? undefined : services.secrets.seal(b.secret),
        prefix: b.prefix,
        filter: b.filter === undefined ? undefined : b.filter && Object.keys(b.filter).length > 0 ? b.filter : null,
        headers: b.headers,
        description: b.description,
        enabled: b.enabled,
        rateLimit: b.rate_limit,
        ordering: b.ordering,
        paused: b.paused,
        // Switching a webhook back on clears why it was switched off.
        disabledReason: b.enabled === true ? null : undefined,
        ...(b.signing === undefined ? {} : signingFields(current, b.signing, services.secrets)),
      };
      const updated = await store.updateWebhook(req.params.ws, req.params.id, patch, Date.now());
      if (!updated) throw notFound(`webhook ${req.params.id}`);
      // A resume or an ordering change may have made its queued deliveries due.
      if (b.paused === false || b.ordering !== undefined) services.wakeWorkers();
      return presentWebhook(updated);
    });

    serve(app, webhookApi.delete, async (req, reply) => {
      if (!(await store.deleteWebhook(req.params.ws, req.params.id, Date.now()))) throw notFound(`webhook ${req.params.id}`);
      reply.status(204);
    });

    serve(app, webhookApi.test, async (req) => {
      const webhook = await webhookOf(req);
      const data = req.body?.data ?? structuredClone((await services.topics.get(webhook.topic))?.sample ?? {});
      const deliveryId = await recordNow(services, req.workspace, webhook, data);
      return { delivery: (await deliveryDetail(store, req.params.ws, deliveryId, viewOnly(req.principal)))! };
    });

    serve(app, webhookApi.rotateSecret, async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const webhook = await webhookOf(req);
      const now = Date.now();
      const secret = req.body?.secret ?? generateSecret();
      const fault = secretProblem(secret);
      if (fault) throw badInput('secret', fault);
      const grace = (req.body?.grace_seconds ?? 86_400) * 1000;
      // The old secret (and an ed25519 webhook's old key) keeps signing beside the new one until
      // the grace period ends; a grace of 0 means only the new one signs from now on.
      await store.updateWebhook(req.params.ws, req.params.id, rotation(webhook, services.secrets.seal(secret), grace, now, services.secrets), now);
      return { secret, previous_secret_expires_at: grace > 0 ? iso(now + grace) : null };
    });

    serve(app, webhookApi.recover, async (req, reply) => {
      await webhookOf(req);
      const { since, until } = parseWindow(req.body);
      const requeued = await store.recoverDeliveries(req.params.ws, req.params.id, since, until, Date.now());
      if (requeued > 0) services.wakeWorkers();
      reply.status(202);
      return { requeued };
    });
  };
}
