import { useEffect, useState } from 'react';
import type { Event, Topic, Webhook, Workspace } from '../api/types';
import { fieldErrors, message } from '../ui/errors';
import { WEBHOOK_WORDS } from '../webhooks/words';
import { receiverBody, sampleBody, useWorkspace } from '../workspaces/context';
import { timeAgo } from '../ui/format';
import { usePolling } from '../ui/usePolling';

interface Props {
  filter: Webhook['filter'];
  invalid: string | null;
  topic: Topic | undefined;
}

interface Result {
  sample: boolean | null;
  events: { event: Event; matches: boolean }[];
  problem: string | null;
}

/**
 * "Would match": the filter tried (by Herald, POST /filters/test) on the topic's sample and recent
 * events, each as the body the receiver gets (with business_name and business_uri), which is what
 * a filter is matched against.
 */
export function MatchPreview({ filter, invalid, topic }: Props) {
  const { api, workspace } = useWorkspace();
  const [events, setEvents] = useState<Event[] | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const key = JSON.stringify(filter);

  // The topic's recent events, read once per topic.
  usePolling(
    (live) => {
      setEvents(null);
      if (!topic) return;
      return api.listEvents(workspace.id, topic.name, 20).then(
        (page) => live() && setEvents(page.data),
        () => live() && setEvents([]),
      );
    },
    null,
    [api, workspace.id, topic],
  );

  useEffect(() => {
    if (!topic || invalid || events === null) return;
    let live = true;
    const timer = setTimeout(async () => {
      const everything = filter === null;
      try {
        const sample = everything ? true : (await api.testFilter(filter, sampleBody(topic, workspace))).matches;
        const tried = await Promise.all(
          events.map(async (event) => ({ event, matches: everything ? true : (await api.testFilter(filter, receiverBody(workspace, event.data))).matches })),
        );
        if (live) setResult({ sample, events: tried, problem: null });
      } catch (err) {
        const words = fieldErrors(err, WEBHOOK_WORDS);
        const problem = words.filter ?? words._ ?? message(err);
        if (live) setResult({ sample: null, events: [], problem });
      }
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, invalid, topic, events, api, workspace]);

  if (!topic) return null;
  const fields = filterFields(filter).slice(0, 3);
  const matched = result?.events.filter((e) => e.matches).length ?? 0;

  return (
    <section className="preview" aria-labelledby="preview-title">
      <h3 id="preview-title">Would it be sent?</h3>
      <div aria-live="polite" className="preview-body">
        {invalid && <p className="muted">Fix the filter to see what it matches.</p>}
        {!invalid && !result && <p className="muted">Checking…</p>}
        {!invalid && result?.problem && <p className="field-error">The filter is not valid: {result.problem}</p>}
        {!invalid && result && !result.problem && (
          <>
            <p className={`verdict ${result.sample ? 'yes' : 'no'}`}>
              <span className="verdict-icon" aria-hidden="true">{result.sample ? '✓' : '✕'}</span>
              {result.sample ? 'Sample event: would be sent' : 'Sample event: would not be sent'}
            </p>
            {result.events.length === 0 ? (
              <p className="muted">No recent {topic.label} events in this workspace yet.</p>
            ) : (
              <>
                <p className={`verdict ${matched > 0 ? 'yes' : 'no'}`}>
                  <span className="verdict-icon" aria-hidden="true">{matched > 0 ? '✓' : '✕'}</span>
                  Recent events: {matched} of the last {result.events.length} would be sent
                </p>
                <ul className="preview-events">
                  {result.events.slice(0, 6).map(({ event, matches }) => (
                    <li key={event.id}>
                      <span className={`dot ${matches ? 'dot-green' : 'dot-gray'}`} aria-hidden="true" />
                      <span className="preview-values">{summary(event, fields, workspace) || <code>{event.id}</code>}</span>
                      <span className="muted">{timeAgo(event.created_at)}</span>
                      <span className="sr-only">{matches ? 'would be sent' : 'would not be sent'}</span>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
      </div>
    </section>
  );
}

/** The field paths a filter looks at, in order: "amount", "metadetail.country". */
function filterFields(filter: unknown, out: string[] = []): string[] {
  if (Array.isArray(filter)) filter.forEach((f) => filterFields(f, out));
  else if (filter && typeof filter === 'object') {
    for (const [k, v] of Object.entries(filter)) {
      if (k === '$or' || k === '$and' || k === '$not') filterFields(v, out);
      else if (!k.startsWith('$') && !out.includes(k)) out.push(k);
    }
  }
  return out;
}

function valueAt(data: unknown, path: string): unknown {
  let v: unknown = data;
  for (const key of path.split('.')) {
    if (Array.isArray(v)) v = v[0];
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** "amount 250 · metadetail.country usa": what the filter looked at in this event. */
function summary(event: Event, fields: string[], workspace: Workspace): string {
  const body = receiverBody(workspace, event.data);
  return fields
    .map((f) => {
      const v = valueAt(body, f);
      return `${f} ${v === undefined ? '(missing)' : JSON.stringify(v).slice(0, 30)}`;
    })
    .join(' · ');
}
