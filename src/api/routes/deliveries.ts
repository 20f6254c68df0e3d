// Deliveries: one event for one webhook, with its attempts; listed, read and retried by hand.
import type { FastifyPluginAsync } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import type { AdminStore, Attempt as AttemptRecord, Delivery as DeliveryRecord } from '../../store/store.js';
import { resource, serve, type Json } from '../contract.js';
import { HttpError, notFound } from '../problems.js';
import { viewOnly } from '../auth.js';
import { maskHeaders, PLAIN_SENT_HEADERS } from '../../domain/portal.js';
import { idParam, isoDateTime, listOf, listQuery, nullableTime, time, withId, wsParams } from '../schemas.js';
import { iso, pageRequest, pageResponse, parseWindow } from './common.js';

// ---- Schemas and types ----

const deliveryStatus = { type: 'string', enum: ['pending', 'succeeded', 'failed', 'cancelled'] } as const;

const deliveryProperties = {
  id: { type: 'string' },
  event_id: { type: 'string' },
  webhook_id: { type: 'string' },
  topic: { type: 'string' },
  url: { type: 'string' },
  status: deliveryStatus,
  attempts: { type: 'integer' },
  next_attempt_at: nullableTime,
  last_status_code: { type: ['integer', 'null'] },
  last_error: { type: ['string', 'null'] },
  created_at: time,
  updated_at: time,
} as const;

export const deliverySchema = {
  $id: 'Delivery',
  type: 'object',
  properties: deliveryProperties,
  required: Object.keys(deliveryProperties) as (keyof typeof deliveryProperties)[],
} as const;

export const attemptSchema = {
  $id: 'Attempt',
  type: 'object',
  properties: {
    number: { type: 'integer' },
    started_at: time,
    duration_ms: { type: 'integer' },
    status_code: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
    response_body: { type: ['string', 'null'], description: 'the first 4 KiB of the answer' },
    request_headers: { type: 'object', additionalProperties: { type: 'string' } },
  },
  required: ['number', 'started_at', 'duration_ms', 'status_code', 'error', 'response_body', 'request_headers'],
} as const;

export const deliveryDetailSchema = {
  $id: 'DeliveryDetail',
  type: 'object',
  properties: {
    ...deliveryProperties,
    attempts: { type: 'array', items: attemptSchema },
    request_body: { type: ['string', 'null'], description: 'the exact body sent on every attempt (null once its event was purged)' },
  },
  required: [...(Object.keys(deliveryProperties) as (keyof typeof deliveryProperties)[]), 'request_body'],
} as const;

const bulkRetrySchema = {
  type: 'object',
  properties: {
    since: isoDateTime,
    until: isoDateTime,
    status: { type: 'string', enum: ['failed', 'succeeded', 'cancelled'], description: "default 'failed'" },
    webhook_id: idParam,
    topic: { type: 'string', minLength: 1, maxLength: 128 },
  },
  required: ['since'],
  additionalProperties: false,
} as const;

const deliveryQuery = listQuery({ webhook_id: idParam, event_id: idParam, status: deliveryStatus });

export type Delivery = Json<typeof deliverySchema>;
export type DeliveryStatus = Delivery['status'];
export type Attempt = Json<typeof attemptSchema>;
export type DeliveryDetail = Json<typeof deliveryDetailSchema>;
/** What a bulk retry takes: the window (created_at in [since, until)) and its filters. */
export type BulkRetryInput = FromSchema<typeof bulkRetrySchema>;

export function presentDelivery(d: DeliveryRecord): Delivery {
  return {
    id: d.id,
    event_id: d.eventId,
    webhook_id: d.webhookId,
    topic: d.topic,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: iso(d.nextAttemptAt),
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
  };
}

/** An attempt; `masked` (a view session) hides the header values that may be credentials. */
export function presentAttempt(a: AttemptRecord, masked = false): Attempt {
  return {
    number: a.number,
    started_at: iso(a.startedAt),
    duration_ms: a.durationMs,
    status_code: a.statusCode,
    error: a.error,
    response_body: a.responseBody,
    request_headers: masked ? maskHeaders(a.requestHeaders, PLAIN_SENT_HEADERS) : a.requestHeaders,
  };
}

export function presentDeliveryDetail(d: DeliveryRecord, attempts: AttemptRecord[], body: string | null, masked = false): DeliveryDetail {
  return { ...presentDelivery(d), attempts: attempts.map((a) => presentAttempt(a, masked)), request_body: body };
}

/** A delivery with its attempts and the bytes it sends (its event's body), or null when there is none. */
export async function deliveryDetail(store: Pick<AdminStore, 'getDelivery' | 'getEvent'>, ws: string, id: string, masked = false): Promise<DeliveryDetail | null> {
  const found = await store.getDelivery(ws, id);
  if (!found) return null;
  const event = await store.getEvent(ws, found.delivery.eventId);
  return presentDeliveryDetail(found.delivery, found.attempts, event?.body ?? null, masked);
}

// ---- Contract ----

export const deliveryApi = resource('deliveries', {
  list: {
    method: 'GET', url: '/workspaces/:ws/deliveries', access: 'workspace', summary: 'List deliveries',
    params: wsParams, querystring: deliveryQuery, answers: { 200: listOf(deliverySchema) },
  },
  get: {
    method: 'GET', url: '/workspaces/:ws/deliveries/:id', access: 'workspace', summary: 'Get a delivery with its attempts',
    params: withId('id'), answers: { 200: deliveryDetailSchema },
  },
  retryMany: {
    method: 'POST', url: '/workspaces/:ws/deliveries/retry', access: 'workspace',
    summary: 'Queue the deliveries of a time window again (failed ones by default), each for a new cycle of retries',
    params: wsParams, body: bulkRetrySchema,
    answers: { 202: { type: 'object', properties: { requeued: { type: 'integer' } }, required: ['requeued'] } },
  },
  retry: {
    method: 'POST', url: '/workspaces/:ws/deliveries/:id/retry', access: 'workspace', summary: 'Make one more attempt now',
    params: withId('id'), answers: { 202: deliverySchema },
  },
});

// ---- Handlers ----

export function deliveryRoutes(services: Services): FastifyPluginAsync {
  const { store } = services;
  return async (app) => {
    serve(app, deliveryApi.list, async (req) => {
      const { webhook_id: webhookId, event_id: eventId, status } = req.query;
      return pageResponse(await store.listDeliveries(req.params.ws, { webhookId, eventId, status }, pageRequest(req.query)), presentDelivery);
    });

    serve(app, deliveryApi.get, async (req) => {
      const detail = await deliveryDetail(store, req.params.ws, req.params.id, viewOnly(req.principal));
      if (!detail) throw notFound(`delivery ${req.params.id}`);
      return detail;
    });

    serve(app, deliveryApi.retryMany, async (req, reply) => {
      const b = req.body;
      const window = parseWindow(b);
      if (b.webhook_id !== undefined && !(await store.getWebhook(req.params.ws, b.webhook_id))) throw notFound(`webhook ${b.webhook_id}`);
      const requeued = await store.retryDeliveries(
        req.params.ws, { ...window, status: b.status ?? 'failed', webhookId: b.webhook_id, topic: b.topic }, Date.now(),
      );
      if (requeued > 0) services.wakeWorkers();
      reply.status(202);
      return { requeued };
    });

    serve(app, deliveryApi.retry, async (req, reply) => {
      if (!(await store.retryDelivery(req.params.ws, req.params.id, Date.now()))) {
        if (await store.getDelivery(req.params.ws, req.params.id)) throw new HttpError(409, `delivery ${req.params.id} cannot be retried: its webhook was deleted`);
        throw notFound(`delivery ${req.params.id}`);
      }
      services.wakeWorkers();
      const found = await store.getDelivery(req.params.ws, req.params.id);
      reply.status(202);
      return presentDelivery(found!.delivery);
    });
  };
}
