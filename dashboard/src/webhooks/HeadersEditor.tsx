import { useId } from 'react';

export interface HeaderRow {
  id: number;
  name: string;
  value: string;
}

let next = 1;
export function headerRows(headers: Record<string, string>): HeaderRow[] {
  return Object.entries(headers).map(([name, value]) => ({ id: next++, name, value }));
}

export function headersObject(rows: HeaderRow[]): Record<string, string> {
  return Object.fromEntries(rows.filter((r) => r.name.trim()).map((r) => [r.name.trim(), r.value]));
}

interface Props {
  rows: HeaderRow[];
  onChange: (rows: HeaderRow[]) => void;
  error?: string;
}

/** Extra request headers that Herald adds to every request of this webhook. */
export function HeadersEditor({ rows, onChange, error }: Props) {
  const errorId = useId();
  const set = (id: number, patch: Partial<HeaderRow>) => onChange(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  return (
    <fieldset className="headers-editor" aria-describedby={error ? errorId : undefined}>
      <legend>Extra request headers</legend>
      {rows.length === 0 && <p className="hint">None. Herald's own headers (topic, signature, …) are always sent.</p>}
      {rows.map((r, i) => (
        <div className="header-row" key={r.id}>
          <input aria-label={`Header name ${i + 1}`} className="mono" value={r.name} placeholder="x-shop-id" onChange={(e) => set(r.id, { name: e.target.value })} />
          <input aria-label={`Header value ${i + 1}`} className="mono" value={r.value} placeholder="value" onChange={(e) => set(r.id, { value: e.target.value })} />
          <button type="button" className="icon-btn" aria-label={`Remove header ${i + 1}`} onClick={() => onChange(rows.filter((x) => x.id !== r.id))}>
            <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true">
              <path d="M6 6l12 12M18 6L6 18" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
            </svg>
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-small" onClick={() => onChange([...rows, { id: next++, name: '', value: '' }])}>
        + Add header
      </button>
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
