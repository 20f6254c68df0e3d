import { useState } from 'react';
import { useWorkspace } from '../workspaces/context';
import { useNotify } from '../ui/Toasts';
import { message } from '../ui/errors';
import { ms } from '../ui/format';
import type { DeliveryDetail } from '../api/types';

/** "Send test" for a webhook: one request now with the topic's sample, reported in a toast. */
export function useSendTest() {
  const { api, workspace, touch } = useWorkspace();
  const notify = useNotify();
  const [busy, setBusy] = useState<string | null>(null);

  async function sendTest(webhookId: string): Promise<DeliveryDetail | null> {
    setBusy(webhookId);
    try {
      const { delivery } = await api.sendTest(workspace.id, webhookId);
      const a = delivery.attempts[delivery.attempts.length - 1];
      if (delivery.status === 'succeeded') notify(`Test sent: ${a?.status_code ?? ''} in ${ms(a?.duration_ms)}`);
      else notify(`Test failed: ${a?.error ?? (a?.status_code ? `status ${a.status_code}` : delivery.status)}`, 'error');
      touch();
      return delivery;
    } catch (err) {
      notify(`Test could not be sent: ${message(err)}`, 'error');
      return null;
    } finally {
      setBusy(null);
    }
  }

  return { sendTest, busy };
}
