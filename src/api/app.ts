import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Services } from '../services.js';
import { HttpError, pointerToPath, problem, type FieldError } from './problems.js';
import { authenticate, authorise, type Principal } from './auth.js';
import { opsRoutes } from './routes/ops.js';
import { registerOpenApi, registerOpenApiDocument } from './openapi.js';
import { apiRoutes } from './routes/index.js';
import { dashboardRoutes } from './routes/dashboard.js';
import type { Workspace } from '../store/store.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The workspace `:ws` of a route with `access: 'workspace'`, once authorised (auth.ts). */
    workspace: Workspace | null;
  }
}

/** Builds the HTTP API (without listening): auth, error mapping and the routes. */
export async function buildApp(services: Services, log: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    // One log line per request would cost more than the request; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 200 },
    // Strict JSON: no type coercion, no silently dropped fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A whole request must arrive within a minute (Fastify's default is no limit), so that
    // clients trickling a body cannot hold connections open forever.
    requestTimeout: 60_000,
    // A path with broken percent-encoding (e.g. /workspaces/%zz) never reaches the error
    // handler; without this Fastify answers it with its own JSON shape, not problem+json.
    frameworkErrors: (err, _req, reply) => {
      const body = problem(400, `the request URL is not valid: ${err.message}`, [{ path: 'url', message: 'is not a valid URL' }]);
      void (reply as unknown as FastifyReply).code(400).type('application/problem+json').send(body);
    },
  });

  // A flood of connections is refused at the socket rather than exhausting file descriptors.
  app.server.maxConnections = services.config.maxConnections;

  // JSON only: anything else is a 415, not a body that fails validation in odd ways.
  app.removeContentTypeParser(['text/plain']);
  app.decorateRequest('principal', null);
  app.decorateRequest('workspace', null);
  app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/api/v1/') && !req.url.startsWith('/api/v1/openapi.json') && req.routeOptions.config.access !== 'public') {
      req.principal = await authenticate(req.headers.authorization, services);
    }
  });
  // Who may call the route (its contract's `access`): after validation, so that a malformed
  // request is a 400 whoever sends it.
  app.addHook('preHandler', async (req) => authorise(req, services));

  // JSON nested deeper than any real payload would overflow the stack of the recursive walks
  // after parsing (JSON.stringify, validation): refuse it as bad input instead of failing with a 500.
  app.addHook('preValidation', async (req) => {
    const path = tooDeep(req.body, MAX_JSON_DEPTH);
    if (path !== null) {
      const message = `is nested deeper than ${MAX_JSON_DEPTH} levels`;
      throw new HttpError(400, `${path}: ${message}`, [{ path, message }]);
    }
    // Text fields are stored as text, which PostgreSQL refuses to hold a NUL in; refuse it
    // everywhere alike. (Payloads such as `data` are stored as JSON, where it is escaped.)
    if (req.body !== null && typeof req.body === 'object' && !Array.isArray(req.body)) {
      for (const [key, value] of Object.entries(req.body)) {
        if (typeof value === 'string' && value.includes('\u0000')) {
          throw new HttpError(400, `${key}: must not contain the NUL character (U+0000)`, [{ path: key, message: 'must not contain the NUL character (U+0000)' }]);
        }
      }
    }
  });

  // An API write is answered only once it is on disk (stores that commit before syncing
  // share one sync among the writes that arrive together).
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && reply.statusCode < 400) await services.store.durable?.();
    return payload;
  });

  app.setErrorHandler((err: any, req, reply) => {
    const { status, detail, errors, type } = describe(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    reply.status(status).type('application/problem+json').send(problem(status, detail, errors, type));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).type('application/problem+json').send(problem(404, `no route for ${req.method} ${req.url.split('?')[0]}`));
  });

  await registerOpenApi(app);
  registerOpenApiDocument(app);
  await app.register(opsRoutes(services));
  await app.register(apiRoutes(services), { prefix: '/api/v1' });
  await app.register(dashboardRoutes(undefined, services.config.frameAncestors));
  return app;
}

export const MAX_JSON_DEPTH = 128;

/** The path (its first segments) at which `value` nests deeper than `max`, or null; iterative, so any depth is safe. */
function tooDeep(value: unknown, max: number): string | null {
  if (value === null || typeof value !== 'object') return null;
  // Runs on every request body: no per-node allocation beyond the stack entries themselves.
  const stack: { v: object; depth: number; path: string }[] = [{ v: value, depth: 1, path: '' }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (depth > max) return path || 'body';
    // Only the first few segments go into the path: enough to name the field, short enough to read.
    const named = depth <= 3;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const child = v[i];
        if (child !== null && typeof child === 'object') stack.push({ v: child, depth: depth + 1, path: named ? `${path}[${i}]` : path });
      }
    } else {
      for (const key in v) {
        const child = (v as Record<string, unknown>)[key];
        if (child !== null && typeof child === 'object') stack.push({ v: child, depth: depth + 1, path: named ? (path ? `${path}.${key}` : key) : path });
      }
    }
  }
  return null;
}

function describe(err: any): { status: number; detail: string; errors?: FieldError[]; type?: string } {
  if (err instanceof HttpError) return { status: err.status, detail: err.message, errors: err.errors, type: err.type };
  if (err?.validation) {
    const context = err.validationContext === 'body' ? '' : `${err.validationContext}.`;
    const errors: FieldError[] = (err.validation as any[]).map((v) => {
      let path = pointerToPath(v.instancePath ?? '');
      const extra = v.params?.missingProperty ?? v.params?.additionalProperty;
      if (extra) path = path ? `${path}.${extra}` : extra;
      let message: string = v.message ?? 'is not valid';
      if (v.keyword === 'additionalProperties') message = 'is not a known field';
      if (v.keyword === 'required') message = 'is required';
      if (v.keyword === 'enum') message = `must be one of ${(v.params.allowedValues as unknown[]).join(', ')}`;
      return { path: context + (path || (err.validationContext === 'body' ? 'body' : '')), message };
    });
    return { status: 400, detail: errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors };
  }
  switch (err?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, detail: 'the request body is larger than this route accepts' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, detail: 'send the body as application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, detail: 'the JSON body is empty', errors: [{ path: 'body', message: 'is empty' }] };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, detail: `the body is not valid JSON: ${err.message}`, errors: [{ path: 'body', message: 'is not valid JSON' }] };
  }
  if (err instanceof SyntaxError || err?.statusCode === 400) {
    return { status: 400, detail: `the body is not valid JSON: ${err.message}`, errors: [{ path: 'body', message: 'is not valid JSON' }] };
  }
  if (typeof err?.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, detail: err.message };
  }
  if (isDatabaseUnavailable(err)) return { status: 503, detail: 'the database is not available; try again shortly' };
  return { status: 500, detail: 'internal error' };
}

function isDatabaseUnavailable(err: any): boolean {
  const code = String(err?.code ?? '');
  return /^SQLITE_(BUSY|FULL|IOERR|LOCKED|CANTOPEN|READONLY)/.test(code) || code === 'ECONNREFUSED' || code === '57P01';
}

