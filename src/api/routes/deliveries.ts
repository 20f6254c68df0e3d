import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.js';
import type { DeliveryStatus } from '../../store/store.js';
import { workspaceFor } from '../auth.js';
import { HttpError, notFound } from '../problems.js';
import { presentDelivery, presentDeliveryDetail } from '../present.js';
import { idParam, pageQuery, pageRequest, pageResponse, withId, wsParams } from './common.js';

export function deliveryRoutes(services: Services): FastifyPluginAsync {
  const { store } = services;
  return async (app) => {
    app.get<{
      Params: { ws: string };
      Querystring: { webhook_id?: string; event_id?: string; status?: DeliveryStatus; limit?: string; cursor?: string };
    }>('/workspaces/:ws/deliveries', {
      schema: {
        params: wsParams,
        querystring: {
          type: 'object',
          properties: {
            ...pageQuery,
            webhook_id: idParam,
            event_id: idParam,
            status: { type: 'string', enum: ['pending', 'succeeded', 'failed', 'cancelled'] },
          },
          additionalProperties: false,
        },
      },
    }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      const { webhook_id: webhookId, event_id: eventId, status } = req.query;
      return pageResponse(await store.listDeliveries(req.params.ws, { webhookId, eventId, status }, pageRequest(req.query)), presentDelivery);
    });

    app.get<{ Params: { ws: string; id: string } }>('/workspaces/:ws/deliveries/:id', { schema: { params: withId('id') } }, async (req) => {
      await workspaceFor(req, services, req.params.ws);
      const found = await store.getDelivery(req.params.ws, req.params.id);
      if (!found) throw notFound(`delivery ${req.params.id}`);
      return presentDeliveryDetail(found.delivery, found.attempts);
    });

    app.post<{ Params: { ws: string; id: string } }>('/workspaces/:ws/deliveries/:id/retry', { schema: { params: withId('id') } }, async (req, reply) => {
      await workspaceFor(req, services, req.params.ws);
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
