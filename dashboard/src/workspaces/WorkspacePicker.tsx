import { useEffect, useState, type FormEvent } from 'react';
import { Api, ApiError } from '../api/client';
import type { Workspace } from '../api/types';
import { TextField } from '../ui/Field';
import { fieldErrors } from '../ui/errors';
import { timeAgo } from '../ui/format';

interface Props {
  api: Api;
  onChoose: (id: string) => void;
}

/** The admin key's first view: every workspace, and a form to create one. */
export function WorkspacePicker({ api, onChoose }: Props) {
  const [list, setList] = useState<Workspace[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  async function load(from: string | null) {
    try {
      const page = await api.listWorkspaces(from);
      setList((old) => (from && old ? [...old, ...page.data] : page.data));
      setCursor(page.next_cursor);
    } catch (err) {
      setLoadError(err instanceof Error ? err.message : String(err));
    }
  }

  useEffect(() => {
    load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Workspaces</h1>
          <p className="muted">A workspace is one business: its webhooks, events and deliveries. Choose one to manage its webhooks.</p>
        </div>
      </div>
      <div className="picker">
        <section className="card" aria-labelledby="ws-list-title">
          <h2 id="ws-list-title" className="card-title">
            Choose a workspace
          </h2>
          {loadError && <p className="field-error">{loadError}</p>}
          {list === null && !loadError && <p className="muted">Loading…</p>}
          {list?.length === 0 && <p className="empty">No workspaces yet. Create the first one.</p>}
          {list && list.length > 0 && (
            <ul className="ws-list">
              {list.map((w) => (
                <li key={w.id}>
                  <button type="button" className="ws-item" onClick={() => onChoose(w.id)}>
                    <span className="ws-name">{w.name}</span>
                    <span className="ws-meta">
                      <code>{w.id}</code> · created {timeAgo(w.created_at)}
                    </span>
                    <span className={`badge ${w.webhooks_enabled ? 'badge-green' : 'badge-gray'}`}>
                      {w.webhooks_enabled ? 'Sending' : 'Off'}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
          {cursor && (
            <button type="button" className="btn" onClick={() => load(cursor)}>
              Show more
            </button>
          )}
        </section>
        <CreateWorkspace api={api} onCreated={(w) => onChoose(w.id)} />
      </div>
    </div>
  );
}

function CreateWorkspace({ api, onCreated }: { api: Api; onCreated: (w: Workspace) => void }) {
  const [name, setName] = useState('');
  const [uri, setUri] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      onCreated(await api.createWorkspace({ name: name.trim(), ...(uri.trim() ? { uri: uri.trim() } : {}) }));
    } catch (err) {
      setBusy(false);
      setErrors(err instanceof ApiError ? fieldErrors(err, { labels: { name: 'Business name', uri: 'Business URL' } }) : { _: String(err) });
    }
  }

  return (
    <section className="card" aria-labelledby="ws-create-title">
      <h2 id="ws-create-title" className="card-title">
        Create a workspace
      </h2>
      <form onSubmit={submit} noValidate>
        <TextField label="Business name" value={name} onChange={setName} error={errors.name} hint="Sent to receivers as business_name." />
        <TextField
          label="Business URL"
          optional
          value={uri}
          onChange={setUri}
          error={errors.uri}
          placeholder="https://shop.example.com"
          hint="Sent to receivers as business_uri."
        />
        {errors._ && <p className="field-error" role="alert">{errors._}</p>}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Create workspace
        </button>
      </form>
    </section>
  );
}
