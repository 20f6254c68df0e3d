// Every resource of the API under /api/v1: its contracts (for the OpenAPI document) and its routes.
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.js';
import type { TaggedContract } from '../contract.js';
import { deliveryApi, deliveryRoutes } from './deliveries.js';
import { eventApi, eventRoutes } from './events.js';
import { filterApi, filterRoutes } from './filters.js';
import { keyApi, keyRoutes } from './keys.js';
import { meApi, meRoutes } from './me.js';
import { portalApi, portalRoutes } from './portal.js';
import { topicApi, topicRoutes } from './topics.js';
import { webhookApi, webhookRoutes } from './webhooks.js';
import { workspaceApi, workspaceRoutes } from './workspaces.js';

const RESOURCES: { api: Record<string, TaggedContract>; routes: (services: Services) => FastifyPluginAsync }[] = [
  { api: workspaceApi, routes: workspaceRoutes },
  { api: keyApi, routes: keyRoutes },
  { api: topicApi, routes: topicRoutes },
  { api: webhookApi, routes: webhookRoutes },
  { api: eventApi, routes: eventRoutes },
  { api: deliveryApi, routes: deliveryRoutes },
  { api: filterApi, routes: filterRoutes },
  { api: meApi, routes: meRoutes },
  { api: portalApi, routes: portalRoutes },
];

/** The contract of every API route. */
export const CONTRACTS: readonly TaggedContract[] = RESOURCES.flatMap((r) => Object.values(r.api));

/** The API's routes, to be mounted at /api/v1. */
export function apiRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    for (const r of RESOURCES) await app.register(r.routes(services));
  };
}
