import { useId, useState, type FormEvent } from 'react';
import { topicLabel, useWorkspace } from '../workspaces/context';
import { useSendTest } from './useSendTest';
import { useNotify } from '../ui/Toasts';
import { message } from '../ui/errors';
import { localInputValue } from '../ui/format';

interface Props {
  webhookId: string;
  onOpenDelivery: (id: string) => void;
}

/** Per webhook: "Send test", and "Recover failed deliveries since …". */
export function WebhookTools({ webhookId, onOpenDelivery }: Props) {
  const { api, workspace, topics, webhooks, touch } = useWorkspace();
  const { sendTest, busy } = useSendTest();
  const notify = useNotify();
  const [since, setSince] = useState(() => localInputValue(Date.now() - 24 * 3600_000));
  const [recovering, setRecovering] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const sinceId = useId();
  const webhook = webhooks.find((w) => w.id === webhookId);
  if (!webhook) return null;

  async function recover(e: FormEvent) {
    e.preventDefault();
    const when = new Date(since);
    if (Number.isNaN(when.getTime())) {
      setResult('Choose a date and time.');
      return;
    }
    setRecovering(true);
    try {
      const { requeued } = await api.recover(workspace.id, webhookId, when.toISOString());
      const text = requeued === 0 ? 'No failed deliveries since then: nothing to send again.' : `${requeued} failed ${requeued === 1 ? 'delivery is' : 'deliveries are'} being sent again.`;
      setResult(text);
      notify(text, requeued === 0 ? 'info' : 'success');
      touch();
    } catch (err) {
      setResult(message(err));
    } finally {
      setRecovering(false);
    }
  }

  return (
    <div className="tools" aria-label={`Tools for ${topicLabel(topics, webhook.topic)} → ${webhook.url}`} role="group">
      <div className="tool">
        <p className="tool-title">Send a test</p>
        <p className="hint">One request now with the sample {topicLabel(topics, webhook.topic)} event. Not retried.</p>
        <button
          type="button"
          className="btn btn-small"
          disabled={busy === webhookId}
          onClick={async () => {
            const d = await sendTest(webhookId);
            if (d) onOpenDelivery(d.id);
          }}
        >
          Send test
        </button>
      </div>
      <form className="tool" onSubmit={recover}>
        <p className="tool-title">Recover failed deliveries</p>
        <div className="recover-row">
          <label htmlFor={sinceId}>Failed since</label>
          <input id={sinceId} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
          <button type="submit" className="btn btn-small" disabled={recovering}>
            Recover
          </button>
        </div>
        {result && (
          <p className="hint" role="status">
            {result}
          </p>
        )}
      </form>
    </div>
  );
}
