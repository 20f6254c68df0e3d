import { Agent, request, errors as undiciErrors } from 'undici';
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

  async send(url: string, headers: Record<string, string>, body: string): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    if (!this.options.allowPrivateTargets) {
      const refused = checkLiteralHost(new URL(url).hostname);
      if (refused) return { kind: 'error', error: refused.message, durationMs: 0 };
    }
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const res = await request(url, { method: 'POST', headers, body, dispatcher: this.agent, signal });
      const text = await this.readCapped(res.body);
      const retryAfter = res.headers['retry-after'];
      return {
        kind: 'response',
        statusCode: res.statusCode,
        body: text,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        durationMs: elapsed(),
      };
    } catch (err) {
      return { kind: 'error', error: describeError(err, signal.aborted, this.options.timeoutMs), durationMs: elapsed() };
    }
  }

  private async readCapped(stream: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let read = 0;
    for await (const chunk of stream) {
      read += chunk.length;
      if (keptBytes < this.keep) {
        const part = chunk.subarray(0, this.keep - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
      if (read >= this.maxRead) {
        stream.destroy();
        break;
      }
    }
    return Buffer.concat(kept).toString('utf8');
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function describeError(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `timed out after ${timeoutMs} ms`;
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
