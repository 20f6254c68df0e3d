import { useState } from 'react';

/** The body the receiver got, byte for byte (the server's own copy), or laid out for reading. */
export function RequestBody({ body }: { body: string | null }) {
  const [view, setView] = useState<'sent' | 'formatted'>('sent');
  const formatted = body === null ? null : format(body);
  return (
    <>
      <div className="block-head">
        <h3 className="block-title">Request body</h3>
        {formatted !== null && (
          <div className="segmented" role="group" aria-label="How to show the body">
            <button type="button" aria-pressed={view === 'sent'} onClick={() => setView('sent')}>
              As sent
            </button>
            <button type="button" aria-pressed={view === 'formatted'} onClick={() => setView('formatted')}>
              Formatted
            </button>
          </div>
        )}
      </div>
      <p className="hint">The same on every attempt: the event’s data, with your business_name and business_uri added.</p>
      <pre className="code" tabIndex={0} aria-label="Request body">
        {body === null ? 'No longer kept: the event was removed after the retention period.' : view === 'formatted' && formatted !== null ? formatted : body}
      </pre>
    </>
  );
}

function format(body: string): string | null {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return null;
  }
}
