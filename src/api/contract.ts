// A route's contract: its method and path, who may call it, its input and output schemas and
// its OpenAPI text, as plain data in the resource's route file. `serve` registers a handler
// for it; the handler's request and answer types are derived from the same schemas, so the
// validation, the serialisation, the OpenAPI document and the types cannot drift apart.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { Workspace as WorkspaceRecord } from '../store/store.js';
import { problemSchema } from './schemas.js';

/**
 * Who may call a route; app.ts checks it for every route before the handler runs.
 * - `key`: any valid API key.
 * - `admin`: only the admin key (403 otherwise).
 * - `workspace`: the admin key or a key of the workspace `:ws`, which must exist (404
 *   otherwise, also for another workspace's key, so that ids cannot be probed). The handler
 *   finds the workspace in `req.workspace`. A portal session of that workspace may call it too
 *   (CONTRACT section 6), within its contract's `portal`.
 * - `public`: no key at all (opening a portal link, which is how a page without a key gets one).
 */
export type Access = 'key' | 'admin' | 'workspace' | 'public';
const ACCESSES: readonly Access[] = ['key', 'admin', 'workspace', 'public'];

/**
 * What a portal session may do on a route, where its `access` and method do not say it all:
 * - `never`: not even a `manage` session (the workspace's API keys);
 * - `manage`: a read that only a `manage` session may make (a webhook's secret, with which one
 *   could sign requests as Herald);
 * - `read`: a POST that changes nothing (testing a filter), so a `view` session may call it.
 * Otherwise a `manage` session may call what a workspace key may, and a `view` session only GETs.
 */
export type PortalAccess = 'never' | 'manage' | 'read';

export interface RouteContract {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Under /api/v1. */
  readonly url: string;
  readonly summary: string;
  readonly description?: string;
  readonly access: Access;
  readonly portal?: PortalAccess;
  readonly params?: JSONSchema;
  readonly querystring?: JSONSchema;
  readonly body?: JSONSchema;
  /** The success answers by status; null for an answer without content. */
  readonly answers: { readonly [status: number]: JSONSchema | null };
}

/** A contract as `resource` returns it: with the OpenAPI tag of its resource. */
export type TaggedContract = RouteContract & { readonly tag: string };

/** The contracts of one resource (one route file), tagged with its name in the OpenAPI document. */
export function resource<const T extends Record<string, RouteContract>>(tag: string, table: T): { readonly [K in keyof T]: T[K] & { readonly tag: string } } {
  return Object.fromEntries(Object.entries(table).map(([name, c]) => [name, { ...c, tag }])) as never;
}

// ---- Types derived from a contract ----

type DeclaredKey<T> = keyof { [K in keyof T as string extends K ? never : K]: 0 };

/**
 * FromSchema gives an object schema without `additionalProperties: false` an index signature
 * (`[x: string]: unknown`), which would let a presenter add or misspell a field unnoticed;
 * this removes it where the object declares its properties (free-form maps keep theirs).
 */
export type Closed<T> = T extends readonly (infer U)[]
  ? Closed<U>[]
  : T extends object
    ? [DeclaredKey<T>] extends [never]
      ? T
      : { [K in keyof T as string extends K ? never : K]: Closed<T[K]> }
    : T;

/** The JSON an answer schema describes. */
export type Json<S> = S extends JSONSchema ? Closed<FromSchema<S>> : never;

/** What a route answers on success (any of its statuses); `void` for no content. */
export type Answer<C extends RouteContract> = {
  [S in keyof C['answers']]: C['answers'][S] extends null ? void : Json<C['answers'][S]>;
}[keyof C['answers']];

/** The body a route takes; an optional body (a schema that allows null) may also be absent. */
export type Body<C extends RouteContract> = C extends { body: infer S extends JSONSchema }
  ? FromSchema<S> | (null extends FromSchema<S> ? undefined : never)
  : undefined;

export type Query<C extends RouteContract> = C extends { querystring: infer S extends JSONSchema } ? FromSchema<S> : Record<string, never>;
export type Params<C extends RouteContract> = C extends { params: infer S extends JSONSchema } ? FromSchema<S> : Record<string, never>;

export type Request<C extends RouteContract> = FastifyRequest<{ Params: Params<C>; Querystring: Query<C>; Body: Body<C> }>
  & (C['access'] extends 'workspace' ? { workspace: WorkspaceRecord } : unknown);

export type Handler<C extends RouteContract> = (req: Request<C>, reply: FastifyReply) => Promise<Answer<C>>;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** What sets the route's body limit, for the 413 that names it. */
    bodyLimitSetting?: string;
    portal?: PortalAccess;
  }
}

// ---- Registration ----

const problemAnswer = { description: 'A problem (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: `${problemSchema.$id}#` } } } };

/** Registers `handler` for `contract` (a route of the plugin `app`, which is mounted at /api/v1). */
export function serve<C extends TaggedContract>(
  app: FastifyInstance, contract: C, handler: NoInfer<Handler<C>>, options: { bodyLimit?: number; bodyLimitSetting?: string } = {},
): void {
  // A workspace's data must never be reachable with just any key.
  if (/^\/workspaces\/:ws(\/|$)/.test(contract.url) && contract.access === 'key') {
    throw new Error(`${contract.method} ${contract.url}: a route under /workspaces/:ws needs access 'workspace' or 'admin'`);
  }
  // authorise (auth.ts) knows these; a contract with another access would be refused on every call.
  if (!ACCESSES.includes(contract.access)) throw new Error(`${contract.method} ${contract.url}: unknown access ${String(contract.access)}`);
  const response: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(contract.answers)) {
    response[status] = schema === null ? { type: 'null', description: 'no content' } : namedAsRefs(schema, false);
  }
  // Errors are sent as application/problem+json (problems.ts), and documented so.
  response['4xx'] = problemAnswer;
  response['5xx'] = problemAnswer;
  const { params, querystring, body, summary, description } = contract;
  app.route({
    method: contract.method,
    url: contract.url,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    config: { access: contract.access, bodyLimitSetting: options.bodyLimitSetting, ...(contract.portal ? { portal: contract.portal } : {}) },
    schema: {
      tags: [contract.tag],
      summary,
      ...(description ? { description } : {}),
      security: contract.access === 'public' ? [] : [{ bearer: [] }],
      ...(params ? { params } : {}),
      ...(querystring ? { querystring } : {}),
      ...(body ? { body } : {}),
      response,
    },
    handler: handler as unknown as RouteHandlerMethod,
  });
}

/**
 * The schemas with an `$id` that the contracts' answers use (with `problemSchema`), each
 * registered once with `app.addSchema` and referenced by id: they become the OpenAPI
 * document's components.
 */
export function namedSchemas(contracts: readonly RouteContract[]): object[] {
  const found = new Map<string, object>([[problemSchema.$id, problemSchema]]);
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    const id = (value as { $id?: unknown }).$id;
    if (typeof id === 'string') {
      const seen = found.get(id);
      if (seen && seen !== value) throw new Error(`two different schemas are named ${id}`);
      found.set(id, value);
    }
    Object.values(value).forEach(visit);
  };
  for (const c of contracts) visit(Object.values(c.answers));
  return [...found.values()].map((schema) => namedAsRefs(schema, true) as object);
}

/** `schema` with every nested schema that has an `$id` replaced by a reference to it (the root too unless `keepRoot`). */
function namedAsRefs(schema: unknown, keepRoot: boolean): unknown {
  if (Array.isArray(schema)) return schema.map((s) => namedAsRefs(s, false));
  if (schema === null || typeof schema !== 'object') return schema;
  const id = (schema as { $id?: unknown }).$id;
  if (typeof id === 'string' && !keepRoot) return { $ref: `${id}#` };
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, namedAsRefs(v, false)]));
}
