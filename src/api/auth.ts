// Who is calling (authenticate: every route whose contract has a non-public access, 401) and whether they may call the route
// (authorise: by the `access` and `portal` of the route's contract, 403 or 404). app.ts runs both as hooks.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import type { PortalSession, Workspace } from '../store/store.js';
import { PORTAL_SESSION_PREFIX } from '../domain/ids.js';
import { sessionRefusal, type PortalRefusal } from '../domain/portal.js';
import { HttpError, notFound } from './problems.js';

export type Principal =
  | { kind: 'admin' }
  | { kind: 'workspace'; workspaceId: string; keyId: string }
  /** A portal session (CONTRACT section 6): one workspace, like its key, `view` only reading. */
  | { kind: 'portal'; workspaceId: string; sessionId: string; access: 'manage' | 'view'; expiresAt: number };

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Who is calling, from `Authorization: Bearer <key>`; 401 for no key or a wrong one. */
export async function authenticate(header: string | undefined, services: Services): Promise<Principal> {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) throw noKey();
  const hash = hashKey(match[1]!);
  // Constant-time comparison of the hashes, so the admin key cannot be guessed byte by byte.
  if (timingSafeEqual(Buffer.from(hash, 'hex'), Buffer.from(services.adminKeyHash, 'hex'))) return { kind: 'admin' };
  if (match[1]!.startsWith(PORTAL_SESSION_PREFIX)) return portalPrincipal(hash, services);
  const key = await services.store.findKeyByHash(hash);
  if (!key) throw new HttpError(401, 'the API key is not valid');
  return { kind: 'workspace', workspaceId: key.workspaceId, keyId: key.id };
}

/** 401: the call needs a key and came without one. */
export function noKey(): HttpError {
  return new HttpError(401, 'send an API key as "Authorization: Bearer <key>"');
}

async function portalPrincipal(hash: string, services: Services): Promise<Principal> {
  const session = await livePortalSession(hash, services);
  return { kind: 'portal', workspaceId: session.workspaceId, sessionId: session.id, access: session.access, expiresAt: session.expiresAt };
}

/** The portal session whose credential hashes to `hash`, or a 401 that says why it no longer signs in. */
export async function livePortalSession(hash: string, services: Services): Promise<PortalSession> {
  const session = await services.store.findPortalSession(hash);
  const refusal = sessionRefusal(session, Date.now());
  if (refusal || !session) throw portalRefused('session', refusal ?? 'unknown');
  return session;
}

const REFUSALS: Record<PortalRefusal, string> = {
  unknown: 'is not valid (its workspace may have been deleted)',
  used: 'was already used: a portal link opens once',
  expired: 'has expired',
  revoked: 'was revoked',
};

/** 401 for a portal link or session that does not sign in; the problem's type names the reason (urn:herald:problem:portal-link-used). */
export function portalRefused(what: 'link' | 'session', refusal: PortalRefusal): HttpError {
  return new HttpError(401, `this portal ${what} ${REFUSALS[refusal]}; open the Webhooks page again from your platform`, undefined, `urn:herald:problem:portal-${what}-${refusal}`);
}

/**
 * Checks the route's `access` (contract.ts) once the request has been validated: `admin`
 * needs the admin key (403); `workspace` resolves `:ws` into `req.workspace`. A portal session
 * is held to its contract's `portal` and, when `view`, to reading.
 */
export async function authorise(req: FastifyRequest, services: Services): Promise<void> {
  const { access, portal } = req.routeOptions.config;
  const p = req.principal;
  if (p?.kind === 'portal' && access !== 'admin' && access !== 'public') {
    if (portal === 'never') throw new HttpError(403, 'a portal session cannot make this call (it is for API keys)');
    const reading = (req.method === 'GET' || req.method === 'HEAD' || portal === 'read') && portal !== 'manage';
    if (p.access === 'view' && !reading) {
      throw new HttpError(403, 'this portal session is view-only: it can look at the webhooks and deliveries but not change them', undefined, 'urn:herald:problem:portal-view-only');
    }
  }
  // Routes outside the API (the dashboard, /healthz) have no access; `public` needs no key.
  if (access === undefined || access === 'public') return;
  // Fail closed: a route with an access is never served without a principal, whatever
  // decided (or failed to decide) that the request needed a key.
  if (!p) throw noKey();
  switch (access) {
    case 'key':
      return;
    case 'admin':
      if (p.kind !== 'admin') throw new HttpError(403, 'this call needs the admin key');
      return;
    case 'workspace':
      req.workspace = await workspaceFor(p, services, (req.params as { ws: string }).ws);
      return;
    default:
      throw new HttpError(403, `this route's access (${String(access satisfies never)}) is not one Herald knows`);
  }
}

/** Whether the caller is a `view` portal session, which sees credentials in headers masked (domain/portal.ts). */
export function viewOnly(p: Principal | null): boolean {
  return p?.kind === 'portal' && p.access === 'view';
}

/** The workspace the caller may use, or 404 (also for another workspace's key, so ids cannot be probed). */
async function workspaceFor(p: Principal, services: Services, id: string): Promise<Workspace> {
  if (p.kind !== 'admin' && p.workspaceId !== id) throw notFound(`workspace ${id}`);
  const workspace = await services.store.getWorkspace(id);
  if (!workspace) throw notFound(`workspace ${id}`);
  return workspace;
}
