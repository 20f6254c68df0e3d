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

/** Health: per webhook, success rate and latency (p50/p95) over the last 24 hours. */
export function HealthTab({ onOpenLog }: Props) {
  const { webhooks, activity } = useWorkspace();
  const [tick, setTick] = useState(0);
  return (
    <section aria-labelledby="health-title">
      <div className="section-head">
        <div>
          <h2 id="health-title">Health</h2>
          <p className="muted">How each webhook’s requests went over the last 24 hours: the share of attempts answered with a 2xx status, and how long they took.</p>
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
              <dt>Success rate</dt>
              <dd className={`stat ${tone}`}>{percent(health.rate)}</dd>
              <dd className="sub">
                {health.ok} of {health.attempts} attempts
              </dd>
            </div>
            <div>
              <dt>Latency p50</dt>
              <dd className="stat">{ms(health.p50)}</dd>
            </div>
            <div>
              <dt>Latency p95</dt>
              <dd className="stat">{ms(health.p95)}</dd>
            </div>
          </dl>
          {health.attempts === 0 ? (
            <p className="muted chart-empty">No requests in the last 24 hours.</p>
          ) : (
            <div className="charts">
              <figure>
                <figcaption>
                  Attempts per hour
                  <span className="legend" aria-hidden="true">
                    <span><i className="sw sw-ok" />2xx</span>
                    <span><i className="sw sw-bad" />failed</span>
                  </span>
                </figcaption>
                <AttemptsChart buckets={health.buckets} label={`Attempts per hour over the last 24 hours: ${health.attempts} in all, ${health.attempts - health.ok} failed`} />
              </figure>
              <figure>
                <figcaption>
                  Latency per hour
                  <span className="legend" aria-hidden="true">
                    <span><i className="sw sw-p50" />p50</span>
                    <span><i className="sw sw-p95" />p95</span>
                  </span>
                </figcaption>
                <LatencyChart buckets={health.buckets} label={`Latency per hour over the last 24 hours: p50 ${ms(health.p50)}, p95 ${ms(health.p95)}`} />
              </figure>
            </div>
          )}
          {health.partial && <p className="hint">From the newest {MAX_DETAILS} deliveries of the last 24 hours.</p>}
          <button type="button" className="link-btn" onClick={() => onOpenLog(webhook.id)}>
            See its deliveries
          </button>
        </>
      )}
    </article>
  );
}
