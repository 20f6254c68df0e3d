import { createContext, useContext } from 'react';
import type { Api } from '../api/client';
import type { Topic, Webhook, Workspace } from '../api/types';

export interface WorkspaceState {
  api: Api;
  workspace: Workspace;
  topics: Topic[];
  webhooks: Webhook[];
  reloadWebhooks: () => Promise<void>;
  /** Bumped whenever something may have queued deliveries (a test, a retry), so views refresh. */
  activity: number;
  touch: () => void;
}

export const WorkspaceContext = createContext<WorkspaceState | null>(null);

export function useWorkspace(): WorkspaceState {
  const ctx = useContext(WorkspaceContext);
  if (!ctx) throw new Error('useWorkspace outside a workspace');
  return ctx;
}

/** The two topics that Nector's help article calls the most used: shown first, with when they are sent. */
export const MOST_USED = ['walletreward_create', 'coupon_create'];

export function topicLabel(topics: Topic[], name: string): string {
  return topics.find((t) => t.name === name)?.label ?? name;
}

/** The body that a receiver would get for the topic's sample: `data` plus the workspace's fields. */
export function sampleBody(topic: Topic | undefined, workspace: Workspace): Record<string, unknown> {
  const data: Record<string, unknown> = { ...(topic?.sample ?? {}) };
  if (!('business_name' in data)) data.business_name = workspace.name;
  if (!('business_uri' in data)) data.business_uri = workspace.uri;
  return data;
}

export function webhookName(topics: Topic[], w: Webhook): string {
  return `${topicLabel(topics, w.topic)} → ${w.url}`;
}
