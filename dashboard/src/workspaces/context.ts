import { createContext, useContext } from 'react';
import type { Api } from '../api/client';
import type { Topic, Webhook, Workspace } from '../api/types';
// The server's own body building (pure, no imports), bundled here as it is.
import { receiverPayload } from '../../../src/domain/payload.js';

export interface WorkspaceState {
  api: Api;
  workspace: Workspace;
  topics: Topic[];
  webhooks: Webhook[];
  reloadWebhooks: () => Promise<void>;
  /** Bumped whenever something may have queued deliveries (a test, a retry), so views refresh. */
  activity: number;
  touch: () => void;
  /** A view-only portal session: the page offers nothing that changes anything (CONTRACT section 6). */
  readOnly: boolean;
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

/** The body that a receiver gets for `data`, built by the server's own rule (business_name, business_uri added). */
export function receiverBody(workspace: Workspace, data: Record<string, unknown>): Record<string, unknown> {
  return receiverPayload(workspace, data).payload;
}

/** The body that a receiver would get for the topic's sample. */
export function sampleBody(topic: Topic | undefined, workspace: Workspace): Record<string, unknown> {
  return receiverBody(workspace, topic?.sample ?? {});
}

export function webhookName(topics: Topic[], w: Webhook): string {
  return `${topicLabel(topics, w.topic)} → ${w.url}`;
}
