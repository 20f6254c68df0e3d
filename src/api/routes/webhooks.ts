import type { FastifyPluginAsync } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import { recordNow } from '../../delivery/test-send.js';
import { newId } from '../../domain/ids.js';
import { validateFilter } from '../../domain/filter.js';
import { generateSecret, isReservedHeader } from '../../domain/signing.js';
import { checkWebhookUrl } from '../../delivery/target-guard.js';
import type { Webhook, WebhookPatch } from '../../store/store.js';
import { workspaceFor } from '../auth.js';
import { HttpError, notFound, type FieldError } from '../problems.js';
import { presentDeliveryDetail, presentWebhook } from '../present.js';
import { isoDateTime, pageQuery, pageRequest, pageResponse, parseTime, withId, wsParams } from './common.js';

/** A webhook's fields as the API takes them (all optional: PATCH; POST requires topic and url). */
export type WebhookBody = FromSchema<typeof webhookPatchSchema>;

const MAX_FILTER_BYTES = 16 * 1024;

export const webhookFields = {
  topic: { type: 'string', minLength: 1, maxLength: 128 },
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  secret: { type: 'string', minLength: 1, maxLength: 512 },
  prefix: { type: 'string', maxLength: 64 },
  filter: { type: ['object', 'null'] },
  headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 32 },
  description: { type: ['string', 'null'], maxLength: 1024 },
  enabled: { type: 'boolean' },
  rate_limit: { type: ['integer', 'null'], minimum: 1, maximum: 100_000, description: 'requests per second at most' },
} as const;

export const webhookPatchSchema = { type: 'object', properties: webhookFields, additionalProperties: false } as const;
export const webhookCreateSchema = { ...webhookPatchSchema, required: ['topic', 'url'] } as const;

const byId = withId('id');

/** Checks what JSON Schema cannot: the catalog, the URL's target, the filter, the header names. */
async function checkFields(services: Services, body: WebhookBody): Promise<void> {
  const errors: FieldError[] = [];
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
    } else if (/[\r\n\0]/.test(body.headers![name]!)) {
      errors.push({ path: `headers.${name}`, message: 'may not contain line breaks' });
    }
  }
  if (errors.length > 0) throw new HttpError(400, errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}

export function webhookRoutes(services: Services): FastifyPluginAsync {
  const { store } = services;
  const present = (w: Webhook) => presentWebhook(w);

  return async (app) => {
    app.post<{ Params: { ws: string }; Body: WebhookBody & { topic: string; url: string } }>('/workspaces/:ws/webhooks', {
      schema: {
        params: wsParams,
        body: webhookCreateSchema,
      },
    }, async (req, reply) => {
      await workspaceFor(req, services, req.params.ws);
      await checkFields(services, req.body);
      const now = Date.now();
      const b = req.body;
      const webhook: Webhook = {
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
        createdAt: now,
        updatedAt: now,
      };
      await store.createWebhook(webhook);
      reply.status(201);
      return present(webhook);
    });

    app.get<{ Params: { ws: string }; Querystring: { topic?: string; limit?: string; cursor?: string } }>('/workspaces/:ws/webhooks', {
      schema: {
        params: wsParams,
        querystring: { type: 'object', properties: { ...pageQuery, topic: { type: 'string', maxLength: 128 } }, additionalProperties: false },
      },
    }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      return pageResponse(await store.listWebhooks(req.params.ws, req.query.topic, pageRequest(req.query)), present);
    });

    app.get<{ Params: { ws: string; id: string } }>('/workspaces/:ws/webhooks/:id', { schema: { params: byId } }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      const webhook = await store.getWebhook(req.params.ws, req.params.id);
      if (!webhook) throw notFound(`webhook ${req.params.id}`);
      return present(webhook);
    });

    app.get<{ Params: { ws: string; id: string } }>('/workspaces/:ws/webhooks/:id/secret', { schema: { params: byId } }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      const webhook = await store.getWebhook(req.params.ws, req.params.id);
      if (!webhook) throw notFound(`webhook ${req.params.id}`);
      return { secret: services.secrets.open(webhook.secret) };
    });

    app.patch<{ Params: { ws: string; id: string }; Body: WebhookBody }>('/workspaces/:ws/webhooks/:id', {
      schema: { params: byId, body: webhookPatchSchema },
    }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      if (!(await store.getWebhook(req.params.ws, req.params.id))) throw notFound(`webhook ${req.params.id}`);
      await checkFields(services, req.body);
      const b = req.body;
      const patch: WebhookPatch = {
        topic: b.topic,
        url: b.url,
        secret: b.secret === undefined ? undefined : services.secrets.seal(b.secret),
        prefix: b.prefix,
        filter: b.filter === undefined ? undefined : b.filter && Object.keys(b.filter).length > 0 ? b.filter : null,
        headers: b.headers,
        description: b.description,
        enabled: b.enabled,
        rateLimit: b.rate_limit,
        // Switching a webhook back on clears why it was switched off.
        disabledReason: b.enabled === true ? null : undefined,
      };
      const updated = await store.updateWebhook(req.params.ws, req.params.id, patch, Date.now());
      if (!updated) throw notFound(`webhook ${req.params.id}`);
      return present(updated);
    });

    app.delete<{ Params: { ws: string; id: string } }>('/workspaces/:ws/webhooks/:id', { schema: { params: byId } }, async (req, reply) => {
      await workspaceFor(req, services, req.params.ws);
      if (!(await store.deleteWebhook(req.params.ws, req.params.id, Date.now()))) throw notFound(`webhook ${req.params.id}`);
      reply.status(204);
    });

    app.post<{ Params: { ws: string; id: string }; Body: { data?: Record<string, unknown> } | undefined }>('/workspaces/:ws/webhooks/:id/test', {
      schema: {
        params: byId,
        body: { type: ['object', 'null'], properties: { data: { type: 'object' } }, additionalProperties: false },
      },
    }, async (req) => {
      const workspace = await workspaceFor(req, services, req.params.ws);
      const webhook = await store.getWebhook(req.params.ws, req.params.id);
      if (!webhook) throw notFound(`webhook ${req.params.id}`);
      const data = req.body?.data ?? structuredClone((await services.topics.get(webhook.topic))?.sample ?? {});
      const deliveryId = await recordNow(services, workspace, webhook, data);
      const detail = await store.getDelivery(req.params.ws, deliveryId);
      return { delivery: presentDeliveryDetail(detail!.delivery, detail!.attempts) };
    });

    app.post<{ Params: { ws: string; id: string }; Body: { secret?: string; grace_seconds?: number } | undefined }>('/workspaces/:ws/webhooks/:id/secret/rotate', {
      schema: {
        params: byId,
        body: {
          type: ['object', 'null'],
          properties: { secret: webhookFields.secret, grace_seconds: { type: 'integer', minimum: 0, maximum: 30 * 86_400 } },
          additionalProperties: false,
        },
      },
    }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      const webhook = await store.getWebhook(req.params.ws, req.params.id);
      if (!webhook) throw notFound(`webhook ${req.params.id}`);
      const now = Date.now();
      const secret = req.body?.secret ?? generateSecret();
      const grace = (req.body?.grace_seconds ?? 86_400) * 1000;
      // The old secret keeps signing beside the new one until the grace period ends; a grace
      // of 0 means only the new secret signs from now on (earlier rotations' secrets too stop).
      const previousSecrets =
        grace > 0 ? [{ secret: webhook.secret, expiresAt: now + grace }, ...webhook.previousSecrets.filter((p) => p.expiresAt > now)].slice(0, 5) : [];
      await store.updateWebhook(req.params.ws, req.params.id, { secret: services.secrets.seal(secret), previousSecrets }, now);
      return { secret, previous_secret_expires_at: grace > 0 ? new Date(now + grace).toISOString() : null };
    });

    app.post<{ Params: { ws: string; id: string }; Body: { since: string; until?: string } }>('/workspaces/:ws/webhooks/:id/recover', {
      schema: {
        params: byId,
        body: { type: 'object', properties: { since: isoDateTime, until: isoDateTime }, required: ['since'], additionalProperties: false },
      },
    }, async (req, reply) => {
      await workspaceFor(req, services, req.params.ws);
      if (!(await store.getWebhook(req.params.ws, req.params.id))) throw notFound(`webhook ${req.params.id}`);
      const since = parseTime('since', req.body.since);
      const until = req.body.until === undefined ? Date.now() + 1 : parseTime('until', req.body.until);
      const requeued = await store.recoverDeliveries(req.params.ws, req.params.id, since, until, Date.now());
      if (requeued > 0) services.wakeWorkers();
      reply.status(202);
      return { requeued };
    });
  };
}
