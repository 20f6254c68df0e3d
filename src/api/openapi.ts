import type { FastifyInstance, RouteOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { SHARED_SCHEMAS, listOf, ref } from './schemas.js';
import { VERSION } from '../version.js';

// What each route answers and a one-line summary, keyed by "METHOD path". Attached to the
// routes as they are registered, so the response schemas serialise the answers and the
// OpenAPI document is generated from the very schemas the routes run with.
const ROUTES: Record<string, { summary: string; status: number; response?: object; alsoStatus?: number }> = {
  'POST /api/v1/workspaces': { summary: 'Create a workspace (admin)', status: 201, response: ref('Workspace') },
  'GET /api/v1/workspaces': { summary: 'List workspaces (admin)', status: 200, response: listOf('Workspace') },
  'GET /api/v1/workspaces/:ws': { summary: 'Get a workspace', status: 200, response: ref('Workspace') },
  'PATCH /api/v1/workspaces/:ws': { summary: 'Update a workspace; webhooks_enabled is the status switch', status: 200, response: ref('Workspace') },
  'DELETE /api/v1/workspaces/:ws': { summary: 'Delete a workspace and everything in it (admin)', status: 204 },
  'POST /api/v1/workspaces/:ws/keys': { summary: 'Create a workspace API key (shown only in this answer)', status: 201, response: ref('ApiKey') },
  'GET /api/v1/workspaces/:ws/keys': { summary: 'List API keys (without the keys)', status: 200, response: listOf('ApiKey') },
  'DELETE /api/v1/workspaces/:ws/keys/:key': { summary: 'Revoke an API key', status: 204 },
  'GET /api/v1/topics': { summary: 'List the topic catalog', status: 200, response: listOf('Topic') },
  'POST /api/v1/topics': { summary: 'Add a topic (201) or update one (200) (admin)', status: 201, alsoStatus: 200, response: ref('Topic') },
  'POST /api/v1/workspaces/:ws/webhooks': { summary: 'Subscribe a URL to a topic', status: 201, response: ref('Webhook') },
  'GET /api/v1/workspaces/:ws/webhooks': { summary: 'List webhooks', status: 200, response: listOf('Webhook') },
  'GET /api/v1/workspaces/:ws/webhooks/:id': { summary: 'Get a webhook', status: 200, response: ref('Webhook') },
  'GET /api/v1/workspaces/:ws/webhooks/:id/secret': {
    summary: "Get a webhook's secret", status: 200,
    response: { type: 'object', properties: { secret: { type: 'string' } }, required: ['secret'] },
  },
  'POST /api/v1/workspaces/:ws/webhooks/:id/secret/rotate': {
    summary: 'Rotate the secret: the new one signs from now on, the old one too until the grace period ends', status: 200,
    response: {
      type: 'object',
      properties: { secret: { type: 'string' }, previous_secret_expires_at: { type: ['string', 'null'], format: 'date-time' } },
      required: ['secret', 'previous_secret_expires_at'],
    },
  },
  'PATCH /api/v1/workspaces/:ws/webhooks/:id': { summary: 'Update a webhook', status: 200, response: ref('Webhook') },
  'DELETE /api/v1/workspaces/:ws/webhooks/:id': { summary: 'Delete a webhook; its pending deliveries are cancelled', status: 204 },
  'POST /api/v1/workspaces/:ws/webhooks/:id/test': {
    summary: "Send one test request now with the topic's sample (not retried)", status: 200,
    response: { type: 'object', properties: { delivery: ref('DeliveryDetail') }, required: ['delivery'] },
  },
  'POST /api/v1/workspaces/:ws/webhooks/:id/recover': {
    summary: "Queue the webhook's failed deliveries of a time window again", status: 202,
    response: { type: 'object', properties: { requeued: { type: 'integer' } }, required: ['requeued'] },
  },
  'POST /api/v1/workspaces/:ws/events': { summary: 'Publish an event (202: stored with its deliveries)', status: 202, response: ref('AcceptedEvent') },
  'POST /api/v1/workspaces/:ws/events/batch': {
    summary: 'Publish up to 1000 events in one call', status: 202,
    response: { type: 'object', properties: { data: { type: 'array', items: ref('AcceptedEvent') } }, required: ['data'] },
  },
  'GET /api/v1/workspaces/:ws/events': { summary: 'List events', status: 200, response: listOf('Event') },
  'GET /api/v1/workspaces/:ws/events/:id': { summary: 'Get an event with its deliveries', status: 200, response: ref('EventDetail') },
  'POST /api/v1/workspaces/:ws/events/:id/replay': {
    summary: 'Fan an event out again to the webhooks that match now', status: 202,
    response: { type: 'object', properties: { deliveries: { type: 'integer' } }, required: ['deliveries'] },
  },
  'GET /api/v1/workspaces/:ws/deliveries': { summary: 'List deliveries', status: 200, response: listOf('Delivery') },
  'GET /api/v1/workspaces/:ws/deliveries/:id': { summary: 'Get a delivery with its attempts', status: 200, response: ref('DeliveryDetail') },
  'POST /api/v1/workspaces/:ws/deliveries/:id/retry': { summary: 'Make one more attempt now', status: 202, response: ref('Delivery') },
  'POST /api/v1/filters/test': {
    summary: 'Try a filter against a body', status: 200,
    response: { type: 'object', properties: { matches: { type: 'boolean' } }, required: ['matches'] },
  },
  'GET /api/v1/me': {
    summary: 'Who the API key belongs to: the admin, or a workspace', status: 200,
    response: {
      type: 'object',
      properties: { kind: { type: 'string', enum: ['admin', 'workspace'] }, workspace_id: { type: 'string' } },
      required: ['kind'],
    },
  },
};

export function documentedRoutes(): string[] {
  return Object.keys(ROUTES);
}

function tagOf(url: string): string {
  const parts = url.replace('/api/v1/', '').split('/');
  if (parts[0] === 'workspaces' && parts.length > 2) return parts[2]!;
  return parts[0]!;
}

/** Registers the shared schemas, the OpenAPI generator, /api/v1/openapi.json and the /docs reference. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.addHook('onRoute', (route: RouteOptions) => {
    const url = route.url ?? '';
    if (!url.startsWith('/api/v1/')) {
      route.schema = { ...route.schema, hide: true } as typeof route.schema;
      return;
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const doc = ROUTES[`${methods[0]} ${url}`];
    const success = doc?.response ?? { type: 'null', description: 'no content' };
    // Errors are sent as application/problem+json (problems.ts), and documented so.
    const problemAnswer = { description: 'A problem (RFC 9457)', content: { 'application/problem+json': { schema: ref('Problem') } } };
    route.schema = {
      ...route.schema,
      tags: [tagOf(url)],
      summary: doc?.summary,
      security: [{ bearer: [] }],
      response: {
        ...(doc ? { [doc.status]: success } : {}),
        ...(doc?.alsoStatus ? { [doc.alsoStatus]: success } : {}),
        '4xx': problemAnswer,
        '5xx': problemAnswer,
      },
    } as typeof route.schema;
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
