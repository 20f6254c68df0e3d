// The records Herald keeps, as the Store gives them back and the domain reasons about them.
// Times are Unix milliseconds; JSON columns come back parsed.
import type { Ordering } from './ordering.js';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface Workspace {
  id: string;
  name: string;
  uri: string | null;
  webhooksEnabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ApiKey {
  id: string;
  workspaceId: string;
  name: string | null;
  createdAt: number;
}

/** How a business's page looks inside the platform's dashboard (CONTRACT section 6). */
export interface PortalTheme {
  name?: string;
  primaryColor?: string;
  logoUrl?: string;
  dark?: boolean;
}

/** A portal session: a link that opens one workspace's page once, and what opening it signed in. */
export interface PortalSession {
  id: string;
  workspaceId: string;
  access: 'manage' | 'view';
  theme: PortalTheme;
  expiresAt: number;
  createdAt: number;
  /** When its link was opened (it opens once), or null. */
  usedAt: number | null;
  revokedAt: number | null;
}

export interface TopicRecord {
  name: string;
  label: string;
  description: string;
  sample: Record<string, unknown>;
  /** A JSON Schema (draft 2020-12) that every event's `data` must satisfy, or null (none). */
  schema?: Record<string, unknown> | null;
  /** Moves on whenever `schema` changes: compiled validators are cached per topic and version. */
  schemaVersion?: number;
}

export interface Webhook {
  id: string;
  workspaceId: string;
  topic: string;
  url: string;
  /** As stored: encrypted when an encryption key is configured. */
  secret: string;
  prefix: string;
  filter: Record<string, unknown> | null;
  headers: Record<string, string>;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  /** Requests per second at most, or null for no limit. */
  rateLimit: number | null;
  /** Earlier secrets that still sign during a rotation (stored like `secret`). */
  previousSecrets: PreviousSecret[];
  /** "hmac" signs v1 only; "ed25519" adds a v1a signature (contract section 8). */
  signing: SigningKind;
  /** An ed25519 webhook's whsk_ private key, stored like `secret`; null for hmac. */
  signingKey: string | null;
  /** The whpk_ public key of `signingKey` (not secret); null for hmac. */
  publicKey: string | null;
  /** Earlier private keys that still sign during a rotation (stored like `signingKey`). */
  previousSigningKeys: PreviousSigningKey[];
  /** 'fifo': one delivery at a time, in publish order (src/domain/ordering.ts). */
  ordering: Ordering;
  /** Deliveries are queued but not sent until it is resumed. */
  paused: boolean;
  createdAt: number;
  updatedAt: number;
}

export type SigningKind = 'hmac' | 'ed25519';

export interface PreviousSecret {
  secret: string;
  expiresAt: number;
}

export interface PreviousSigningKey {
  privateKey: string;
  expiresAt: number;
}

export type WebhookPatch = Partial<
  Pick<
    Webhook,
    'topic' | 'url' | 'secret' | 'prefix' | 'filter' | 'headers' | 'description' | 'enabled' | 'disabledReason' | 'rateLimit' | 'previousSecrets'
    | 'signing' | 'signingKey' | 'publicKey' | 'previousSigningKeys'
    | 'ordering' | 'paused'
  >
>;

export interface EventRecord {
  id: string;
  workspaceId: string;
  topic: string;
  /** The exact bytes sent to receivers: data plus the business fields it lacked. */
  body: string;
  /** Which business fields Herald added to data (so data can be given back as published). */
  addedFields: string[];
  createdAt: number;
  deliveries: number;
  /** The W3C traceparent the event was published with (normalised), or null. */
  traceparent?: string | null;
}

export interface Delivery {
  id: string;
  eventId: string;
  webhookId: string;
  topic: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Attempt {
  number: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  requestHeaders: Record<string, string>;
}

// ---- publishing ------------------------------------------------------------------------

export interface PublishInput {
  id: string;
  /** Whether `id` came from the caller (a repeat then returns the first event). */
  clientId: boolean;
  idempotencyKey: string | null;
  topic: string;
  data: Record<string, unknown>;
  /** JSON.stringify(data), when the caller already made it (the size check): the body is built from it. */
  dataJson?: string;
  /** The publish request's W3C traceparent, normalised (src/domain/traceparent.ts), or null. */
  traceparent?: string | null;
}

export interface PublishBatch {
  workspaceId: string;
  inputs: PublishInput[];
}

export interface PublishOutcome {
  event: EventRecord;
  /** False when an earlier event with the same id or idempotency key was returned instead. */
  created: boolean;
}
