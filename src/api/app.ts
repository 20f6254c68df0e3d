import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Services } from '../services.js';
import { HttpError, pointerToPath, problem, type FieldError } from './problems.js';
import { authenticate, authorise, type Principal } from './auth.js';
import { checkInput, parseJson } from './input-checks.js';
import { opsRoutes } from './routes/ops.js';
import { registerOpenApi, registerOpenApiDocument } from './openapi.js';
import { apiRoutes } from './routes/index.js';
import { dashboardRoutes } from './routes/dashboard.js';
import type { Workspace } from '../store/store.js';
import { isDatabaseUnavailable } from '../store/unavailable.js';

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
    bodyLimit: DEFAULT_BODY_LIMIT,
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
    // Requests Node refuses before Fastify sees them (headers too large, a timeout, broken HTTP).
    clientErrorHandler: answerClientError,
    frameworkErrors: (err, _req, reply) => {
      const body = problem(400, `the request URL is not valid: ${err.message}`, [{ path: 'url', message: 'is not a valid URL' }]);
      void (reply as unknown as FastifyReply).code(400).type('application/problem+json').send(body);
    },
  });

  // A flood of connections is refused at the socket rather than exhausting file descriptors.
  app.server.maxConnections = services.config.maxConnections;

  // JSON only: anything else is a 415, not a body that fails validation in odd ways.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('workspace', null);
  app.addHook('onRequest', async (req) => {
    if (needsKey(req)) req.principal = await authenticate(req.headers.authorization, services);
  });
  // Who may call the route (its contract's `access`): after validation, so that a malformed
  // request is a 400 whoever sends it.
  app.addHook('preHandler', async (req) => authorise(req, services));

  // Rules for every route's input (too deep, a NUL in text): see input-checks.ts.
  app.addHook('preValidation', async (req) => checkInput(req));

  // An API write is answered only once it is on disk (stores that commit before syncing
  // share one sync among the writes that arrive together).
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && reply.statusCode < 400) await services.store.durable?.();
    return payload;
  });

  app.setErrorHandler((err: any, req, reply) => {
    const { status, detail, errors, type } = describe(err, req);
    if (status === 503) {
      // The database is away (a restart, a full disk): the same request will do once it is back.
      req.log.warn({ err }, 'request refused: the database is not available');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    } else if (status >= 500) req.log.error({ err }, 'request failed');
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

/**
 * Whether the request must carry a key. Decided by the route the router matched (its
 * contract's `access`), not by the raw URL: the router decodes the path, so /%61pi/v1/me
 * reaches the /api/v1/me route while its URL does not start with /api/v1/. A path that
 * matched no route answers nothing without a key under /api/v1/ either.
 */
function needsKey(req: FastifyRequest): boolean {
  const { access } = req.routeOptions.config;
  if (access !== undefined) return access !== 'public';
  return req.url.startsWith('/api/v1/') && !req.url.startsWith('/api/v1/openapi.json');
}

/** The largest body of a route that sets no limit of its own (not a setting). */
const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Answers, as problem+json, what Node's HTTP parser refuses before any route runs: headers
 * larger than Node's --max-http-header-size (431), a request slower than requestTimeout (408),
 * or bytes that are not HTTP (400). The connection is closed after it, as Node does.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, `the request's headers are larger than ${maxHeaderSize} bytes, the most Node's HTTP server takes (node --max-http-header-size)`]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the whole request did not arrive within the request timeout']
        : [400, `the request is not valid HTTP (${err.code ?? 'parse error'})`];
  const body = JSON.stringify(problem(status, detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** What a 503 asks the client to wait: the pool reconnects within about this long once the database is back. */
const RETRY_AFTER_SECONDS = 1;

function describe(err: any, req: FastifyRequest): { status: number; detail: string; errors?: FieldError[]; type?: string } {
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
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = req.routeOptions.bodyLimit ?? DEFAULT_BODY_LIMIT;
      const setting = req.routeOptions.config.bodyLimitSetting ?? 'a fixed limit';
      return { status: 413, detail: `the request body is larger than ${limit} bytes, the most this route accepts (${setting})` };
    }
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


