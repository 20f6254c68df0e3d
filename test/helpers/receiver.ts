// A real local HTTP receiver for end-to-end tests: it records every request that reaches it
// and answers as the test scripts it (status, headers, body, a delay, or never).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** The request target as sent (path and query). */
  path: string;
  /** Header names in lowercase, as Node gives them. */
  headers: http.IncomingHttpHeaders;
  /** The raw body bytes, decoded as UTF-8 (the bytes are kept in `raw`). */
  body: string;
  raw: Buffer;
  /** Date.now() when the request line and headers arrived. */
  receivedAt: number;
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

export type Responder = (req: RecordedRequest) => Reply | Promise<Reply>;

export interface WaitOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Count only the requests whose path (query excluded) is this. */
  path?: string;
}

const DEFAULT_WAIT_MS = 10_000;

export class Receiver {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: Reply[] = [];
  private responder: Responder | null = null;
  private fallback: Reply = { status: 200 };
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  private constructor(
    private readonly server: http.Server,
    /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
    readonly url: string,
  ) {}

  static async start(): Promise<Receiver> {
    const server = http.createServer();
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const receiver = new Receiver(server, `http://127.0.0.1:${port}`);
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    server.on('request', (req, res) => receiver.handle(req, res));
    return receiver;
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

  /** Requests recorded so far, optionally only those to one path. */
  received(path?: string): RecordedRequest[] {
    return path === undefined ? [...this.requests] : this.requests.filter((r) => pathOf(r.path) === path);
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

  /** Forgets recorded requests, queued replies and the responder; the default goes back to 200. */
  reset(): void {
    this.requests.length = 0;
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
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await done;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: raw.toString('utf8'),
        raw,
        receivedAt,
        index: this.requests.length,
      };
      this.requests.push(recorded);
      void this.answer(recorded, res);
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  private async answer(recorded: RecordedRequest, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = this.queue.shift() ?? (this.responder ? await this.responder(recorded) : this.fallback);
    } catch (err) {
      reply = { status: 599, body: String(err) };
    }
    if (reply.hang) return;
    const send = () => {
      if (this.closed || res.destroyed) return;
      const body = reply.body ?? '{"ok":true}';
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(body);
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

export function startReceiver(): Promise<Receiver> {
  return Receiver.start();
}
