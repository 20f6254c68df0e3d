import { useEffect, useState } from 'react';
import { Api, ApiError } from './api/client';
import { session } from './api/session';
import type { Me } from './api/types';
import { SignIn } from './SignIn';
import { WorkspacePicker } from './workspaces/WorkspacePicker';
import { WorkspacePage } from './workspaces/WorkspacePage';
import { TopBar } from './TopBar';
import { Toasts } from './ui/Toasts';

interface Session {
  api: Api;
  me: Me;
}

/** Sign-in, then (for the admin key) a workspace picker, then the Webhooks page of one workspace. */
export function App() {
  const [state, setState] = useState<Session | null>(null);
  const [checking, setChecking] = useState(() => session.key() !== null);
  const [workspaceId, setWorkspaceId] = useState<string | null>(() => session.workspace());
  const [expired, setExpired] = useState<string | null>(null);

  /** Called when the API answers 401 to a key that worked: back to the sign-in page. */
  function expire() {
    session.signOut();
    setState(null);
    setWorkspaceId(null);
    setExpired('That API key no longer works. Sign in again.');
  }

  // A key from earlier in this tab: check that it still works.
  useEffect(() => {
    const key = session.key();
    if (!key) return;
    const api = new Api(key, expire);
    api.me().then(
      (me) => {
        setState({ api, me });
        if (me.kind === 'workspace') setWorkspaceId(me.workspace_id);
        setChecking(false);
      },
      (err) => {
        if (err instanceof ApiError && err.status === 401) {
          session.signOut();
          setExpired('That API key no longer works. Sign in again.');
        } else {
          setExpired(err instanceof Error ? err.message : String(err));
        }
        setChecking(false);
      },
    );
  }, []);

  function signedIn(me: Me, key: string) {
    const api = new Api(key, expire);
    session.signIn(key);
    const ws = me.kind === 'workspace' ? me.workspace_id : null;
    session.setWorkspace(ws);
    setWorkspaceId(ws);
    setExpired(null);
    setState({ api, me });
  }

  function signOut() {
    session.signOut();
    setState(null);
    setWorkspaceId(null);
  }

  function choose(id: string | null) {
    session.setWorkspace(id);
    setWorkspaceId(id);
  }

  if (checking) {
    return (
      <div className="center-screen" role="status">
        Loading…
      </div>
    );
  }

  if (!state) return <SignIn notice={expired} onSignedIn={signedIn} />;

  return (
    <Toasts>
      <div className="app">
        <TopBar
          isAdmin={state.me.kind === 'admin'}
          onSwitchWorkspace={state.me.kind === 'admin' && workspaceId ? () => choose(null) : undefined}
          onSignOut={signOut}
        />
        <main className="main" id="main">
          {workspaceId ? (
            <WorkspacePage key={workspaceId} api={state.api} workspaceId={workspaceId} />
          ) : (
            <WorkspacePicker api={state.api} onChoose={choose} />
          )}
        </main>
      </div>
    </Toasts>
  );
}
