import { useEffect, useRef, useState } from 'react';
import { Api } from '../api/client';
import { WorkspacePage } from '../workspaces/WorkspacePage';
import { Toasts } from '../ui/Toasts';
import { openPortal, PortalClosed, REOPEN_HINT, SESSION_ENDED, takeToken, type PortalOpened } from './link';
import { applyTheme, reportHeight } from './theme';
import './portal.css';

type State = { kind: 'opening' } | { kind: 'open'; api: Api; session: PortalOpened } | { kind: 'closed'; reason: string };

/**
 * /portal: one workspace's Webhooks page, opened by a link from the platform (CONTRACT
 * section 6), themed, without Herald's sign-in, sign-out or workspace picker. A `view`
 * session gets the page without anything that changes it.
 */
export function Portal() {
  const [state, setState] = useState<State>({ kind: 'opening' });
  const started = useRef(false);

  useEffect(() => reportHeight(), []);

  useEffect(() => {
    // Once per page: the token is taken out of the address before anything else.
    if (started.current) return;
    started.current = true;
    openPortal(takeToken()).then(
      (session) => {
        applyTheme(session.theme);
        const api = new Api(session.credential, () => setState({ kind: 'closed', reason: SESSION_ENDED }));
        setState({ kind: 'open', api, session });
      },
      (err) => setState({ kind: 'closed', reason: err instanceof PortalClosed || err instanceof Error ? err.message : String(err) }),
    );
  }, []);

  if (state.kind === 'opening') {
    return (
      <div className="portal-message" role="status">
        Opening your webhooks…
      </div>
    );
  }
  if (state.kind === 'closed') {
    return (
      <main className="portal-message">
        <div className="portal-card" role="alert">
          <h1>This page cannot be opened</h1>
          <p>{state.reason}</p>
          <p className="muted">{REOPEN_HINT}</p>
        </div>
      </main>
    );
  }
  const { theme, access, workspace_id } = state.session;
  return (
    <Toasts>
      <div className="portal-app">
        {(theme.name || theme.logo_url || access === 'view') && (
          <header className="portal-head">
            {theme.logo_url && <img className="portal-logo" src={theme.logo_url} alt="" />}
            {theme.name && <span className="portal-name">{theme.name}</span>}
            {access === 'view' && <span className="portal-badge">View only</span>}
          </header>
        )}
        <main className="portal-main" id="main">
          <WorkspacePage api={state.api} workspaceId={workspace_id} readOnly={access === 'view'} />
        </main>
      </div>
    </Toasts>
  );
}
