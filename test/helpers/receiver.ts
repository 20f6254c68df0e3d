// The tests' one HTTP receiver, on 127.0.0.1 (a free port): it records every request that
// reaches it, with when it arrived and when its exchange ended, and answers as the test scripts
// it — queued replies, a responder (a status, headers, a body, a delay, never), or the
// responder's own writes to the response. It also counts what overlaps: exchanges and sockets
// open at once, and the same webhook-id in two exchanges at once.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** The request target as sent (path and query). */
  path: string;
  /** Header names in lowercase, as Node gives them. */
  headers: http.IncomingHttpHeaders;
  /** The webhook-id header ('' without one). */
  id: string;
  /** The raw body bytes, decoded as UTF-8 (the bytes are kept in `raw`). */
  body: string;
  raw: Buffer;
  /** Date.now() when the whole request had arrived. */
  receivedAt: number;
  /** Date.now() when the exchange ended (answered, or the connection closed); null while open. */
  endedAt: number | null;
  /** Position among all requests this receiver has recorded since the last reset (0-based). */
  index: number;
}

export interface Reply {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** Default '{"ok":true}'. */
  body?: string;
  /** Waits this long before answering. */
  delayMs?: number;
  /** Never answers (the socket stays open until the client gives up or the receiver closes). */
  hang?: boolean;
}

/**
 * Decides the answer to a request: a Reply, or nothing when it answers (or never answers)
 * through `res` itself. A rejection answers 599.
 */
export type Responder = (req: RecordedRequest, res: http.ServerResponse) => Reply | void | Promise<Reply | void>;

export interface WaitOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Count only the requests whose path (query excluded) is this. */
  path?: string;
}

const DEFAULT_WAIT_MS = 10_000;

export class Receiver {
  readonly requests: RecordedRequest[] = [];
  /** webhook-id → how many requests carried it. */
  readonly byId = new Map<string, number>();
  /** Webhook-ids that had two exchanges open at once. */
  readonly overlaps: string[] = [];
  /** Exchanges open now, and the most at once. */
  open = 0;
  maxOpen = 0;
  /** Sockets open now, and the most at once. */
  sockets = 0;
  maxSockets = 0;
  private readonly queue: Reply[] = [];
  private responder: Responder | null = null;
  private fallback: Reply = { status: 200 };
  private readonly openIds = new Map<string, number>();
  private readonly socketSet = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  private constructor(
    private readonly server: http.Server,
    /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
    readonly url: string,
  ) {}

  /** Starts listening; `responder` as with respondWith(). close() it (the leak check fails a file that does not). */
  static async start(responder?: Responder): Promise<Receiver> {
    const server = http.createServer();
    server.keepAliveTimeout = 60_000;
    // Hanging and slow exchanges are what some tests are about: Node must not end them.
    server.headersTimeout = 120_000;
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const r = new Receiver(server, `http://127.0.0.1:${port}`);
    if (responder) r.responder = responder;
    server.on('connection', (socket) => {
      r.socketSet.add(socket);
      r.sockets++;
      r.maxSockets = Math.max(r.maxSockets, r.sockets);
      socket.on('close', () => {
        r.socketSet.delete(socket);
        r.sockets--;
      });
    });
    server.on('request', (req, res) => r.handle(req, res));
    return r;
  }

  /** A full URL on this receiver: receiver.at('/hooks/a'). */
  at(path: string): string {
    return this.url + (path.startsWith('/') ? path : '/' + path);
  }

  /** Answers the next requests with these replies, in order; then the responder or the default. */
  enqueue(...replies: Reply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Answers every request (after the queue is used up) by calling this. */
  respondWith(responder: Responder | null): this {
    this.responder = responder;
    return this;
  }

  /** The answer when neither the queue nor a responder gives one (initially 200). */
  setDefault(reply: Reply): this {
    this.fallback = reply;
    return this;
  }

  /** Requests recorded so far, optionally only those to one path (query excluded). */
  received(path?: string): RecordedRequest[] {
    return path === undefined ? [...this.requests] : this.requests.filter((r) => pathOf(r.path) === path);
  }

  /** How many requests arrived, optionally only to one path (query excluded). */
  count(path?: string): number {
    return path === undefined ? this.requests.length : this.received(path).length;
  }

  /** Webhook-ids received more than once. */
  duplicates(): string[] {
    return [...this.byId].filter(([, n]) => n > 1).map(([id]) => id);
  }

  /** Resolves with the first `n` matching requests once that many have arrived; rejects after the timeout. */
  async waitFor(n: number, options: WaitOptions = {}): Promise<RecordedRequest[]> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const pick = () => this.received(options.path);
    if (pick().length >= n) return pick().slice(0, n);
    return new Promise<RecordedRequest[]>((resolve, reject) => {
      const check = () => {
        if (pick().length >= n) {
          finish();
          resolve(pick().slice(0, n));
        }
      };
      const timer = setTimeout(() => {
        finish();
        const got = pick().length;
        reject(new Error(`receiver: expected ${n} request(s)${options.path ? ` to ${options.path}` : ''} within ${timeoutMs} ms, got ${got}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Forgets recorded requests and their counts, queued replies and the responder; the default goes back to 200. */
  reset(): void {
    this.requests.length = 0;
    this.byId.clear();
    this.overlaps.length = 0;
    this.queue.length = 0;
    this.responder = null;
    this.fallback = { status: 200 };
  }

  /** Stops listening and destroys every connection, hanging ones included. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.socketSet) socket.destroy();
    this.server.closeAllConnections();
    await done;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const id = String(req.headers['webhook-id'] ?? '');
      const recorded: RecordedRequest = {
        method: req.method ?? '', path: req.url ?? '', headers: req.headers, id, body: raw.toString('utf8'), raw,
        receivedAt: Date.now(), endedAt: null, index: this.requests.length,
      };
      this.requests.push(recorded);
      this.byId.set(id, (this.byId.get(id) ?? 0) + 1);
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      const already = this.openIds.get(id) ?? 0;
      if (already > 0 && id !== '') this.overlaps.push(id);
      this.openIds.set(id, already + 1);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        recorded.endedAt = Date.now();
        this.open--;
        this.openIds.set(id, (this.openIds.get(id) ?? 1) - 1);
      };
      res.once('finish', end);
      res.once('close', end);
      void this.answer(recorded, res);
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  private async answer(recorded: RecordedRequest, res: http.ServerResponse): Promise<void> {
    let reply: Reply | void;
    try {
      reply = this.queue.shift() ?? (this.responder ? await this.responder(recorded, res) : this.fallback);
    } catch (err) {
      reply = res.headersSent ? undefined : { status: 599, body: String(err) };
    }
    if (!reply || reply.hang) return; // answered through res, or never
    const send = () => {
      if (this.closed || res.destroyed) return;
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '{"ok":true}');
    };
    if (reply.delayMs && reply.delayMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send();
      }, reply.delayMs);
      this.timers.add(timer);
    } else {
      send();
    }
  }
}

export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

export function startReceiver(responder?: Responder): Promise<Receiver> {
  return Receiver.start(responder);
}
