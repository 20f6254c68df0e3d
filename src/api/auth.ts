// Who is calling (authenticate: every /api/v1 call, 401) and whether they may call the route
// (authorise: by the `access` of the route's contract, 403 or 404). app.ts runs both as hooks.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import type { Workspace } from '../store/store.js';
import { HttpError, notFound } from './problems.js';

export type Principal = { kind: 'admin' } | { kind: 'workspace'; workspaceId: string; keyId: string };

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Who is calling, from `Authorization: Bearer <key>`; 401 for no key or a wrong one. */
export async function authenticate(header: string | undefined, services: Services): Promise<Principal> {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) throw new HttpError(401, 'send an API key as "Authorization: Bearer <key>"');
  const hash = hashKey(match[1]!);
  // Constant-time comparison of the hashes, so the admin key cannot be guessed byte by byte.
  if (timingSafeEqual(Buffer.from(hash, 'hex'), Buffer.from(services.adminKeyHash, 'hex'))) return { kind: 'admin' };
  const key = await services.store.findKeyByHash(hash);
  if (!key) throw new HttpError(401, 'the API key is not valid');
  return { kind: 'workspace', workspaceId: key.workspaceId, keyId: key.id };
}

/**
 * Checks the route's `access` (contract.ts) once the request has been validated: `admin`
 * needs the admin key (403); `workspace` resolves `:ws` into `req.workspace`.
 */
export async function authorise(req: FastifyRequest, services: Services): Promise<void> {
  switch (req.routeOptions.config.access) {
    case 'admin':
      if (req.principal?.kind !== 'admin') throw new HttpError(403, 'this call needs the admin key');
      return;
    case 'workspace':
      req.workspace = await workspaceFor(req.principal, services, (req.params as { ws: string }).ws);
      return;
  }
}

/** The workspace the caller may use, or 404 (also for another workspace's key, so ids cannot be probed). */
async function workspaceFor(p: Principal | null, services: Services, id: string): Promise<Workspace> {
  if (!p || (p.kind === 'workspace' && p.workspaceId !== id)) throw notFound(`workspace ${id}`);
  const workspace = await services.store.getWorkspace(id);
  if (!workspace) throw notFound(`workspace ${id}`);
  return workspace;
}
