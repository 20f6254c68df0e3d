// A typed client of Herald's REST API, for the platform that publishes, for tooling and for
// the dashboard. Every type is derived from the JSON Schemas of the routes' contracts
// (src/api/routes/<resource>.ts): what the server validates and answers is what is typed here.
import type { Answer, Body, Json, Query as RouteQuery, RouteContract } from '../api/contract.js';
import type { problemSchema } from '../api/schemas.js';
import type { deliveryApi } from '../api/routes/deliveries.js';
import type { eventApi } from '../api/routes/events.js';
import type { keyApi } from '../api/routes/keys.js';
import type { topicApi } from '../api/routes/topics.js';
import type { webhookApi } from '../api/routes/webhooks.js';
import type { Workspace, WorkspaceInput, WorkspacePatch, workspaceApi } from '../api/routes/workspaces.js';
import type { ApiKey, ApiKeyInput, NewApiKey } from '../api/routes/keys.js';
import type { Topic, TopicInput, TopicPatch } from '../api/routes/topics.js';
import type {
  RecoverInput, RotatedSecret, SecretRotation, Webhook, WebhookInput, WebhookPatch, WebhookPublicKey, WebhookSecret,
} from '../api/routes/webhooks.js';
import type { AcceptedEvent, BulkReplayInput, Event, EventDetail, EventInput } from '../api/routes/events.js';
import type { Attempt, BulkRetryInput, Delivery, DeliveryDetail, DeliveryStatus } from '../api/routes/deliveries.js';
import type { FilterResult, FilterTest } from '../api/routes/filters.js';
import type { Me } from '../api/routes/me.js';
import type { NewPortalSession, PortalOpened, PortalSession, PortalSessionInput, PortalThemeInput, portalApi } from '../api/routes/portal.js';

export type {
  Workspace, WorkspaceInput, WorkspacePatch, ApiKey, ApiKeyInput, NewApiKey, Topic, TopicInput, TopicPatch,
  Webhook, WebhookInput, WebhookPatch, WebhookSecret, WebhookPublicKey, RotatedSecret, SecretRotation, RecoverInput,
  Event, EventDetail, EventInput, AcceptedEvent, Delivery, DeliveryDetail, DeliveryStatus, Attempt,
  FilterTest, FilterResult, Me, NewPortalSession, PortalSession, PortalSessionInput, PortalOpened, BulkReplayInput, BulkRetryInput,
};

/** A portal session's options as createSession takes them: the API's fields, with `expiresIn` also accepted for `expires_in`. */
export interface PortalSessionOptions {
  access?: PortalSessionInput['access'];
  expires_in?: number;
  expiresIn?: number;
  theme?: PortalThemeInput;
}

/** An error answer (RFC 9457), as application/problem+json. */
export type Problem = Json<typeof problemSchema>;
/** One invalid field of a 400 answer. */
export type FieldError = NonNullable<Problem['errors']>[number];

/** A page of a list call (listOf in src/api/schemas.ts); pass next_cursor back for the next. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

/** A list call's query as the client takes it: the route's query, with a numeric limit. */
type ListQuery<C extends RouteContract> = Omit<RouteQuery<C>, 'limit'> & PageQuery;

export type WebhookListQuery = ListQuery<typeof webhookApi.list>;
export type EventListQuery = ListQuery<typeof eventApi.list>;
export type DeliveryListQuery = ListQuery<typeof deliveryApi.list>;
/** The answer to a webhook's test send: the delivery, with its one attempt. */
export type TestSend = Answer<typeof webhookApi.test>;
export type Recovered = Answer<typeof webhookApi.recover>;
export type Replayed = Answer<typeof eventApi.replay>;
export type ReplayedMany = Answer<typeof eventApi.replayMany>;
export type RetriedMany = Answer<typeof deliveryApi.retryMany>;
export type AcceptedBatch = Answer<typeof eventApi.publishBatch>;

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
    create: (body: WorkspaceInput) => this.request<Workspace>('POST', '/workspaces', body),
    list: (q: PageQuery = {}): Promise<Page<Workspace>> => this.request<Answer<typeof workspaceApi.list>>('GET', '/workspaces', undefined, { ...q }),
    get: (ws: string) => this.request<Workspace>('GET', `/workspaces/${enc(ws)}`),
    update: (ws: string, body: WorkspacePatch) => this.request<Workspace>('PATCH', `/workspaces/${enc(ws)}`, body),
    delete: (ws: string) => this.request<null>('DELETE', `/workspaces/${enc(ws)}`),
  };

  readonly keys = {
    create: (ws: string, body: ApiKeyInput = {}) => this.request<NewApiKey>('POST', `/workspaces/${enc(ws)}/keys`, body),
    list: (ws: string, q: PageQuery = {}): Promise<Page<ApiKey>> => this.request<Answer<typeof keyApi.list>>('GET', `/workspaces/${enc(ws)}/keys`, undefined, { ...q }),
    revoke: (ws: string, id: string) => this.request<null>('DELETE', `/workspaces/${enc(ws)}/keys/${enc(id)}`),
  };

  readonly topics = {
    list: (): Promise<Page<Topic>> => this.request<Answer<typeof topicApi.list>>('GET', '/topics'),
    get: (name: string) => this.request<Topic>('GET', `/topics/${enc(name)}`),
    put: (body: TopicInput) => this.request<Topic>('POST', '/topics', body),
    update: (name: string, body: TopicPatch) => this.request<Topic>('PATCH', `/topics/${enc(name)}`, body),
  };

  readonly webhooks = {
    create: (ws: string, body: WebhookInput) => this.request<Webhook>('POST', `/workspaces/${enc(ws)}/webhooks`, body),
    list: (ws: string, q: WebhookListQuery = {}): Promise<Page<Webhook>> =>
      this.request<Answer<typeof webhookApi.list>>('GET', `/workspaces/${enc(ws)}/webhooks`, undefined, { ...q }),
    get: (ws: string, id: string) => this.request<Webhook>('GET', `/workspaces/${enc(ws)}/webhooks/${enc(id)}`),
    secret: (ws: string, id: string) => this.request<WebhookSecret>('GET', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/secret`),
    publicKey: (ws: string, id: string) => this.request<WebhookPublicKey>('GET', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/public-key`),
    rotateSecret: (ws: string, id: string, body: SecretRotation = {}) =>
      this.request<RotatedSecret>('POST', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/secret/rotate`, body),
    update: (ws: string, id: string, body: WebhookPatch) => this.request<Webhook>('PATCH', `/workspaces/${enc(ws)}/webhooks/${enc(id)}`, body),
    delete: (ws: string, id: string) => this.request<null>('DELETE', `/workspaces/${enc(ws)}/webhooks/${enc(id)}`),
    test: (ws: string, id: string, data?: NonNullable<Body<typeof webhookApi.test>>['data']) =>
      this.request<TestSend>('POST', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/test`, data ? { data } : {}),
    recover: (ws: string, id: string, body: RecoverInput) => this.request<Recovered>('POST', `/workspaces/${enc(ws)}/webhooks/${enc(id)}/recover`, body),
  };

  readonly events = {
    publish: (ws: string, event: EventInput, idempotencyKey?: string) =>
      this.request<AcceptedEvent>('POST', `/workspaces/${enc(ws)}/events`, event, undefined, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    publishBatch: (ws: string, events: EventInput[]) => this.request<AcceptedBatch>('POST', `/workspaces/${enc(ws)}/events/batch`, { events }),
    list: (ws: string, q: EventListQuery = {}): Promise<Page<Event>> =>
      this.request<Answer<typeof eventApi.list>>('GET', `/workspaces/${enc(ws)}/events`, undefined, { ...q }),
    get: (ws: string, id: string) => this.request<EventDetail>('GET', `/workspaces/${enc(ws)}/events/${enc(id)}`),
    replay: (ws: string, id: string) => this.request<Replayed>('POST', `/workspaces/${enc(ws)}/events/${enc(id)}/replay`),
    /** Every event of a window fanned out again (§7 bulk replay). */
    replayMany: (ws: string, body: BulkReplayInput) => this.request<ReplayedMany>('POST', `/workspaces/${enc(ws)}/events/replay`, body),
  };

  readonly deliveries = {
    list: (ws: string, q: DeliveryListQuery = {}): Promise<Page<Delivery>> =>
      this.request<Answer<typeof deliveryApi.list>>('GET', `/workspaces/${enc(ws)}/deliveries`, undefined, { ...q }),
    get: (ws: string, id: string) => this.request<DeliveryDetail>('GET', `/workspaces/${enc(ws)}/deliveries/${enc(id)}`),
    retry: (ws: string, id: string) => this.request<Delivery>('POST', `/workspaces/${enc(ws)}/deliveries/${enc(id)}/retry`),
    /** The deliveries of a window queued again, each for a new cycle of retries (§7 bulk retry). */
    retryMany: (ws: string, body: BulkRetryInput) => this.request<RetriedMany>('POST', `/workspaces/${enc(ws)}/deliveries/retry`, body),
  };

  /**
   * The portal (CONTRACT section 6), for the platform's backend with the admin key:
   * `createSession` gives a link (`url`) to a workspace's Webhooks page that opens once, for
   * an iframe in the platform's dashboard or a new tab.
   */
  readonly portal = {
    createSession: (ws: string, options: PortalSessionOptions = {}) => {
      const { expiresIn, expires_in, ...rest } = options;
      const seconds = expires_in ?? expiresIn;
      const body: PortalSessionInput = { ...rest, ...(seconds === undefined ? {} : { expires_in: seconds }) };
      return this.request<NewPortalSession>('POST', `/workspaces/${enc(ws)}/portal-sessions`, body);
    },
    listSessions: (ws: string, q: PageQuery = {}): Promise<Page<PortalSession>> =>
      this.request<Answer<typeof portalApi.list>>('GET', `/workspaces/${enc(ws)}/portal-sessions`, undefined, { ...q }),
    revokeSession: (ws: string, id: string) => this.request<null>('DELETE', `/workspaces/${enc(ws)}/portal-sessions/${enc(id)}`),
    revokeAllSessions: (ws: string) => this.request<null>('DELETE', `/workspaces/${enc(ws)}/portal-sessions`),
    /** Opens a link (its token, after # in `url`) for a session credential, as the page does; a link opens once. */
    open: (token: string) => this.request<PortalOpened>('POST', '/portal/exchange', { token }),
    /**
     * The session that a portal cookie holds (a browser sends its own; elsewhere pass the
     * `cookie` header). `session` (the session_id of the opening) says which, when the browser holds several.
     */
    resume: (cookie?: string, session?: string) =>
      this.request<PortalOpened>('POST', '/portal/resume', session === undefined ? undefined : { session }, undefined, cookie ? { cookie } : {}),
  };

  readonly filters = {
    test: (filter: FilterTest['filter'], data: unknown) => this.request<FilterResult>('POST', '/filters/test', { filter, data } satisfies FilterTest),
  };
}

const enc = encodeURIComponent;
