import type { Attempt } from '../api/types';
import { dateTime, ms } from '../ui/format';

/** One attempt: when, how long, what came back, and the request's headers. */
export function AttemptView({ attempt: a, open }: { attempt: Attempt; open: boolean }) {
  const ok = a.status_code !== null && a.status_code >= 200 && a.status_code < 300 && !a.error;
  const answer = a.status_code !== null ? `HTTP ${a.status_code}` : 'no answer';
  const result = ok ? `Succeeded (${answer})` : `Failed (${answer})`;
  return (
    <details className={`attempt ${ok ? 'ok' : 'bad'}`} open={open}>
      <summary>
        <span className={`dot ${ok ? 'dot-green' : 'dot-red'}`} aria-hidden="true" />
        <span className="attempt-n">Attempt {a.number}</span>
        <span className="attempt-result">{result}</span>
        <span className="muted">{ms(a.duration_ms)}</span>
        <span className="muted attempt-time">{dateTime(a.started_at)}</span>
      </summary>
      <div className="attempt-body">
        {a.error && (
          <p className="attempt-error">
            <strong>Error:</strong> {a.error}
          </p>
        )}
        <h4>Request headers</h4>
        <div className="table-wrap">
          <table className="kv">
            <tbody>
              {Object.entries(a.request_headers ?? {}).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row" className="mono">{k}</th>
                  <td className="mono break">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h4>Response body {a.response_body && a.response_body.length >= 4096 ? '(first 4 KiB)' : ''}</h4>
        {a.response_body ? (
          <pre className="code" tabIndex={0} aria-label={`Response body of attempt ${a.number}`}>
            {a.response_body}
          </pre>
        ) : (
          <p className="muted">Empty.</p>
        )}
      </div>
    </details>
  );
}
