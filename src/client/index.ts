// A typed client of Herald's REST API, for the platform that publishes and for tooling.
// Its types are derived from the same JSON Schemas that the server's routes answer with.
import type { FromSchema } from 'json-schema-to-ts';
import type {
  acceptedEventSchema, attemptSchema, deliveryDetailSchema, deliverySchema, eventDetailSchema, eventSchema, keySchema, problemSchema,
  topicSchema, webhookSchema, workspaceSchema,
} from '../api/schemas.js';
import type { webhookCreateSchema, webhookPatchSchema } from '../api/routes/webhooks.js';

export type Workspace = FromSchema<typeof workspaceSchema>;
export type ApiKey = FromSchema<typeof keySchema>;
export type Topic = FromSchema<typeof topicSchema>;
export type Webhook = FromSchema<typeof webhookSchema>;
export type AcceptedEvent = FromSchema<typeof acceptedEventSchema>;
export type Event = FromSchema<typeof eventSchema>;
export type EventDetail = FromSchema<typeof eventDetailSchema>;
export type Delivery = FromSchema<typeof deliverySchema>;
export type DeliveryDetail = FromSchema<typeof deliveryDetailSchema>;
export type Attempt = FromSchema<typeof attemptSchema>;
export type Problem = FromSchema<typeof problemSchema>;

/** Who an API key belongs to (GET /api/v1/me). */
export type Me = { kind: 'admin' } | { kind: 'workspace'; workspace_id: string };

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

/** What creating a webhook takes: the route's own body schema. */
export type WebhookInput = FromSchema<typeof webhookCreateSchema>;
/** What updating a webhook takes: the same fields, none required. */
export type WebhookPatch = FromSchema<typeof webhookPatchSchema>;

export interface EventInput {
  topic: string;
  data: Record<string, unknown>;
  id?: string;
}

export class HeraldApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem ? `${status} ${problem.title}: ${problem.detail}` : `HTTP ${status}`);
    this.name = 'HeraldApiError';
  }
}

export interface ClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

export class HeraldClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '') + '/api/v1';
    this.doFetch = options.fetch ?? fetch;
  }

  /** Sends one call; answers the parsed JSON, or throws HeraldApiError with the problem. */
  async request<T>(method: string, path: string, body?: unknown, query?: Query, headers: Record<string, string> = {}): Promise<T> {
    const qs = query
      ? Object.entries(query)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join('&')
      : '';
    const res = await this.doFetch(this.base + path + (qs ? `?${qs}` : ''), {
      method,
      headers: {
        authorization: `Bearer ${this.options.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : null;
    if (!res.ok) throw new HeraldApiError(res.status, parsed);
    return parsed as T;
  }

  /** Every item of a list, page after page. */
  async *paginate<T>(page: (q: PageQuery) => Promise<Page<T>>, limit = 200): AsyncGenerator<T> {
    let cursor: string | undefined;
    do {
      const p = await page({ limit, cursor });
      yield* p.data;
      cursor = p.next_cursor ?? undefined;
    } while (cursor);
  }

  /** Who this client's API key belongs to: the admin, or which workspace. */
  me(): Promise<Me> {
    return this.request<Me>('GET', '/me');
  }

  readonly workspaces = {
    create: (body: { name: string; uri?: string | null; id?: string }) => this.request<Workspace>('POST', '/workspaces', body),
    list: (q: PageQuery = {}) => this.request<Page<Workspace>>('GET', '/workspaces', undefined, { ...q }),
    get: (ws: string) => this.request<Workspace>('GET', `/workspaces/${enc(ws)}`),
    update: (ws: string, body: { name?: string; uri?: string | null; webhooks_enabled?: boolean }) =>
      this.request<Workspace>('PATCH', `/workspaces/${enc(ws)}`, body),
    delete: (ws: string) => this.request<null>('DELETE', `/workspaces/${enc(ws)}`),
  };

  readonly keys = {
    create: (ws: string, body: { name?: string | null } = {}) => this.request<ApiKey & { key: string }>('POST', `/workspaces/${enc(ws)}/keys`, body),
    list: (ws: string, q: PageQuery = {}) => this.request<Page<ApiKey>>('GET', `/workspaces/${enc(ws)}/keys`, undefined, { ...q }),
    revoke: (ws: string, id: string) => this.request<null>('DELETE', `/workspaces/${enc(ws)}/keys/${enc(id)}`),
  };

  readonly topics = {
    list: () => this.request<Page<Topic>>('GET', '/topics'),
    put: (body: { name: string; label?: string; description?: string; sample?: Record<string, unknown> }) =>
      this.request<Topic>('POST', '/topics', body),
  };

  readonly webhooks = {
    create: (ws: string, body: WebhookInput) => this.request<Webhook>('POST', `/workspaces/${enc(ws)}/webhooks`, body),
    list: (ws: string, q: PageQuery & { topic?: string } = {}) => this.request<Page<Webhook>>('GET', `/workspaces/${enc(ws)}/webhooks`, undefined, { ...q }),
    get: (ws: string, id: string) => this.request<Webhook>('GET', `/workspaces/${enc(ws)}/webhooks/${enc(id)}`),
    secret: (ws: string, id: string) => this.request<{ secret: string }>('GET', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/secret`),
    rotateSecret: (ws: string, id: string, body: { secret?: string; grace_seconds?: number } = {}) =>
      this.request<{ secret: string; previous_secret_expires_at: string | null }>('POST', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/secret/rotate`, body),
    update: (ws: string, id: string, body: Partial<WebhookInput>) => this.request<Webhook>('PATCH', `/workspaces/${enc(ws)}/webhooks/${enc(id)}`, body),
    delete: (ws: string, id: string) => this.request<null>('DELETE', `/workspaces/${enc(ws)}/webhooks/${enc(id)}`),
    test: (ws: string, id: string, data?: Record<string, unknown>) =>
      this.request<{ delivery: DeliveryDetail }>('POST', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/test`, data ? { data } : {}),
    recover: (ws: string, id: string, body: { since: string; until?: string }) =>
      this.request<{ requeued: number }>('POST', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/recover`, body),
  };

  readonly events = {
    publish: (ws: string, event: EventInput, idempotencyKey?: string) =>
      this.request<AcceptedEvent>('POST', `/workspaces/${enc(ws)}/events`, event, undefined, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    publishBatch: (ws: string, events: EventInput[]) => this.request<{ data: AcceptedEvent[] }>('POST', `/workspaces/${enc(ws)}/events/batch`, { events }),
    list: (ws: string, q: PageQuery & { topic?: string } = {}) => this.request<Page<Event>>('GET', `/workspaces/${enc(ws)}/events`, undefined, { ...q }),
    get: (ws: string, id: string) => this.request<EventDetail>('GET', `/workspaces/${enc(ws)}/events/${enc(id)}`),
    replay: (ws: string, id: string) => this.request<{ deliveries: number }>('POST', `/workspaces/${enc(ws)}/events/${enc(id)}/replay`),
  };

  readonly deliveries = {
    list: (ws: string, q: PageQuery & { webhook_id?: string; event_id?: string; status?: Delivery['status'] } = {}) =>
      this.request<Page<Delivery>>('GET', `/workspaces/${enc(ws)}/deliveries`, undefined, { ...q }),
    get: (ws: string, id: string) => this.request<DeliveryDetail>('GET', `/workspaces/${enc(ws)}/deliveries/${enc(id)}`),
    retry: (ws: string, id: string) => this.request<Delivery>('POST', `/workspaces/${enc(ws)}/deliveries/${enc(id)}/retry`),
  };

  readonly filters = {
    test: (filter: Record<string, unknown> | null, data: unknown) => this.request<{ matches: boolean }>('POST', '/filters/test', { filter, data }),
  };
}

const enc = encodeURIComponent;
