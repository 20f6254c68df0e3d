// The shapes of Herald's public API (CONTRACT.md, sections 2 and 3).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export type Me = { kind: 'admin' } | { kind: 'workspace'; workspace_id: string };

export interface Workspace {
  id: string;
  name: string;
  uri: string | null;
  webhooks_enabled: boolean;
  created_at: string;
  updated_at: string;
}

export interface Topic {
  name: string;
  label: string;
  description: string;
  sample: JsonObject;
}

export interface Webhook {
  id: string;
  workspace_id: string;
  topic: string;
  url: string;
  prefix: string;
  filter: JsonObject | null;
  headers: Record<string, string>;
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** What the create and update calls take. */
export interface WebhookInput {
  topic?: string;
  url?: string;
  secret?: string;
  prefix?: string;
  filter?: JsonObject | null;
  headers?: Record<string, string>;
  description?: string | null;
  enabled?: boolean;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface Delivery {
  id: string;
  event_id: string;
  webhook_id: string;
  topic: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface Attempt {
  number: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  request_headers: Record<string, string>;
}

export interface DeliveryDetail extends Omit<Delivery, 'attempts'> {
  attempts: Attempt[];
}

export interface EventRecord {
  id: string;
  workspace_id: string;
  topic: string;
  data: JsonObject;
  created_at: string;
  deliveries: number | Delivery[];
}

export interface FieldError {
  path: string;
  message: string;
}
