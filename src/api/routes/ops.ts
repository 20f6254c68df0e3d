import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.js';

/** Health, readiness and metrics: unauthenticated, for load balancers and Prometheus. */
export function opsRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', async () => ({ status: 'ok' }));

    app.get('/readyz', async (_req, reply) => {
      try {
        await services.store.ping();
        return { status: 'ok', database: services.store.kind };
      } catch (err) {
        reply.status(503).type('application/problem+json').header('retry-after', '1');
        return { type: 'urn:herald:problem:service-unavailable', title: 'Service Unavailable', status: 503, detail: `database: ${(err as Error).message}` };
      }
    });

    app.get('/metrics', async (_req, reply) => {
      reply.type(services.metrics.registry.contentType);
      return services.metrics.registry.metrics();
    });
  };
}
