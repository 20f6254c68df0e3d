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
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // swagger-ui's own files only; it styles elements inline (style attributes) and draws icons
    // from data: URIs. connect-src 'self': the page can fetch this API's document and nothing
    // from elsewhere, whatever URL is typed into its "Explore" box.
    staticCSP: DOCS_CSP,
    uiHooks: {
      onRequest: async (req, reply) => {
        reply.headers({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
        // The plugin redirects /docs/static/index.html to itself when a query follows it (an
        // endless loop), and its page breaks under any query (it resolves ./json against the
        // whole address): the reference is /docs/, without a query (a configUrl or url is dropped;
        // swagger-ui's deep links live in the fragment).
        const [path, query] = req.url.split('?', 2);
        if (path === '/docs/static/index.html' || ((path === '/docs/' || path === '/docs') && query !== undefined)) return reply.redirect('/docs/');
      },
    },
  });
}

export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

export function registerOpenApiDocument(app: FastifyInstance): void {
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
