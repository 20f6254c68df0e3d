import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { CLIENT_ID_PATTERN, newId } from '../../domain/ids.js';
import type { PublishInput, PublishOutcome } from '../../store/store.js';
import { workspaceFor } from '../auth.js';
import { HttpError, notFound, type FieldError } from '../problems.js';
import { iso, presentDelivery, presentEvent } from '../present.js';
import { pageQuery, pageRequest, pageResponse, withId, wsParams } from './common.js';

interface EventInput {
  topic: string;
  data: Record<string, unknown>;
  id?: string;
}

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

  /** Everything about one event that JSON Schema cannot check; faults are collected with their paths. */
  async function toInput(e: EventInput, path: string, errors: FieldError[], idempotencyKey: string | null): Promise<PublishInput> {
    if (!(await services.topics.get(e.topic))) {
      errors.push({ path: `${path}topic`, message: `"${e.topic}" is not in the topic catalog (GET /api/v1/topics)` });
    }
    if (e.id !== undefined && !CLIENT_ID_PATTERN.test(e.id)) {
      errors.push({ path: `${path}id`, message: 'must be 1 to 64 letters, digits, _ or -' });
    }
    const size = Buffer.byteLength(JSON.stringify(e.data));
    if (size > config.maxPayloadBytes) {
      throw new HttpError(413, `${path}data is ${size} bytes; the limit is ${config.maxPayloadBytes}`, [
        { path: `${path}data`, message: `is larger than ${config.maxPayloadBytes} bytes` },
      ]);
    }
    return { id: e.id ?? newId('evt'), clientId: e.id !== undefined, idempotencyKey, topic: e.topic, data: e.data };
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
      const errors: FieldError[] = [];
      const input = await toInput(req.body, '', errors, idempotencyKey(req));
      if (errors.length) throw new HttpError(400, errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
      const [outcome] = await publish(req, [input]);
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
      const errors: FieldError[] = [];
      const inputs: PublishInput[] = [];
      for (let i = 0; i < req.body.events.length; i++) {
        inputs.push(await toInput(req.body.events[i]!, `events[${i}].`, errors, null));
      }
      if (errors.length) throw new HttpError(400, errors.slice(0, 20).map((e) => `${e.path}: ${e.message}`).join('; '), errors);
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
      await workspaceFor(req, services, req.params.ws);
      const deliveries = await store.replayEvent(req.params.ws, req.params.id, services.fanOut, Date.now());
      if (deliveries === null) throw notFound(`event ${req.params.id}`);
      if (deliveries > 0) services.wakeWorkers();
      reply.status(202);
      return { deliveries };
    });
  };
}
