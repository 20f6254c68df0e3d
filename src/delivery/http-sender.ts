import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { checkLiteralHost, guardedLookup } from './target-guard.js';

/** What one HTTP attempt came to: a response, or an error that stopped it. */
export type SendOutcome =
  | { kind: 'response'; statusCode: number; body: string; retryAfter: string | undefined; durationMs: number }
  | { kind: 'error'; error: string; durationMs: number };

export interface SenderOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** Bytes of the answer read at most (the rest is dropped with the connection). */
  maxReadBytes?: number;
  /** Bytes of the answer kept for the attempt record. */
  keepBytes?: number;
}

/**
 * Outbound HTTP for deliveries: kept-alive connections, one time limit for the whole
 * exchange, redirects never followed, a cap on what is read, and (unless private targets are
 * allowed) a resolver that refuses non-public addresses at connect time, so the socket goes
 * to the very address that was checked.
 */
export class HttpSender {
  private readonly agent: Agent;
  private readonly maxRead: number;
  private readonly keep: number;
  /** Parsed webhook URLs: the same few are sent to over and over. */
  private readonly targets = new Map<string, { origin: string; path: string; refused: string | null }>();

  constructor(private readonly options: SenderOptions) {
    this.maxRead = options.maxReadBytes ?? 64 * 1024;
    this.keep = options.keepBytes ?? 4 * 1024;
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: {
        timeout: options.timeoutMs,
        ...(options.allowPrivateTargets ? {} : { lookup: guardedLookup }),
      },
    });
  }

  send(url: string, headers: Record<string, string>, body: string): Promise<SendOutcome> {
    let target: { origin: string; path: string; refused: string | null };
    try {
      target = this.target(url);
    } catch {
      return Promise.resolve({ kind: 'error', error: 'invalid URL', durationMs: 0 });
    }
    if (target.refused) return Promise.resolve({ kind: 'error', error: target.refused, durationMs: 0 });
    // undici's low-level dispatch with a handler of our own: no response stream, async
    // iterator or AbortSignal per attempt (request() made those, at a cost the profile showed).
    return new Promise((resolve) => {
      const exchange = new Exchange(this.options.timeoutMs, this.maxRead, this.keep, resolve);
      try {
        this.agent.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers, body }, exchange);
      } catch (err) {
        exchange.onResponseError(null, err as Error);
      }
    });
  }

  private target(url: string): { origin: string; path: string; refused: string | null } {
    let target = this.targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      const refused = this.options.allowPrivateTargets ? null : checkLiteralHost(parsed.hostname);
      target = { origin: parsed.origin, path: parsed.pathname + parsed.search, refused: refused ? refused.message : null };
      if (this.targets.size >= 10_000) this.targets.clear();
      this.targets.set(url, target);
    }
    return target;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Abort reasons of our own, told apart from network errors in onResponseError. */
class TimedOut extends Error {}
class ReadEnough extends Error {}

/**
 * One POST and its answer: one time limit for the whole exchange, at most `maxRead` bytes
 * read (then the connection is dropped) and the first `keep` bytes kept.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;
  private controller: Dispatcher.DispatchController | null = null;
  private timedOut = false;
  private done = false;
  private statusCode = 0;
  private retryAfter: string | undefined;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private read = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxRead: number,
    private readonly keep: number,
    private readonly resolve: (outcome: SendOutcome) => void,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      if (this.controller) this.controller.abort(new TimedOut());
      // Not yet handed to a connection (the pool is busy): undici calls onRequestStart later, which aborts it.
      else this.finish({ kind: 'error', error: `timed out after ${timeoutMs} ms`, durationMs: this.elapsed() });
    }, timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.timedOut) controller.abort(new TimedOut());
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    this.statusCode = statusCode;
    const retryAfter = headers['retry-after'];
    this.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.read += chunk.length;
    if (this.keptBytes < this.keep) {
      const part = chunk.length <= this.keep - this.keptBytes ? chunk : chunk.subarray(0, this.keep - this.keptBytes);
      this.kept.push(part);
      this.keptBytes += part.length;
    }
    if (this.read >= this.maxRead) controller.abort(new ReadEnough());
  }

  onResponseEnd(): void {
    this.finish(this.response());
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    if (err instanceof ReadEnough) return this.finish(this.response());
    const error = this.timedOut || err instanceof TimedOut ? `timed out after ${this.timeoutMs} ms` : describeError(err, this.timeoutMs);
    this.finish({ kind: 'error', error, durationMs: this.elapsed() });
  }

  private response(): SendOutcome {
    const body = this.kept.length === 1 ? this.kept[0]!.toString('utf8') : Buffer.concat(this.kept).toString('utf8');
    return { kind: 'response', statusCode: this.statusCode, body, retryAfter: this.retryAfter, durationMs: this.elapsed() };
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.started);
  }

  private finish(outcome: SendOutcome): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.resolve(outcome);
  }
}

function describeError(err: unknown, timeoutMs: number): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ERR_HERALD_TARGET_REFUSED') return e.message ?? e.cause?.message ?? 'target refused';
  if (e?.cause && (e.cause as { code?: string }).code === 'ERR_HERALD_TARGET_REFUSED') return String(e.cause.message);
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': case 'UND_ERR_SOCKET': return 'connection reset';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'DNS lookup failed';
    case 'UND_ERR_CONNECT_TIMEOUT': case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT':
      return `timed out after ${timeoutMs} ms`;
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
  }
  if (err instanceof undiciErrors.UndiciError) return err.message;
  return e?.message ?? String(err);
}
