import { useState } from 'react';
import type { DeliveryDetail } from '../api/types';
import { topicLabel, useWorkspace } from '../workspaces/context';
import { Dialog } from '../ui/Dialog';
import { StatusBadge, isRetrying, lastResult, waitingReason } from './StatusBadge';
import { RequestBody } from './RequestBody';
import { AttemptView } from './AttemptView';
import { dateTime, timeAgo } from '../ui/format';
import { message } from '../ui/errors';
import { useNotify } from '../ui/Toasts';
import { usePolling } from '../ui/usePolling';

interface Props {
  deliveryId: string;
  onClose: () => void;
}

/** One delivery: what was sent, each attempt, and "Retry". */
export function DeliveryDialog({ deliveryId, onClose }: Props) {
  const { api, workspace, topics, webhooks, touch, readOnly } = useWorkspace();
  const notify = useNotify();
  const [delivery, setDelivery] = useState<DeliveryDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [waitFor, setWaitFor] = useState<number | null>(null);
  const [tick, setTick] = useState(0);
  const [retrying, setRetrying] = useState(false);

  // Follow the delivery while Herald is still working on it.
  const busy = waitFor !== null || delivery?.status === 'pending';
  usePolling(
    (live) =>
      api.getDelivery(workspace.id, deliveryId).then(
        (d) => {
          if (!live()) return;
          setDelivery(d);
          if (waitFor !== null && d.attempts.length >= waitFor) setWaitFor(null);
        },
        (err) => live() && setError(message(err)),
      ),
    busy ? 1000 : null,
    [api, workspace.id, deliveryId, tick],
  );

  async function retry() {
    if (!delivery) return;
    setRetrying(true);
    try {
      await api.retryDelivery(workspace.id, delivery.id);
      setWaitFor(delivery.attempts.length + 1);
      notify('Sending it again…', 'info');
      touch();
      setTick((t) => t + 1);
    } catch (err) {
      setError(message(err));
    } finally {
      setRetrying(false);
    }
  }

  const attempts = delivery ? [...delivery.attempts].reverse() : [];
  // As the log lists it: the number of attempts, for the status words shared with the log.
  const summary = delivery ? { ...delivery, attempts: delivery.attempts.length } : null;
  const waiting = summary && waitingReason(summary, webhooks.find((w) => w.id === summary.webhook_id));
  return (
    <Dialog
      title="Delivery"
      subtitle={<code>{deliveryId}</code>}
      onClose={onClose}
      size="large"
      actions={
        readOnly ? undefined : (
          <button type="button" className="btn btn-primary" onClick={retry} disabled={!delivery || retrying || waitFor !== null}>
            {waitFor !== null ? 'Sending…' : 'Retry'}
          </button>
        )
      }
    >
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {!delivery && !error && <p role="status">Loading…</p>}
      {delivery && summary && (
        <>
          <dl className="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <StatusBadge delivery={summary} />
                {waiting ? <div className="sub">{waiting}</div> : isRetrying(summary) && <div className="sub">{lastResult(summary)}</div>}
              </dd>
            </div>
            <div>
              <dt>Event</dt>
              <dd>
                {topicLabel(topics, delivery.topic)} <code className="sub">{delivery.event_id}</code>
              </dd>
            </div>
            <div>
              <dt>Webhook Uri</dt>
              <dd className="mono break">{delivery.url}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd title={dateTime(delivery.created_at)}>{timeAgo(delivery.created_at)}</dd>
            </div>
          </dl>

          <h3 className="block-title">Attempts ({delivery.attempts.length})</h3>
          <div aria-live="polite">
            {attempts.length === 0 && <p className="muted">No attempt yet: it is waiting for its turn.</p>}
            {attempts.map((a, i) => (
              <AttemptView key={a.number} attempt={a} open={i === 0} />
            ))}
          </div>

          <RequestBody body={delivery.request_body} />
        </>
      )}
    </Dialog>
  );
}
