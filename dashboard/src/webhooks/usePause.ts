import { useState } from 'react';
import type { Webhook } from '../api/types';
import { useWorkspace } from '../workspaces/context';
import { useNotify } from '../ui/Toasts';
import { message } from '../ui/errors';

/**
 * "Pause" and "Resume" for a webhook (CONTRACT §7): a paused webhook keeps queueing its
 * deliveries without sending them; resuming sends what was queued, in order.
 */
export function usePause() {
  const { api, workspace, reloadWebhooks, touch } = useWorkspace();
  const notify = useNotify();
  const [busy, setBusy] = useState<string | null>(null);

  async function toggle(w: Webhook): Promise<void> {
    setBusy(w.id);
    try {
      await api.updateWebhook(workspace.id, w.id, { paused: !w.paused });
      notify(w.paused ? 'Resumed: the queued events are being sent.' : 'Paused: new events are kept and sent when you resume.', 'info');
      await reloadWebhooks();
      touch();
    } catch (err) {
      notify(`Could not ${w.paused ? 'resume' : 'pause'} the webhook: ${message(err)}`, 'error');
    } finally {
      setBusy(null);
    }
  }

  return { toggle, busy };
}
