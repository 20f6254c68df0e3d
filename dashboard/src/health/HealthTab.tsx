import { useState } from 'react';
import type { Webhook } from '../api/types';
import { topicLabel, useWorkspace } from '../workspaces/context';
import { loadHealth, MAX_DETAILS, type Health } from './health';
import { AttemptsChart, LatencyChart } from './HealthChart';
import { ms, percent, shortUrl } from '../ui/format';
import { message } from '../ui/errors';
import { usePolling } from '../ui/usePolling';

interface Props {
  onOpenLog: (webhookId: string) => void;
}

/** Health: per webhook, over the last 24 hours, how many events arrived, how many at the first try, and how fast. */
export function HealthTab({ onOpenLog }: Props) {
  const { webhooks, activity } = useWorkspace();
  const [tick, setTick] = useState(0);
  return (
    <section aria-labelledby="health-title">
      <div className="section-head">
        <div>
          <h2 id="health-title">Health</h2>
          <p className="muted">For each webhook, over the last 24 hours: how many events reached your receiver, how many at the first try, and how fast it answered.</p>
        </div>
        <button type="button" className="btn" onClick={() => setTick((t) => t + 1)}>
          Refresh
        </button>
      </div>
      {webhooks.length === 0 && (
        <div className="empty-state">
          <p className="empty-title">No webhooks yet</p>
          <p className="muted">Create a webhook on the Send Webhooks tab; its health shows here once it sends.</p>
        </div>
      )}
      <div className="health-grid">
        {webhooks.map((w) => (
          <HealthCard key={w.id} webhook={w} refresh={tick + activity} onOpenLog={onOpenLog} />
        ))}
      </div>
    </section>
  );
}

function HealthCard({ webhook, refresh, onOpenLog }: { webhook: Webhook; refresh: number; onOpenLog: (id: string) => void }) {
  const { api, workspace, topics } = useWorkspace();
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = `${topicLabel(topics, webhook.topic)} → ${shortUrl(webhook.url)}`;

  // Loaded again on "Refresh" and after a test or a retry; not polled (it reads many deliveries).
  usePolling(
    (live) =>
      loadHealth(api, workspace.id, webhook.id).then(
        (h) => live() && (setHealth(h), setError(null)),
        (err) => live() && setError(message(err)),
      ),
    null,
    [api, workspace.id, webhook.id, refresh],
  );

  const tone = health?.rate == null ? '' : health.rate >= 0.99 ? 'good' : health.rate >= 0.9 ? 'warn' : 'bad';
  return (
    <article className="card health-card" aria-label={`Health of ${name}`}>
      <header className="health-head">
        <h3>{topicLabel(topics, webhook.topic)}</h3>
        <p className="mono sub break">{webhook.url}</p>
      </header>
      {error && <p className="field-error">{error}</p>}
      {!health && !error && <p className="muted">Loading…</p>}
      {health && (
        <>
          <dl className="stats">
            <div>
              <dt>Delivered</dt>
              <dd className={`stat ${tone}`}>{percent(health.rate)}</dd>
              <dd className="sub">
                {health.delivered} of {health.finished} {health.finished === 1 ? 'event' : 'events'} reached your receiver
                {health.retrying > 0 && `; ${health.retrying} still being retried`}
              </dd>
            </div>
            <div>
              <dt>First-try success</dt>
              <dd className="stat">{percent(health.tried ? health.firstTry / health.tried : null)}</dd>
              <dd className="sub">
                {health.firstTry} of {health.tried} answered at once; {health.attempts} {health.attempts === 1 ? 'request' : 'requests'} in all
              </dd>
            </div>
            <div>
              <dt>Typical answer time</dt>
              <dd className="stat">{ms(health.p50)}</dd>
              <dd className="sub">half of the answers were faster</dd>
            </div>
            <div>
              <dt>Slowest answers</dt>
              <dd className="stat">{ms(health.p95)}</dd>
              <dd className="sub">95 in 100 answers were faster</dd>
            </div>
          </dl>
          {health.attempts === 0 ? (
            <p className="muted chart-empty">No requests in the last 24 hours.</p>
          ) : (
            <div className="charts">
              <figure>
                <figcaption>
                  Requests per hour
                  <span className="legend" aria-hidden="true">
                    <span><i className="sw sw-ok" />answered</span>
                    <span><i className="sw sw-bad" />failed</span>
                  </span>
                </figcaption>
                <AttemptsChart buckets={health.buckets} label={`Requests per hour over the last 24 hours: ${health.attempts} in all, ${health.attempts - health.ok} failed`} />
              </figure>
              <figure>
                <figcaption>
                  Answer time per hour
                  <span className="legend" aria-hidden="true">
                    <span><i className="sw sw-p50" />typical</span>
                    <span><i className="sw sw-p95" />slowest</span>
                  </span>
                </figcaption>
                <LatencyChart buckets={health.buckets} label={`Answer time per hour over the last 24 hours: typical ${ms(health.p50)}, slowest ${ms(health.p95)}`} />
              </figure>
            </div>
          )}
          <details className="explain">
            <summary>How these are counted</summary>
            <p>
              <strong>Delivered</strong> counts each event once: one that failed at first and arrived on a retry was delivered. Events still
              being retried are not counted yet. <strong>First-try success</strong> and the charts count every request: a request succeeds
              when your receiver answers with a status from 200 to 299 (HTTP 2xx) within 10 seconds. The typical answer time is the median
              (p50); the slowest answers are the 95th percentile (p95).
            </p>
          </details>
          {health.partial && <p className="hint">From the newest {MAX_DETAILS} deliveries of the last 24 hours.</p>}
          <button type="button" className="link-btn" onClick={() => onOpenLog(webhook.id)}>
            See its deliveries
          </button>
        </>
      )}
    </article>
  );
}
