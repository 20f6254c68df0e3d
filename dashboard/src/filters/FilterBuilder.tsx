import { useId, useMemo, useState } from 'react';
import type { Topic, Webhook } from '../api/types';
import { OPERATORS, fromFilter, needsValue, newRow, samplePaths, toFilter, type Model, type Op, type Row, type ValueType } from './filterModel';
import { schemaPaths } from './schemaFields';

export interface FilterState {
  filter: Webhook['filter'];
  /** Set while the JSON text cannot be read: the filter above is then the last good one. */
  invalid: string | null;
}

interface Props {
  initial: Webhook['filter'];
  topic: Topic | undefined;
  /** The body fields Herald adds to every event. */
  extraFields: string[];
  onChange: (s: FilterState) => void;
  error?: string;
  errorId?: string;
}

/** Rows of field, operator and value, all or any of them, and the same filter as raw JSON. */
export function FilterBuilder({ initial, topic, extraFields, onChange, error, errorId }: Props) {
  const fields = useMemo(() => {
    // The topic's schema says best what its events hold; its sample adds what the schema leaves open.
    const list = schemaPaths(topic?.schema);
    for (const f of samplePaths(topic?.sample ?? {})) if (!list.some((x) => x.path === f.path)) list.push(f);
    for (const f of extraFields) if (!list.some((x) => x.path === f)) list.push({ path: f, type: 'string', example: '' });
    return list;
  }, [topic, extraFields]);
  const types = useMemo(() => Object.fromEntries(fields.map((f) => [f.path, f.type])) as Record<string, ValueType>, [fields]);

  const [model, setModel] = useState<Model | null>(() => fromFilter(initial, types));
  const [view, setView] = useState<'rows' | 'json'>(() => (fromFilter(initial, types) ? 'rows' : 'json'));
  const [text, setText] = useState(() => pretty(initial));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const listId = useId();
  const jsonId = useId();

  function updateRows(next: Model) {
    setModel(next);
    const filter = toFilter(next, types);
    setText(pretty(filter));
    setJsonError(null);
    onChange({ filter, invalid: null });
  }

  function updateText(next: string) {
    setText(next);
    let parsed: unknown;
    try {
      parsed = next.trim() === '' ? null : JSON.parse(next);
    } catch (err) {
      const why = `The JSON cannot be read: ${err instanceof Error ? err.message : String(err)}`;
      setJsonError(why);
      onChange({ filter: null, invalid: why });
      return;
    }
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      const why = 'A filter is a JSON object, such as {"amount": {"$gte": 100}}, or empty.';
      setJsonError(why);
      onChange({ filter: null, invalid: why });
      return;
    }
    const filter = parsed && Object.keys(parsed).length > 0 ? (parsed as Webhook['filter']) : null;
    setJsonError(null);
    setModel(fromFilter(filter, types));
    onChange({ filter, invalid: null });
  }

  const rows = model?.rows ?? [];
  const setRow = (id: number, patch: Partial<Row>) => model && updateRows({ ...model, rows: rows.map((r) => (r.id === id ? { ...r, ...patch } : r)) });

  return (
    <fieldset className="filters" aria-describedby={errorId}>
      <legend>Filters</legend>
      <div className="filters-head">
        <p className="hint">Send this webhook only for events whose body matches. No conditions: every event is sent.</p>
        <div className="segmented" role="group" aria-label="Filter view">
          <button type="button" aria-pressed={view === 'rows'} onClick={() => setView('rows')}>
            Conditions
          </button>
          <button type="button" aria-pressed={view === 'json'} onClick={() => setView('json')}>
            JSON
          </button>
        </div>
      </div>

      {view === 'rows' && !model && (
        <p className="notice">This filter uses a shape that the condition rows cannot show (nesting, $not …). Edit it as JSON, or clear the JSON to start over with rows.</p>
      )}

      {view === 'rows' && model && (
        <div className="filter-rows">
          {rows.length > 1 && (
            <div className="filter-mode">
              <label htmlFor={`${listId}-mode`}>Send when</label>
              <select id={`${listId}-mode`} value={model.mode} onChange={(e) => updateRows({ ...model, mode: e.target.value as Model['mode'] })}>
                <option value="all">all of these hold</option>
                <option value="any">any of these holds</option>
              </select>
            </div>
          )}
          {rows.map((r, i) => (
            <div className="filter-row" key={r.id}>
              <span className="row-join" aria-hidden="true">{i === 0 ? 'Where' : model.mode === 'any' ? 'or' : 'and'}</span>
              <input
                aria-label={`Field ${i + 1}`}
                className="mono"
                list={listId}
                value={r.field}
                placeholder="field, e.g. amount"
                spellCheck={false}
                autoComplete="off"
                onChange={(e) => setRow(r.id, { field: e.target.value })}
              />
              <select aria-label={`Operator ${i + 1}`} value={r.op} onChange={(e) => setRow(r.id, { op: e.target.value as Op })}>
                {OPERATORS.map((o) => (
                  <option key={o.op} value={o.op}>
                    {o.label}
                  </option>
                ))}
              </select>
              {needsValue(r.op) ? (
                <input
                  aria-label={`Value ${i + 1}`}
                  value={r.value}
                  placeholder={r.op === 'in' || r.op === 'nin' ? 'a, b, c' : valueHint(types[r.field])}
                  spellCheck={false}
                  autoComplete="off"
                  onChange={(e) => setRow(r.id, { value: e.target.value })}
                />
              ) : (
                <span className="row-novalue" />
              )}
              <button type="button" className="icon-btn" aria-label={`Remove condition ${i + 1}`} onClick={() => updateRows({ ...model, rows: rows.filter((x) => x.id !== r.id) })}>
                <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true">
                  <path d="M6 6l12 12M18 6L6 18" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
                </svg>
              </button>
            </div>
          ))}
          <button type="button" className="btn btn-small" onClick={() => updateRows({ ...model, rows: [...rows, newRow()] })}>
            + Add condition
          </button>
          <datalist id={listId}>
            {fields.map((f) => (
              <option key={f.path} value={f.path}>
                {f.example}
              </option>
            ))}
          </datalist>
        </div>
      )}

      {view === 'json' && (
        <div className="field">
          <label htmlFor={jsonId}>Filter as JSON</label>
          <textarea
            id={jsonId}
            className="mono"
            rows={6}
            spellCheck={false}
            value={text}
            placeholder='{"amount": {"$gte": 100}}'
            aria-invalid={jsonError ? true : undefined}
            onChange={(e) => updateText(e.target.value)}
          />
          {jsonError && <p className="field-error">{jsonError}</p>}
          <p className="hint">
            Operators: $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $regex, $startsWith, $endsWith, $contains, $and, $or, $not. A dotted field such as
            "metadetail.country" reaches inside objects.
          </p>
        </div>
      )}

      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}

function pretty(filter: Webhook['filter']): string {
  return filter && Object.keys(filter).length > 0 ? JSON.stringify(filter, null, 2) : '';
}

function valueHint(type: ValueType | undefined): string {
  if (type === 'number') return 'a number';
  if (type === 'boolean') return 'true or false';
  return 'value';
}
