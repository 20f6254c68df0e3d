import { useState, type FormEvent } from 'react';
import { Api, ApiError } from './api/client';
import type { Me } from './api/types';
import { Logo } from './ui/Logo';

interface Props {
  notice: string | null;
  onSignedIn: (me: Me, key: string) => void;
}

export function SignIn({ notice, onSignedIn }: Props) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    setError(null);
    const api = new Api(trimmed);
    try {
      onSignedIn(await api.me(), trimmed);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 401) setError('That API key is not valid. Check it and try again.');
      else setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <div className="signin">
      <main className="signin-card">
        <div className="signin-brand">
          <Logo size={40} />
          <span>Herald</span>
        </div>
        <h1>Sign in to your webhooks</h1>
        <p className="muted">
          Use the admin key (printed when Herald first started, or set as <code>HERALD_ADMIN_KEY</code>) to manage every
          workspace, or a workspace key to open that workspace.
        </p>
        {notice && <p className="notice">{notice}</p>}
        <form method="post" onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor="api-key">API key</label>
            <input
              id="api-key"
              type="password"
              autoComplete="current-password"
              spellCheck={false}
              value={key}
              onChange={(e) => setKey(e.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? 'api-key-error' : 'api-key-hint'}
              autoFocus
            />
            {error ? (
              <p id="api-key-error" className="field-error" role="alert">
                {error}
              </p>
            ) : (
              <p id="api-key-hint" className="hint">
                The key stays in this browser tab and is forgotten when you close it.
              </p>
            )}
          </div>
          <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </main>
    </div>
  );
}
