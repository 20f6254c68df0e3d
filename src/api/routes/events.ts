import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { EventRejected, prepareEvents, type EventInput } from '../../publish/event-input.js';
import type { PublishInput, PublishOutcome } from '../../store/store.js';
import { workspaceFor } from '../auth.js';
import { HttpError, notFound } from '../problems.js';
import { iso, presentDelivery, presentEvent } from '../present.js';
import { pageQuery, pageRequest, pageResponse, withId, wsParams } from './common.js';

const eventSchema = {
  type: 'object',
  properties: {
    topic: { type: 'string', minLength: 1, maxLength: 128 },
    data: { type: 'object' },
    id: { type: 'string', maxLength: 64 },
  },
  required: ['topic', 'data'],
  additionalProperties: false,
} as const;

export const MAX_BATCH = 1000;

function accepted(o: PublishOutcome) {
  return { id: o.event.id, topic: o.event.topic, created_at: iso(o.event.createdAt), deliveries: o.event.deliveries };
}

export function eventRoutes(services: Services): FastifyPluginAsync {
  const { store, config } = services;

  /** The checks beyond the schema, with the faults turned into an HTTP answer. */
  async function toInputs(events: EventInput[], idempotencyKey: string | null, paths: (i: number) => string): Promise<PublishInput[]> {
    try {
      return await prepareEvents(services.topics, config.maxPayloadBytes, events, idempotencyKey, paths);
    } catch (err) {
      if (err instanceof EventRejected) throw new HttpError(err.status, err.message, err.errors);
      throw err;
    }
  }

  async function publish(req: FastifyRequest<{ Params: { ws: string } }>, inputs: PublishInput[]) {
    const outcomes = await services.publisher.publish({ workspaceId: req.params.ws, inputs });
    if (!outcomes) throw notFound(`workspace ${req.params.ws}`);
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
    app.post<{ Params: { ws: string }; Body: EventInput }>('/workspaces/:ws/events', {
      schema: { params: wsParams, body: eventSchema },
      bodyLimit: config.maxPayloadBytes + 64 * 1024,
    }, async (req, reply) => {
      await workspaceFor(req, services, req.params.ws);
      const inputs = await toInputs([req.body], idempotencyKey(req), () => '');
      const [outcome] = await publish(req, inputs);
      reply.status(202);
      return accepted(outcome!);
    });

    app.post<{ Params: { ws: string }; Body: { events: EventInput[] } }>('/workspaces/:ws/events/batch', {
      schema: {
        params: wsParams,
        body: {
          type: 'object',
          properties: { events: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: eventSchema } },
          required: ['events'],
          additionalProperties: false,
        },
      },
      bodyLimit: Math.max(32 * 1024 * 1024, config.maxPayloadBytes * 4),
    }, async (req, reply) => {
      await workspaceFor(req, services, req.params.ws);
      const inputs = await toInputs(req.body.events, null, (i) => `events[${i}].`);
      const outcomes = await publish(req, inputs);
      reply.status(202);
      return { data: outcomes.map(accepted) };
    });

    app.get<{ Params: { ws: string }; Querystring: { topic?: string; limit?: string; cursor?: string } }>('/workspaces/:ws/events', {
      schema: {
        params: wsParams,
        querystring: { type: 'object', properties: { ...pageQuery, topic: { type: 'string', maxLength: 128 } }, additionalProperties: false },
      },
    }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      return pageResponse(await store.listEvents(req.params.ws, req.query.topic, pageRequest(req.query)), presentEvent);
    });

    app.get<{ Params: { ws: string; id: string } }>('/workspaces/:ws/events/:id', { schema: { params: withId('id') } }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      const event = await store.getEvent(req.params.ws, req.params.id);
      if (!event) throw notFound(`event ${req.params.id}`);
      const deliveries = await store.listDeliveries(req.params.ws, { eventId: event.id }, { limit: 500 });
      return { ...presentEvent(event), deliveries: deliveries.rows.map(presentDelivery) };
    });

    app.post<{ Params: { ws: string; id: string } }>('/workspaces/:ws/events/:id/replay', { schema: { params: withId('id') } }, async (req, reply) => {
      const workspace = await workspaceFor(req, services, req.params.ws);
      // As for a publish, nothing is queued while the workspace's webhooks are switched off.
      const deliveries = workspace.webhooksEnabled
        ? await store.replayEvent(req.params.ws, req.params.id, Date.now())
        : (await store.getEvent(req.params.ws, req.params.id)) ? 0 : null;
      if (deliveries === null) throw notFound(`event ${req.params.id}`);
      if (deliveries > 0) services.wakeWorkers();
      reply.status(202);
      return { deliveries };
    });
  };
}
