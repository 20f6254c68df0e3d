import { useState } from 'react';
import type { Delivery, Webhook } from '../api/types';
import { topicLabel, useWorkspace } from '../workspaces/context';
import { WebhookDialog } from './WebhookDialog';
import { StatusBadge, lastResult } from '../deliveries/StatusBadge';
import { describeFilter } from '../filters/filterModel';
import { timeAgo } from '../ui/format';
import { useSendTest } from './useSendTest';
import { usePolling } from '../ui/usePolling';
import { usePause } from './usePause';

interface Props {
  onOpenLog: (webhookId: string) => void;
}

/** "Send Webhooks": the workspace's webhooks; "Create" and a click on a row open the popup. */
export function WebhooksTab({ onOpenLog }: Props) {
  const { api, workspace, topics, webhooks, activity, readOnly } = useWorkspace();
  const [dialog, setDialog] = useState<{ webhook?: Webhook } | null>(null);
  const [last, setLast] = useState<Record<string, Delivery | null>>({});
  const { sendTest, busy } = useSendTest();
  const pause = usePause();

  usePolling(
    async (live) => {
      const entries = await Promise.all(
        webhooks.map(async (w) => {
          try {
            const page = await api.listDeliveries(workspace.id, { webhook_id: w.id, limit: 1 });
            return [w.id, page.data[0] ?? null] as const;
          } catch {
            return [w.id, null] as const;
          }
        }),
      );
      if (live()) setLast(Object.fromEntries(entries));
    },
    5000,
    [api, workspace.id, webhooks, activity],
  );

  return (
    <section aria-labelledby="webhooks-title">
      <div className="section-head">
        <div>
          <h2 id="webhooks-title">Send Webhooks</h2>
          <p className="muted">
            {readOnly ? 'Each webhook sends one event to one Webhook Uri.' : 'Each webhook sends one event to one Webhook Uri. Click a webhook to change or delete it.'}
          </p>
        </div>
        {!readOnly && (
          <button type="button" className="btn btn-primary" onClick={() => setDialog({})}>
            <span aria-hidden="true">+ </span>Create
          </button>
        )}
      </div>

      {webhooks.length === 0 ? (
        <div className="empty-state">
          <p className="empty-title">No webhooks yet</p>
          {!readOnly && <p className="muted">Click “Create” to send an event, such as Wallet Coins Rewarded, to your server.</p>}
        </div>
      ) : (
        <div className="table-wrap">
          <table className={`table table-stack${readOnly ? '' : ' table-click'}`} aria-label="Webhooks">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Webhook Uri</th>
                <th scope="col">Prefix</th>
                <th scope="col">Filters</th>
                <th scope="col">Enabled</th>
                <th scope="col">Last delivery</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {webhooks.map((w) => {
                const d = last[w.id];
                const filterText = describeFilter(w.filter);
                return (
                  <tr key={w.id} onClick={readOnly ? undefined : () => setDialog({ webhook: w })}>
                    <td data-label="Event">
                      {readOnly ? (
                        <strong>{topicLabel(topics, w.topic)}</strong>
                      ) : (
                        <button type="button" className="row-link" onClick={(e) => (e.stopPropagation(), setDialog({ webhook: w }))}>
                          {topicLabel(topics, w.topic)}
                        </button>
                      )}
                      <div className="sub mono">{w.topic}</div>
                    </td>
                    <td className="mono cell-url" data-label="Webhook Uri">{w.url}</td>
                    <td className="mono" data-label="Prefix">{w.prefix || <span className="muted">—</span>}</td>
                    <td className="cell-filter" title={filterText} data-label="Filters">
                      {filterText ? <code>{filterText}</code> : <span className="muted">All events</span>}
                    </td>
                    <td data-label="Enabled">
                      <EnabledBadge webhook={w} />
                    </td>
                    <td data-label="Last delivery">
                      {d === undefined ? (
                        <span className="muted">…</span>
                      ) : d === null ? (
                        <span className="muted">None yet</span>
                      ) : (
                        <div className="last">
                          <StatusBadge delivery={d} />
                          <span className="sub">
                            {lastResult(d)} · {timeAgo(d.updated_at)}
                          </span>
                        </div>
                      )}
                    </td>
                    <td className="cell-actions" onClick={(e) => e.stopPropagation()}>
                      {!readOnly && (
                        <button type="button" className="btn btn-small" disabled={busy === w.id} onClick={() => sendTest(w.id)}>
                          Send test
                        </button>
                      )}
                      {!readOnly && (
                        <button type="button" className="btn btn-small" disabled={pause.busy === w.id} onClick={() => pause.toggle(w)}>
                          {w.paused ? 'Resume' : 'Pause'}
                        </button>
                      )}
                      <button type="button" className="btn btn-small btn-ghost" onClick={() => onOpenLog(w.id)}>
                        Deliveries
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {dialog && !readOnly && <WebhookDialog webhook={dialog.webhook} onClose={() => setDialog(null)} />}
    </section>
  );
}

/** Enabled, switched off (by hand or by auto-disable), or paused: queued but not sent until resumed. */
function EnabledBadge({ webhook: w }: { webhook: Webhook }) {
  if (!w.enabled) return <span className="badge badge-gray">Disabled</span>;
  if (w.paused) return <span className="badge badge-amber" title="Events are queued and sent when it is resumed">Paused</span>;
  return <span className="badge badge-green">Enabled</span>;
}
