// Opening the portal (CONTRACT section 6): the link's token is after # (never sent to a
// server); it is taken out of the address at once and exchanged, once, for a session
// credential that this page keeps in memory. Framed on another site the page has no Web
// Storage, so after a reload the session comes back from Herald's partitioned cookie
// (/portal/resume) or, where the browser keeps no such cookie, the page asks for a new link.
// The address keeps the session's id (?session=ps_…, not a secret: the cookie is), so that a
// reload takes back this page's session even when the browser holds others (another tab).
import type { PortalOpened } from '../../../src/client/index.js';

export type { PortalOpened };

/** Why the page cannot open: what the API's problem type says, in words a business owner follows. */
export class PortalClosed extends Error {}

const REASONS: Record<string, string> = {
  'portal-link-used': 'This link has already been used. For your security, each link opens this page only once.',
  'portal-link-expired': 'This link has expired.',
  'portal-link-revoked': 'This link has been turned off.',
  'portal-link-unknown': 'This link is not valid.',
  'portal-session-expired': 'Your session has ended: it was open for as long as it was allowed to be.',
  'portal-session-revoked': 'Your session has been turned off.',
  'portal-session-unknown': 'This page needs to be opened from your dashboard.',
};

export const REOPEN_HINT = 'Go back to your dashboard and open the Webhooks page again: it will give you a new link.';

/** The token from the address (then removed from it, and from the history), or null. */
export function takeToken(): string | null {
  const token = location.hash.slice(1);
  if (!token) return null;
  history.replaceState(history.state, '', location.pathname + location.search);
  return token;
}

/** Names the session in the address (replacing the entry), so that a reload resumes this one. */
function rememberSession(id: string): void {
  const url = new URL(location.href);
  url.searchParams.set('session', id);
  history.replaceState(history.state, '', url.pathname + url.search);
}

/** Exchanges the link's token (once), or takes the session back from the cookie after a reload. */
export async function openPortal(token: string | null): Promise<PortalOpened> {
  const init: RequestInit = { method: 'POST', cache: 'no-store', headers: { accept: 'application/json' } };
  const session = new URLSearchParams(location.search).get('session');
  const body = token ? { token } : session ? { session } : null;
  if (body) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  }
  let res: Response;
  try {
    res = await fetch(token ? '/api/v1/portal/exchange' : '/api/v1/portal/resume', init);
  } catch {
    throw new Error('The Webhooks page could not be reached. Check your connection and try again.');
  }
  const answer = await res.json().catch(() => null);
  if (res.ok) {
    rememberSession((answer as PortalOpened).session_id);
    return answer as PortalOpened;
  }
  const type = String(answer?.type ?? '').replace('urn:herald:problem:', '');
  throw new PortalClosed(REASONS[type] ?? (res.status === 401 ? REASONS['portal-session-unknown']! : String(answer?.detail ?? `HTTP ${res.status}`)));
}

/** What the page says when the API stops accepting the session while it is open. */
export const SESSION_ENDED = 'Your session has ended (it expired or was turned off).';
