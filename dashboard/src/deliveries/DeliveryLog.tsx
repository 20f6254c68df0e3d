import { useEffect, useState } from 'react';
import type { Delivery, DeliveryStatus } from '../api/types';
import { topicLabel, useWorkspace } from '../workspaces/context';
import { StatusBadge, lastResult, waitingReason } from './StatusBadge';
import { DeliveryDialog } from './DeliveryDialog';
import { WebhookTools } from '../webhooks/WebhookTools';
import { dateTime, shortUrl, timeAgo } from '../ui/format';
import { message } from '../ui/errors';
import { usePolling } from '../ui/usePolling';

interface Props {
  webhookId: string;
  onWebhookChange: (id: string) => void;
}

const PAGE = 25;

/** "Delivery Log": deliveries newest first, by webhook and status, page by page. */
export function DeliveryLog({ webhookId, onWebhookChange }: Props) {
  const { api, workspace, topics, webhooks, activity, readOnly } = useWorkspace();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ data: Delivery[]; next: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const cursor = cursors[cursors.length - 1] ?? null;
  const first = cursors.length === 1;

  useEffect(() => {
    setCursors([null]);
  }, [webhookId, status]);

  // A webhook deleted meanwhile can no longer be chosen: show all of them again.
  useEffect(() => {
    if (webhookId && !webhooks.some((w) => w.id === webhookId)) onWebhookChange('');
  }, [webhookId, webhooks, onWebhookChange]);

  // The first page follows new deliveries by itself.
  usePolling(
    (live) =>
      api.listDeliveries(workspace.id, { webhook_id: webhookId || undefined, status, limit: PAGE, cursor }).then(
        (p) => {
          if (!live()) return;
          setPage({ data: p.data, next: p.next_cursor });
          setError(null);
        },
        (err) => live() && setError(message(err)),
      ),
    first ? 3000 : null,
    [api, workspace.id, webhookId, status, cursor, tick, activity],
  );

  const webhookUrl = (id: string) => webhooks.find((w) => w.id === id)?.url;

  return (
    <section aria-labelledby="log-title">
      <div className="section-head">
        <div>
          <h2 id="log-title">Delivery Log</h2>
          <p className="muted">Every event sent to a webhook, newest first. Open one to see each attempt, and send it again.</p>
        </div>
        <button type="button" className="btn" onClick={() => setTick((t) => t + 1)}>
          Refresh
        </button>
      </div>

      <div className="toolbar">
        <div className="field field-inline">
          <label htmlFor="log-webhook">Webhook</label>
          <select id="log-webhook" value={webhookId} onChange={(e) => onWebhookChange(e.target.value)}>
            <option value="">All webhooks</option>
            {webhooks.map((w) => (
              <option key={w.id} value={w.id}>
                {topicLabel(topics, w.topic)} → {shortUrl(w.url)}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor="log-status">Status</label>
          <select id="log-status" value={status} onChange={(e) => setStatus(e.target.value as DeliveryStatus | '')}>
            <option value="">Any status</option>
            <option value="succeeded">Succeeded</option>
            <option value="failed">Failed</option>
            <option value="pending">Pending</option>
            <option value="cancelled">Cancelled</option>
          </select>
        </div>
      </div>

      {webhookId && !readOnly && <WebhookTools webhookId={webhookId} onOpenDelivery={setOpen} />}

      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {page && page.data.length === 0 && (
        <div className="empty-state">
          <p className="empty-title">No deliveries{status ? ` with status ${status}` : ''} yet</p>
          <p className="muted">
            {workspace.webhooks_enabled
              ? 'Deliveries appear here as soon as events of a webhook’s topic are published.'
              : 'Status is off, so nothing is being sent. Switch it on above.'}
          </p>
        </div>
      )}
      {page && page.data.length > 0 && (
        <div className="table-wrap">
          <table className="table table-click table-stack" aria-label="Deliveries">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Webhook Uri</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((d) => (
                <tr key={d.id} onClick={() => setOpen(d.id)}>
                  <td title={dateTime(d.created_at)} data-label="Time">
                    <button type="button" className="row-link" onClick={(e) => (e.stopPropagation(), setOpen(d.id))}>
                      {timeAgo(d.created_at)}
                    </button>
                    <div className="sub mono hide-sm">{d.id}</div>
                  </td>
                  <td data-label="Event">
                    {topicLabel(topics, d.topic)}
                    <div className="sub mono hide-sm">{d.event_id}</div>
                  </td>
                  <td className="mono cell-url hide-sm" data-label="Webhook Uri">{shortUrl(webhookUrl(d.webhook_id) ?? d.url)}</td>
                  <td data-label="Status">
                    <StatusBadge delivery={d} />
                  </td>
                  <td className="num hide-sm" data-label="Attempts">{d.attempts}</td>
                  <td className="cell-result" data-label="Result">
                    {waitingReason(d, webhooks.find((w) => w.id === d.webhook_id)) ?? lastResult(d)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {/* Only when there is another page to go to: an empty or single page needs no pager. */}
      {page && (!first || page.next) && (
        <nav className="pager" aria-label="Delivery pages">
          <button type="button" className="btn btn-small" disabled={first} onClick={() => setCursors((c) => c.slice(0, -1))}>
            ← Newer
          </button>
          <span className="muted">Page {cursors.length}</span>
          <button type="button" className="btn btn-small" disabled={!page?.next} onClick={() => page?.next && setCursors((c) => [...c, page.next])}>
            Older →
          </button>
        </nav>
      )}
      {open && <DeliveryDialog deliveryId={open} onClose={() => setOpen(null)} />}
    </section>
  );
}
