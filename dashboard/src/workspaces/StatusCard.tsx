import { useState } from 'react';
import type { Workspace } from '../api/types';
import { useWorkspace } from './context';
import { Switch } from '../ui/Switch';
import { message } from '../ui/errors';
import { useNotify } from '../ui/Toasts';
import { findOffBacklog, type OffBacklog } from './offBacklog';

interface Props {
  workspace: Workspace;
  onChange: (w: Workspace) => void;
}

/** The workspace's "Status": webhooks_enabled. While it is off, nothing is sent. */
export function StatusCard({ workspace, onChange }: Props) {
  const { api, webhooks, readOnly, touch } = useWorkspace();
  const notify = useNotify();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [backlog, setBacklog] = useState<OffBacklog | null>(null);
  const on = workspace.webhooks_enabled;

  async function toggle(next: boolean) {
    setBusy(true);
    setError(null);
    setBacklog(null);
    try {
      const updated = await api.updateWorkspace(workspace.id, { webhooks_enabled: next });
      onChange(updated);
      // Switched on: offer to send what arrived while it was off (bulk replay).
      if (next) setBacklog(await findOffBacklog(api, workspace.id, webhooks, updated.updated_at));
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  async function sendBacklog(b: OffBacklog) {
    setBusy(true);
    setError(null);
    try {
      const { events, deliveries } = await api.replayEvents(workspace.id, b.since, b.until);
      setBacklog(null);
      notify(`${events} ${events === 1 ? 'event' : 'events'} sent again: ${deliveries} ${deliveries === 1 ? 'delivery' : 'deliveries'} queued.`);
      touch();
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className={`status-card ${on ? 'is-on' : 'is-off'}`} aria-labelledby="status-label">
      <div className="status-main">
        <div className="status-switch">
          <span id="status-label" className="status-label">
            Status
          </span>
          {readOnly ? (
            <span className={`badge ${on ? 'badge-green' : 'badge-gray'}`}>{on ? 'On' : 'Off'}</span>
          ) : (
            <Switch id="status-switch" checked={on} onChange={toggle} disabled={busy} labelledBy="status-label" describedBy="status-text" />
          )}
        </div>
        <div id="status-text" className="status-text">
          {on ? (
            <>
              <strong>Webhooks are being sent.</strong>{' '}
              <span className="status-more">
                Each request must be answered within 10 seconds; a request that fails is retried up to 5 times, with a longer wait each time.
              </span>
            </>
          ) : (
            <>
              <strong>Webhooks are off: nothing is being sent.</strong>{' '}
              <span className="status-more">Events that arrive now are kept but not delivered.{readOnly ? '' : ' Switch Status on to start sending.'}</span>
            </>
          )}
        </div>
      </div>
      {backlog && on && !readOnly && (
        <p className="status-backlog" role="status">
          {backlog.more ? 'More than ' : ''}
          {backlog.count} {backlog.count === 1 ? 'event' : 'events'} arrived while webhooks were off —{' '}
          <button type="button" className="btn btn-small btn-primary" disabled={busy} onClick={() => sendBacklog(backlog)}>
            Send them now
          </button>
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
