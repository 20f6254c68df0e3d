// Events: published one at a time or in batches, listed, read with their deliveries, replayed.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import { publishedData } from '../../domain/fan-out.js';
import { normaliseTraceparent } from '../../domain/traceparent.js';
import { EventRejected, prepareEvents } from '../../publish/event-input.js';
import type { EventRecord, PublishInput, PublishOutcome } from '../../store/store.js';
import { resource, serve, type Json } from '../contract.js';
import { HttpError, notFound } from '../problems.js';
import { anyObject, isoDateTime, listOf, listQuery, time, withId, wsParams } from '../schemas.js';
import { iso, pageRequest, pageResponse, parseWindow } from './common.js';
import { deliverySchema, presentDelivery } from './deliveries.js';

export const MAX_BATCH = 1000;

// ---- Schemas and types ----

const eventInputSchema = {
  type: 'object',
  properties: {
    topic: { type: 'string', minLength: 1, maxLength: 128 },
    data: { type: 'object' },
    id: { type: 'string', maxLength: 64 },
  },
  required: ['topic', 'data'],
  additionalProperties: false,
} as const;

const bulkReplaySchema = {
  type: 'object',
  properties: { since: isoDateTime, until: isoDateTime, topic: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['since'],
  additionalProperties: false,
} as const;

/** What a bulk replay takes: the window (created_at in [since, until)) and an optional topic. */
export type BulkReplayInput = FromSchema<typeof bulkReplaySchema>;

const batchInputSchema = {
  type: 'object',
  properties: { events: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: eventInputSchema } },
  required: ['events'],
  additionalProperties: false,
} as const;

export const acceptedEventSchema = {
  $id: 'AcceptedEvent',
  type: 'object',
  properties: {
    id: { type: 'string' },
    topic: { type: 'string' },
    created_at: time,
    deliveries: { type: 'integer', description: 'how many webhooks it was queued for' },
  },
  required: ['id', 'topic', 'created_at', 'deliveries'],
} as const;

export const eventSchema = {
  $id: 'Event',
  type: 'object',
  properties: {
    id: { type: 'string' },
    workspace_id: { type: 'string' },
    topic: { type: 'string' },
    data: anyObject,
    created_at: time,
    deliveries: { type: 'integer' },
  },
  required: ['id', 'workspace_id', 'topic', 'data', 'created_at', 'deliveries'],
} as const;

export const eventDetailSchema = {
  $id: 'EventDetail',
  type: 'object',
  properties: { ...eventSchema.properties, deliveries: { type: 'array', items: deliverySchema } },
  required: eventSchema.required,
} as const;

export type EventInput = FromSchema<typeof eventInputSchema>;
export type AcceptedEvent = Json<typeof acceptedEventSchema>;
export type Event = Json<typeof eventSchema>;
export type EventDetail = Json<typeof eventDetailSchema>;

export function presentEvent(e: EventRecord): Event {
  return {
    id: e.id,
    workspace_id: e.workspaceId,
    topic: e.topic,
    data: publishedData(e.body, e.addedFields),
    created_at: iso(e.createdAt),
    deliveries: e.deliveries,
  };
}

function presentAccepted(o: PublishOutcome): AcceptedEvent {
  return { id: o.event.id, topic: o.event.topic, created_at: iso(o.event.createdAt), deliveries: o.event.deliveries };
}

// ---- Contract ----

export const eventApi = resource('events', {
  publish: {
    method: 'POST', url: '/workspaces/:ws/events', access: 'workspace', summary: 'Publish an event (202: stored with its deliveries)',
    params: wsParams, body: eventInputSchema, answers: { 202: acceptedEventSchema },
  },
  publishBatch: {
    method: 'POST', url: '/workspaces/:ws/events/batch', access: 'workspace', summary: 'Publish up to 1000 events in one call',
    params: wsParams, body: batchInputSchema,
    answers: { 202: { type: 'object', properties: { data: { type: 'array', items: acceptedEventSchema } }, required: ['data'] } },
  },
  list: {
    method: 'GET', url: '/workspaces/:ws/events', access: 'workspace', summary: 'List events',
    params: wsParams, querystring: listQuery({ topic: { type: 'string', maxLength: 128 } }), answers: { 200: listOf(eventSchema) },
  },
  get: {
    method: 'GET', url: '/workspaces/:ws/events/:id', access: 'workspace', summary: 'Get an event with its deliveries',
    params: withId('id'), answers: { 200: eventDetailSchema },
  },
  replayMany: {
    method: 'POST', url: '/workspaces/:ws/events/replay', access: 'workspace',
    summary: 'Fan every event of a time window out again to the webhooks that match now',
    params: wsParams, body: bulkReplaySchema,
    answers: {
      202: { type: 'object', properties: { events: { type: 'integer' }, deliveries: { type: 'integer' } }, required: ['events', 'deliveries'] },
    },
  },
  replay: {
    method: 'POST', url: '/workspaces/:ws/events/:id/replay', access: 'workspace', summary: 'Fan an event out again to the webhooks that match now',
    params: withId('id'), answers: { 202: { type: 'object', properties: { deliveries: { type: 'integer' } }, required: ['deliveries'] } },
  },
});

// ---- Handlers ----

export function eventRoutes(services: Services): FastifyPluginAsync {
  const { store, config } = services;

  /** The checks beyond the schema, with the faults turned into an HTTP answer. */
  async function toInputs(req: FastifyRequest, events: EventInput[], idempotencyKey: string | null, paths: (i: number) => string): Promise<PublishInput[]> {
    // A W3C traceparent is kept with the events; a malformed one is ignored, never refused.
    const traceparent = normaliseTraceparent(req.headers.traceparent);
    try {
      return await prepareEvents(services.topics, config.maxPayloadBytes, events, idempotencyKey, paths, traceparent);
    } catch (err) {
      if (err instanceof EventRejected) throw new HttpError(err.status, err.message, err.errors);
      throw err;
    }
  }

  async function publish(workspaceId: string, inputs: PublishInput[]) {
    const outcomes = await services.publisher.publish({ workspaceId, inputs });
    if (!outcomes) throw notFound(`workspace ${workspaceId}`);
    return outcomes;
  }

  function idempotencyKey(req: FastifyRequest): string | null {
    const raw = req.headers['idempotency-key'];
    if (raw === undefined) return null;
    const key = Array.isArray(raw) ? raw[0]! : raw;
    if (key.length < 1 || key.length > 255) throw new HttpError(400, 'Idempotency-Key must be 1 to 255 characters', [{ path: 'headers.idempotency-key', message: 'must be 1 to 255 characters' }]);
    return key;
  }

  return async (app) => {
    serve(app, eventApi.publish, async (req, reply) => {
      const inputs = await toInputs(req, [req.body], idempotencyKey(req), () => '');
      const [outcome] = await publish(req.params.ws, inputs);
      reply.status(202);
      return presentAccepted(outcome!);
    }, { bodyLimit: config.maxPayloadBytes + 64 * 1024, bodyLimitSetting: `an event's data may be up to HERALD_MAX_PAYLOAD_BYTES = ${config.maxPayloadBytes} bytes, the rest of the body 64 KiB` });

    serve(app, eventApi.publishBatch, async (req, reply) => {
      const inputs = await toInputs(req, req.body.events, null, (i) => `events[${i}].`);
      const outcomes = await publish(req.params.ws, inputs);
      reply.status(202);
      return { data: outcomes.map(presentAccepted) };
    }, { bodyLimit: Math.max(32 * 1024 * 1024, config.maxPayloadBytes * 4), bodyLimitSetting: 'the larger of 32 MiB and 4 × HERALD_MAX_PAYLOAD_BYTES' });

    serve(app, eventApi.list, async (req) => pageResponse(await store.listEvents(req.params.ws, req.query.topic, pageRequest(req.query)), presentEvent));

    serve(app, eventApi.get, async (req) => {
      const event = await store.getEvent(req.params.ws, req.params.id);
      if (!event) throw notFound(`event ${req.params.id}`);
      const deliveries = await store.listDeliveries(req.params.ws, { eventId: event.id }, { limit: 500 });
      return { ...presentEvent(event), deliveries: deliveries.rows.map(presentDelivery) };
    });

    serve(app, eventApi.replayMany, async (req, reply) => {
      const window = parseWindow(req.body);
      // As for a publish, nothing is queued while the workspace's webhooks are switched off.
      const replayed = req.workspace.webhooksEnabled
        ? await store.replayEvents(req.params.ws, { ...window, topic: req.body.topic }, Date.now())
        : { events: 0, deliveries: 0 };
      if (replayed.deliveries > 0) services.wakeWorkers();
      reply.status(202);
      return replayed;
    });

    serve(app, eventApi.replay, async (req, reply) => {
      // As for a publish, nothing is queued while the workspace's webhooks are switched off.
      const deliveries = req.workspace.webhooksEnabled
        ? await store.replayEvent(req.params.ws, req.params.id, Date.now())
        : (await store.getEvent(req.params.ws, req.params.id)) ? 0 : null;
      if (deliveries === null) throw notFound(`event ${req.params.id}`);
      if (deliveries > 0) services.wakeWorkers();
      reply.status(202);
      return { deliveries };
    });
  };
}
