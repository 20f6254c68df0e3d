import type { FastifyInstance, RouteOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { namedSchemas } from './contract.js';
import { CONTRACTS } from './routes/index.js';
import { VERSION } from '../version.js';

// The document is generated from the routes' own schemas (each route file's contract, see
// contract.ts), so the answers it describes are the very ones the routes serialise.

/** "METHOD /api/v1/path" of every route the API documents. */
export function documentedRoutes(): string[] {
  return CONTRACTS.map((c) => `${c.method} /api/v1${c.url}`);
}

/** Registers the named schemas, the OpenAPI generator, /api/v1/openapi.json and the /docs reference. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  for (const schema of namedSchemas(CONTRACTS)) app.addSchema(schema);
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!(route.url ?? '').startsWith('/api/v1/')) route.schema = { ...route.schema, hide: true } as typeof route.schema;
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald API',
        version: VERSION,
        description: 'Publish events; Herald signs and delivers them to subscribed webhooks, retries, and records every attempt.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

export function registerOpenApiDocument(app: FastifyInstance): void {
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
