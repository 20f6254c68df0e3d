import type { LookupAddress } from 'node:dns';
import { Agent, Pool, ProxyAgent, errors as undiciErrors, type Dispatcher } from 'undici';
import { parseIp } from '../domain/ip.js';
import { checkLiteralHost, guardedLookup, type LookupFunction } from './target-guard.js';

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
  /** `http://host:port` of the HTTP proxy every attempt goes through (HERALD_EGRESS_PROXY). */
  egressProxy?: string;
  /** Resolves and checks target hosts (default: the system resolver, refusing non-public addresses). */
  lookup?: LookupFunction;
  /** Certificates to trust for targets beside the system's (a private CA; tests). */
  ca?: string | Buffer;
}

interface Target {
  origin: string;
  path: string;
  hostname: string;
  refused: string | null;
}

/** How long a proxied target's checked addresses are trusted (direct connections keep theirs as long, kept alive). */
const CHECKED_HOST_MS = 30_000;

/**
 * Outbound HTTP for deliveries: kept-alive connections, one time limit for the whole
 * exchange, redirects never followed, a cap on what is read, and (unless private targets are
 * allowed) a resolver that refuses non-public addresses at connect time, so the socket goes
 * to the very address that was checked.
 *
 * With an egress proxy every request goes through it (absolute-form for http, a CONNECT
 * tunnel for https) and none directly. The proxy connects to the target, so the target's
 * host is resolved and checked here before the request is handed to the proxy; the proxy's
 * own address is the operator's choice and may be private.
 */
export class HttpSender {
  private readonly agent: Dispatcher;
  private readonly maxRead: number;
  private readonly keep: number;
  private readonly lookup: LookupFunction;
  /** host:port of the egress proxy, for error messages; null when sending directly. */
  private readonly proxy: string | null;
  /** Parsed webhook URLs: the same few are sent to over and over. */
  private readonly targets = new Map<string, Target>();
  /** Proxied target hosts whose addresses were checked, until when. */
  private readonly checkedHosts = new Map<string, number>();

  constructor(private readonly options: SenderOptions) {
    this.maxRead = options.maxReadBytes ?? 64 * 1024;
    this.keep = options.keepBytes ?? 4 * 1024;
    this.lookup = options.lookup ?? guardedLookup;
    const common = {
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    };
    const tls = options.ca === undefined ? {} : { ca: options.ca };
    if (options.egressProxy) {
      this.proxy = new URL(options.egressProxy).host;
      // Connections to the proxy get the attempt's time limits too, so a proxy that never
      // answers a CONNECT does not keep it (and close()) waiting for undici's 300 s default.
      const pool = (origin: string | URL, opts: object) => new Pool(origin, { ...opts, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
      this.agent = new ProxyAgent({
        ...common,
        uri: options.egressProxy,
        clientFactory: pool,
        factory: pool,
        proxyTunnel: false, // http targets in absolute form; https ones are always tunnelled
        proxyTls: { timeout: options.timeoutMs },
        requestTls: { timeout: options.timeoutMs, ...tls },
      });
    } else {
      this.proxy = null;
      this.agent = new Agent({
        ...common,
        connect: {
          timeout: options.timeoutMs,
          ...tls,
          ...(options.allowPrivateTargets ? {} : { lookup: this.lookup }),
        },
      });
    }
  }

  send(url: string, headers: Record<string, string>, body: string): Promise<SendOutcome> {
    let target: Target;
    try {
      target = this.target(url);
    } catch {
      return Promise.resolve({ kind: 'error', error: 'invalid URL', durationMs: 0 });
    }
    if (target.refused) return Promise.resolve({ kind: 'error', error: target.refused, durationMs: 0 });
    // undici's low-level dispatch with a handler of our own: no response stream, async
    // iterator or AbortSignal per attempt (request() made those, at a cost the profile showed).
    return new Promise((resolve) => {
      const exchange = new Exchange(this.options.timeoutMs, this.maxRead, this.keep, this.proxy, resolve);
      const dispatch = () => {
        if (exchange.finished) return; // timed out while the target was checked
        try {
          // The proxy agent adds a host header: to a copy, not to the attempt's record.
          this.agent.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers: this.proxy ? { ...headers } : headers, body }, exchange);
        } catch (err) {
          exchange.onResponseError(null, err as Error);
        }
      };
      if (!this.mustCheck(target.hostname)) return dispatch();
      this.check(target.hostname).then((refusal) => (refusal ? exchange.fail(refusal) : dispatch()));
    });
  }

  private target(url: string): Target {
    let target = this.targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      const refused = this.options.allowPrivateTargets ? null : checkLiteralHost(parsed.hostname);
      target = { origin: parsed.origin, path: parsed.pathname + parsed.search, hostname: parsed.hostname, refused: refused ? refused.message : null };
      if (this.targets.size >= 10_000) this.targets.clear();
      this.targets.set(url, target);
    }
    return target;
  }

  /** Whether a host must be resolved and checked before the proxy is asked to reach it. */
  private mustCheck(hostname: string): boolean {
    if (!this.proxy || this.options.allowPrivateTargets || parseIp(hostname) !== null) return false;
    const until = this.checkedHosts.get(hostname);
    return until === undefined || until <= Date.now();
  }

  /** Resolves a proxied target's host and checks every address: the refusal, or null. */
  private check(hostname: string): Promise<string | null> {
    return new Promise((resolve) => {
      this.lookup(hostname, { all: true }, (err: Error | null, _addresses?: LookupAddress[]) => {
        if (err) return resolve(describeError(err, this.options.timeoutMs, null));
        if (this.checkedHosts.size >= 10_000) this.checkedHosts.clear();
        this.checkedHosts.set(hostname, Date.now() + CHECKED_HOST_MS);
        resolve(null);
      });
    });
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
  finished = false;
  private statusCode = 0;
  private retryAfter: string | undefined;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private read = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxRead: number,
    private readonly keep: number,
    private readonly proxy: string | null,
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
    const error = this.timedOut || err instanceof TimedOut ? `timed out after ${this.timeoutMs} ms` : describeError(err, this.timeoutMs, this.proxy);
    this.fail(error);
  }

  /** Ends the attempt with an error before or without an answer. */
  fail(error: string): void {
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
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.resolve(outcome);
  }
}

/**
 * An attempt's error in a few plain words. Through a proxy, Herald's only connections are to
 * the proxy, so a refused or unresolvable connection is the proxy's, and says so.
 */
function describeError(err: unknown, timeoutMs: number, proxy: string | null): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ERR_HERALD_TARGET_REFUSED') return e.message ?? e.cause?.message ?? 'target refused';
  if (e?.cause && (e.cause as { code?: string }).code === 'ERR_HERALD_TARGET_REFUSED') return String(e.cause.message);
  if (proxy !== null) {
    switch (code) {
      case 'ECONNREFUSED': return `egress proxy ${proxy} refused the connection`;
      case 'ENOTFOUND': case 'EAI_AGAIN': return `egress proxy ${proxy} does not resolve`;
      case 'EHOSTUNREACH': case 'ENETUNREACH': return `egress proxy ${proxy} is unreachable`;
      case 'UND_ERR_CONNECT_TIMEOUT': return `timed out after ${timeoutMs} ms connecting to egress proxy ${proxy}`;
    }
    // A CONNECT the proxy answered with something other than 200: it could not (or would not) reach the target.
    const tunnel = /Proxy response \((\d+)\) !== 200/.exec(e?.message ?? '');
    if (tunnel) return `egress proxy ${proxy} answered HTTP ${tunnel[1]} to CONNECT`;
    if (/Proxy Authentication Required/.test(e?.message ?? '')) return `egress proxy ${proxy} asks for authentication (HTTP 407)`;
  }
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
