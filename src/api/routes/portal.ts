// The portal (CONTRACT section 6): the platform's backend asks for a link to a workspace's
// Webhooks page (admin key); the page opens the link once (POST /portal/exchange, no key) and
// gets a session credential, which authenticates like the workspace's key (auth.ts). Links
// and credentials are stored hashed, like API keys; neither is ever written to a log.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, FastifyInstance } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import type { Config } from '../../config.js';
import { newApiKey, newId } from '../../domain/ids.js';
import { portalStatus } from '../../domain/portal.js';
import type { PortalSession as PortalSessionRecord, PortalTheme } from '../../store/store.js';
import { hashKey, livePortalSession, portalRefused } from '../auth.js';
import { resource, serve, type Json } from '../contract.js';
import { badInput, notFound } from '../problems.js';
import { listOf, listQuery, nullableTime, time, withId, wsParams } from '../schemas.js';
import { iso, pageRequest, pageResponse } from './common.js';

// ---- Schemas and types ----

const LOGO_MAX = 64 * 1024;

const themeSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64, description: 'the business or platform name shown on the page' },
    primary_color: { type: 'string', maxLength: 7, description: '#rrggbb' },
    logo_url: { type: 'string', maxLength: LOGO_MAX, description: 'an https: or data:image/… address, at most 64 KiB' },
    dark: { type: 'boolean', description: 'the dark variant' },
  },
  additionalProperties: false,
} as const;

const access = { type: 'string', enum: ['manage', 'view'] } as const;

const portalSessionCreateSchema = {
  type: ['object', 'null'],
  properties: {
    access: { ...access, description: 'manage (default): what a workspace key may do; view: only reading' },
    expires_in: { type: 'integer', minimum: 60, maximum: 604_800, description: 'seconds, default 3600' },
    theme: themeSchema,
  },
  additionalProperties: false,
} as const;

export const portalSessionSchema = {
  $id: 'PortalSession',
  type: 'object',
  properties: {
    id: { type: 'string' },
    access,
    status: { type: 'string', enum: ['unopened', 'open', 'expired', 'revoked'] },
    theme: themeSchema,
    expires_at: time,
    created_at: time,
    opened_at: nullableTime,
    revoked_at: nullableTime,
  },
  required: ['id', 'access', 'status', 'theme', 'expires_at', 'created_at', 'opened_at', 'revoked_at'],
} as const;

const newPortalSessionSchema = {
  $id: 'NewPortalSession',
  type: 'object',
  properties: {
    id: { type: 'string' },
    url: { type: 'string', description: '{HERALD_PUBLIC_URL}/portal#<token>: opens once' },
    access,
    expires_at: time,
    created_at: time,
  },
  required: ['id', 'url', 'access', 'expires_at', 'created_at'],
} as const;

const exchangeSchema = {
  type: 'object',
  properties: { token: { type: 'string', minLength: 1, maxLength: 200, description: 'what follows # in the link' } },
  required: ['token'],
  additionalProperties: false,
} as const;

const openedSchema = {
  $id: 'PortalOpened',
  type: 'object',
  properties: {
    credential: { type: 'string', description: 'send as "Authorization: Bearer <credential>" until expires_at' },
    session_id: { type: 'string', description: 'the portal session (ps_…): pass it to /portal/resume after a reload' },
    workspace_id: { type: 'string' },
    access,
    theme: themeSchema,
    expires_at: time,
  },
  required: ['credential', 'session_id', 'workspace_id', 'access', 'theme', 'expires_at'],
} as const;

const resumeSchema = {
  type: ['object', 'null'],
  properties: {
    session: { type: 'string', minLength: 1, maxLength: 64, description: 'the session_id that /portal/exchange answered; needed when this browser holds several portal sessions' },
  },
  additionalProperties: false,
} as const;

export type PortalSession = Json<typeof portalSessionSchema>;
export type NewPortalSession = Json<typeof newPortalSessionSchema>;
export type PortalSessionInput = NonNullable<FromSchema<typeof portalSessionCreateSchema>>;
export type PortalThemeInput = FromSchema<typeof themeSchema>;
export type PortalOpened = Json<typeof openedSchema>;

function presentTheme(t: PortalTheme): PortalThemeInput {
  return {
    ...(t.name !== undefined ? { name: t.name } : {}),
    ...(t.primaryColor !== undefined ? { primary_color: t.primaryColor } : {}),
    ...(t.logoUrl !== undefined ? { logo_url: t.logoUrl } : {}),
    ...(t.dark !== undefined ? { dark: t.dark } : {}),
  };
}

export function presentPortalSession(s: PortalSessionRecord, now = Date.now()): PortalSession {
  return {
    id: s.id, access: s.access, status: portalStatus(s, now), theme: presentTheme(s.theme),
    expires_at: iso(s.expiresAt), created_at: iso(s.createdAt), opened_at: iso(s.usedAt), revoked_at: iso(s.revokedAt),
  };
}

/** The theme as stored, after the checks that a schema cannot say plainly. */
function readTheme(t: PortalThemeInput | undefined): PortalTheme {
  if (!t) return {};
  if (t.primary_color !== undefined && !/^#[0-9a-fA-F]{6}$/.test(t.primary_color)) {
    throw badInput('theme.primary_color', 'must be a colour written #rrggbb, such as #0f766e');
  }
  if (t.logo_url !== undefined && !isLogoUrl(t.logo_url)) {
    throw badInput('theme.logo_url', 'must be an https: address or a data:image/… address');
  }
  return { name: t.name, primaryColor: t.primary_color?.toLowerCase(), logoUrl: t.logo_url, dark: t.dark };
}

function isLogoUrl(value: string): boolean {
  if (/^data:image\/[a-z0-9.+-]+(;[a-z0-9=.+-]+)*(;base64)?,/i.test(value)) return true;
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

// ---- Contract ----

export const portalApi = resource('portal', {
  create: {
    method: 'POST', url: '/workspaces/:ws/portal-sessions', access: 'admin',
    summary: "Create a link to the workspace's Webhooks page, for the platform's dashboard (it opens once)",
    params: wsParams, body: portalSessionCreateSchema, answers: { 201: newPortalSessionSchema },
  },
  list: {
    method: 'GET', url: '/workspaces/:ws/portal-sessions', access: 'admin', summary: 'List portal sessions (without their links), newest first',
    params: wsParams, querystring: listQuery(), answers: { 200: listOf(portalSessionSchema) },
  },
  revoke: {
    method: 'DELETE', url: '/workspaces/:ws/portal-sessions/:session', access: 'admin', summary: 'Revoke a portal session: it stops working at once',
    params: withId('session'), answers: { 204: null },
  },
  revokeAll: {
    method: 'DELETE', url: '/workspaces/:ws/portal-sessions', access: 'admin', summary: "Revoke every portal session of the workspace",
    params: wsParams, answers: { 204: null },
  },
  exchange: {
    method: 'POST', url: '/portal/exchange', access: 'public',
    summary: "Open a portal link: its token (after # in the url) for a session credential; a link opens once",
    description: 'No API key. 401 for a used, expired or revoked link (the problem type says which). '
      + 'Also sets a partitioned cookie (Path=/api/v1/portal) that /portal/resume reads after a reload.',
    body: exchangeSchema, answers: { 200: openedSchema },
  },
  resume: {
    method: 'POST', url: '/portal/resume', access: 'public',
    summary: "The session that this browser's portal cookie holds, after a reload of the page",
    description: 'No API key: the cookie that /portal/exchange set for the session named by `session` '
      + '(optional when the browser holds only one). 401 when there is none or it ended.',
    body: resumeSchema, answers: { 200: openedSchema },
  },
});

// ---- Handlers ----

/**
 * One cookie per session, named by its id: two portal pages open in one browser (two tabs, two
 * workspaces) each get their own session back after a reload, not the one opened last.
 */
const COOKIE_PREFIX = 'herald_portal_';
const COOKIE_PATH = '/api/v1/portal';

/** Where users reach Herald: HERALD_PUBLIC_URL, else http://{host}:{the port listened on}. */
function publicUrl(config: Config, app: FastifyInstance): string {
  if (config.publicUrl) return config.publicUrl;
  const address = app.addresses()[0];
  const port = typeof address === 'object' ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}`;
}

/**
 * Keeps the credential for a reload: in a frame on another site the page has no Web Storage,
 * but a partitioned cookie (CHIPS) is kept for that site's frames. HttpOnly, and sent only to
 * /api/v1/portal, so it authenticates nothing but /portal/resume.
 */
function keepForReload(reply: FastifyReply, session: PortalSessionRecord, credential: string): void {
  const maxAge = Math.max(0, Math.floor((session.expiresAt - Date.now()) / 1000));
  reply.header('set-cookie', `${COOKIE_PREFIX}${session.id}=${credential}; Path=${COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=None; Partitioned`);
  reply.header('cache-control', 'no-store');
}

/** The credential kept for `sessionId`, or, without one, the only portal cookie the browser sent (null when none or several). */
function keptCredential(req: FastifyRequest, sessionId: string | undefined): string | null {
  const kept = new Map<string, string>();
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name?.startsWith(COOKIE_PREFIX)) kept.set(name.slice(COOKIE_PREFIX.length), value.join('='));
  }
  if (sessionId !== undefined) return kept.get(sessionId) ?? null;
  return kept.size === 1 ? [...kept.values()][0]! : null;
}

function opened(s: PortalSessionRecord, credential: string): PortalOpened {
  return {
    credential, session_id: s.id, workspace_id: s.workspaceId, access: s.access, theme: presentTheme(s.theme), expires_at: iso(s.expiresAt),
  };
}

export function portalRoutes(services: Services): FastifyPluginAsync {
  const { store } = services;
  return async (app) => {
    serve(app, portalApi.create, async (req, reply) => {
      const body = req.body ?? {};
      const theme = readTheme(body.theme);
      if (!(await store.getWorkspace(req.params.ws))) throw notFound(`workspace ${req.params.ws}`);
      const now = Date.now();
      const token = newApiKey('portal-link');
      const record: PortalSessionRecord = {
        id: newId('ps', now), workspaceId: req.params.ws, access: body.access ?? 'manage', theme,
        expiresAt: now + (body.expires_in ?? 3600) * 1000, createdAt: now, usedAt: null, revokedAt: null,
      };
      await store.createPortalSession(record, hashKey(token));
      reply.status(201);
      return {
        id: record.id, url: `${publicUrl(services.config, app)}/portal#${token}`, access: record.access,
        expires_at: iso(record.expiresAt), created_at: iso(record.createdAt),
      };
    });

    serve(app, portalApi.list, async (req) => {
      if (!(await store.getWorkspace(req.params.ws))) throw notFound(`workspace ${req.params.ws}`);
      const now = Date.now();
      return pageResponse(await store.listPortalSessions(req.params.ws, pageRequest(req.query)), (s) => presentPortalSession(s, now));
    });

    serve(app, portalApi.revoke, async (req, reply) => {
      if ((await store.revokePortalSessions(req.params.ws, req.params.session, Date.now())) === 0) throw notFound(`portal session ${req.params.session}`);
      reply.status(204);
    });

    serve(app, portalApi.revokeAll, async (req, reply) => {
      if (!(await store.getWorkspace(req.params.ws))) throw notFound(`workspace ${req.params.ws}`);
      await store.revokePortalSessions(req.params.ws, null, Date.now());
      reply.status(204);
    });

    serve(app, portalApi.exchange, async (req, reply) => {
      const credential = newApiKey('portal-session');
      const { session, refusal } = await store.openPortalLink(hashKey(req.body.token), hashKey(credential), Date.now());
      if (refusal || !session) throw portalRefused('link', refusal ?? 'unknown');
      keepForReload(reply, session, credential);
      return opened(session, credential);
    });

    serve(app, portalApi.resume, async (req, reply) => {
      const wanted = req.body?.session;
      const credential = keptCredential(req, wanted);
      if (!credential) throw portalRefused('session', 'unknown');
      const session = await livePortalSession(hashKey(credential), services);
      // A cookie renamed by hand does not resume another session than its own.
      if (wanted !== undefined && session.id !== wanted) throw portalRefused('session', 'unknown');
      reply.header('cache-control', 'no-store');
      return opened(session, credential);
    });
  };
}
