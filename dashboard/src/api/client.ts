// Herald's public REST API, as the dashboard uses it: every request of the page goes through `Api`.
import type {
  Delivery, DeliveryDetail, DeliveryStatus, Event, EventDetail, FieldError, Me, Page, Topic, Webhook, WebhookInput, WebhookPatch,
  Workspace,
} from './types';

const BASE = '/api/v1';

/** An answer other than 2xx, with the problem+json fields when the API gave them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

export class Api {
  /** `onUnauthorized`: the key stopped working (revoked, or Herald got a new admin key). */
  constructor(
    private readonly key: string,
    private readonly onUnauthorized?: () => void,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'Herald could not be reached. Check that it is running and try again.');
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (res.status === 401) this.onUnauthorized?.();
    if (!res.ok) {
      const detail = parsed?.detail ?? parsed?.title ?? `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, String(detail), Array.isArray(parsed?.errors) ? parsed.errors : []);
    }
    return parsed as T;
  }

  me() {
    return this.call<Me>('GET', '/me');
  }

  // ---- workspaces
  listWorkspaces(cursor?: string | null) {
    return this.call<Page<Workspace>>('GET', `/workspaces${query({ limit: 100, cursor })}`);
  }
  createWorkspace(body: { name: string; uri?: string | null }) {
    return this.call<Workspace>('POST', '/workspaces', body);
  }
  getWorkspace(ws: string) {
    return this.call<Workspace>('GET', `/workspaces/${enc(ws)}`);
  }
  updateWorkspace(ws: string, body: { webhooks_enabled?: boolean; name?: string; uri?: string | null }) {
    return this.call<Workspace>('PATCH', `/workspaces/${enc(ws)}`, body);
  }

  // ---- topics
  async topics() {
    return (await this.call<Page<Topic>>('GET', '/topics')).data;
  }

  // ---- webhooks
  async listWebhooks(ws: string) {
    const all: Webhook[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<Webhook> = await this.call<Page<Webhook>>('GET', `/workspaces/${enc(ws)}/webhooks${query({ limit: 500, cursor })}`);
      all.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor && all.length < 5000);
    return all;
  }
  createWebhook(ws: string, body: WebhookInput) {
    return this.call<Webhook>('POST', `/workspaces/${enc(ws)}/webhooks`, body);
  }
  updateWebhook(ws: string, id: string, body: WebhookPatch) {
    return this.call<Webhook>('PATCH', `/workspaces/${enc(ws)}/webhooks/${enc(id)}`, body);
  }
  deleteWebhook(ws: string, id: string) {
    return this.call<void>('DELETE', `/workspaces/${enc(ws)}/webhooks/${enc(id)}`);
  }
  webhookSecret(ws: string, id: string) {
    return this.call<{ secret: string }>('GET', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/secret`);
  }
  sendTest(ws: string, id: string) {
    return this.call<{ delivery: DeliveryDetail }>('POST', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/test`, {});
  }
  recover(ws: string, id: string, since: string) {
    return this.call<{ requeued: number }>('POST', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/recover`, { since });
  }

  // ---- events
  listEvents(ws: string, topic: string, limit = 20, cursor: string | null = null) {
    return this.call<Page<Event>>('GET', `/workspaces/${enc(ws)}/events${query({ topic, limit, cursor })}`);
  }
  /** Fans every event of [since, until) out again to the webhooks that match now (CONTRACT §7 bulk replay). */
  replayEvents(ws: string, since: string, until: string) {
    return this.call<{ events: number; deliveries: number }>('POST', `/workspaces/${enc(ws)}/events/replay`, { since, until });
  }
  getEvent(ws: string, id: string) {
    return this.call<EventDetail>('GET', `/workspaces/${enc(ws)}/events/${enc(id)}`);
  }

  // ---- deliveries
  listDeliveries(ws: string, f: { webhook_id?: string; status?: DeliveryStatus | ''; limit?: number; cursor?: string | null }) {
    return this.call<Page<Delivery>>('GET', `/workspaces/${enc(ws)}/deliveries${query({ ...f, limit: f.limit ?? 25 })}`);
  }
  getDelivery(ws: string, id: string) {
    return this.call<DeliveryDetail>('GET', `/workspaces/${enc(ws)}/deliveries/${enc(id)}`);
  }
  retryDelivery(ws: string, id: string) {
    return this.call<Delivery>('POST', `/workspaces/${enc(ws)}/deliveries/${enc(id)}/retry`);
  }

  // ---- filters
  testFilter(filter: Record<string, unknown> | null, data: unknown) {
    return this.call<{ matches: boolean }>('POST', '/filters/test', { filter, data });
  }
}

function enc(s: string) {
  return encodeURIComponent(s);
}

function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
