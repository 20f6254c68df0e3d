import { createServer, type Server } from 'node:http';
import { ConfigError } from '../config.js';
import { parsePublicKey } from '../domain/ed25519.js';
import { verifyWebhook } from '../receiver/verify.js';

export interface ListenOptions {
  port: number;
  host: string;
  secret?: string;
  /** An ed25519 webhook's whpk_ public key, to verify its v1a signatures (with or without a secret). */
  publicKey?: string;
  /** Share of requests answered 500 on purpose, 0 to 1. */
  failRate: number;
  delayMs: number;
  headerPrefix: string;
  /** One line per webhook, without its body (for `herald demo`, whose own lines must not scroll away). */
  compact?: boolean;
  print: (line: string) => void;
}

/**
 * A local receiver for trying Herald out: prints each webhook as it arrives and answers 200
 * (or, with --fail-rate, sometimes 500, to watch retries), without leaving the machine.
 */
export function listen(options: ListenOptions): Promise<Server> {
  const { print } = options;
  if (options.publicKey !== undefined) {
    try {
      parsePublicKey(options.publicKey);
    } catch (err) {
      return Promise.reject(new ConfigError(`--public-key: ${(err as Error).message}`));
    }
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const topic = req.headers[`${options.headerPrefix}-topic`] ?? '(no topic header)';
      const id = req.headers['webhook-id'] ?? req.headers[`${options.headerPrefix}-delivery-id`] ?? '(no id)';
      let verdict = 'not checked (start with --secret or --public-key to verify)';
      const keys = [options.secret, options.publicKey].filter((k): k is string => !!k);
      if (keys.length > 0) {
        try {
          for (const key of keys) verifyWebhook(raw, req.headers, key, { headerPrefix: options.headerPrefix });
          verdict = 'verified';
        } catch (err) {
          verdict = `NOT verified: ${(err as Error).message}`;
        }
      }
      // A per-URL failure rate (…/hooks?fail=0.3) lets one listener play several receivers.
      const perUrl = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('fail'));
      const fail = Math.random() < (perUrl > 0 ? perUrl : options.failRate);
      if (options.compact) {
        print(`${new Date().toISOString().slice(11, 19)}  ${req.method} ${req.url}  topic=${topic}  signature ${verdict}  → ${fail ? 500 : 200}`);
      } else {
        print(`\n${new Date().toISOString()}  ${req.method} ${req.url}  topic=${topic}  id=${id}  signature ${verdict}${fail ? '  → answering 500 (--fail-rate)' : ''}\n${pretty(raw)}`);
      }
      setTimeout(() => {
        res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' });
        res.end(fail ? 'failing on purpose' : 'ok');
      }, options.delayMs);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}

/** The body as JSON pretty-printed, or as received when it is not JSON. */
function pretty(raw: Buffer): string {
  const body = raw.toString('utf8');
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
