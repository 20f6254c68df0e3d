import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Api } from '../api/client';
import type { Topic, Webhook, Workspace } from '../api/types';
import { WorkspaceContext, type WorkspaceState } from './context';
import { StatusCard } from './StatusCard';
import { Tabs } from '../ui/Tabs';
import { WebhooksTab } from '../webhooks/WebhooksTab';
import { DeliveryLog } from '../deliveries/DeliveryLog';
import { HealthTab } from '../health/HealthTab';
import { message } from '../ui/errors';
import { usePolling } from '../ui/usePolling';
import { useUrlTab } from '../ui/useUrlTab';

interface Props {
  api: Api;
  workspaceId: string;
  /** A view-only portal session: nothing that changes anything is offered. */
  readOnly?: boolean;
}

const TABS = [
  { id: 'webhooks', label: 'Send Webhooks' },
  { id: 'log', label: 'Delivery Log' },
  { id: 'health', label: 'Health' },
];
const TAB_IDS = TABS.map((t) => t.id);

/** The Webhooks page of one workspace: the status switch, then the tabs. */
export function WorkspacePage({ api, workspaceId, readOnly = false }: Props) {
  const [workspace, setWorkspace] = useState<Workspace | null>(null);
  const [topics, setTopics] = useState<Topic[]>([]);
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useUrlTab(TAB_IDS, 'webhooks');
  const [logWebhook, setLogWebhook] = useState('');
  const [activity, setActivity] = useState(0);

  const reloadWebhooks = useCallback(async () => {
    const next = await api.listWebhooks(workspaceId);
    // Same list, same object: nothing below re-renders or re-fetches for nothing.
    setWebhooks((old) => (old && JSON.stringify(old) === JSON.stringify(next) ? old : next));
  }, [api, workspaceId]);

  // Webhooks may also be changed through the API or in another tab: follow them, once loaded.
  usePolling(
    async () => {
      if (webhooks) await reloadWebhooks();
    },
    webhooks ? 10_000 : null,
    [tab, reloadWebhooks, webhooks === null],
  );

  useEffect(() => {
    Promise.all([api.getWorkspace(workspaceId), api.topics(), api.listWebhooks(workspaceId)]).then(
      ([w, t, h]) => {
        setWorkspace(w);
        setTopics(t);
        setWebhooks(h);
      },
      (err) => setError(message(err)),
    );
  }, [api, workspaceId]);

  const touch = useCallback(() => setActivity((n) => n + 1), []);
  const ctx = useMemo<WorkspaceState | null>(
    () => (workspace && webhooks ? { api, workspace, topics, webhooks, reloadWebhooks, activity, touch, readOnly } : null),
    [api, workspace, topics, webhooks, reloadWebhooks, activity, touch, readOnly],
  );

  if (error) {
    return (
      <div className="page">
        <h1>Webhooks</h1>
        <p className="field-error" role="alert">
          This workspace could not be loaded: {error}
        </p>
      </div>
    );
  }
  if (!ctx) {
    return (
      <div className="page" role="status">
        Loading…
      </div>
    );
  }

  function openLog(webhookId: string) {
    setLogWebhook(webhookId);
    setTab('log');
  }

  return (
    <WorkspaceContext.Provider value={ctx}>
      <div className="page">
        <div className="page-head">
          <div>
            <p className="eyebrow">{ctx.workspace.name}</p>
            <h1>Webhooks</h1>
            <p className="muted">Send your events to your own server as they happen: pick an event, give its Webhook Uri, and Herald delivers it.</p>
          </div>
        </div>
        <StatusCard workspace={ctx.workspace} onChange={setWorkspace} />
        <Tabs tabs={TABS} selected={tab} onSelect={setTab} label="Webhooks sections">
          {tab === 'webhooks' && <WebhooksTab onOpenLog={openLog} />}
          {tab === 'log' && <DeliveryLog webhookId={logWebhook} onWebhookChange={setLogWebhook} />}
          {tab === 'health' && <HealthTab onOpenLog={openLog} />}
        </Tabs>
      </div>
    </WorkspaceContext.Provider>
  );
}
