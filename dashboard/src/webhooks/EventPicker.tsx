import type { Topic } from '../api/types';
import { MOST_USED } from '../workspaces/context';
import { Field } from '../ui/Field';

interface Props {
  topics: Topic[];
  value: string;
  onChange: (name: string) => void;
  error?: string;
}

/** "Event": every topic by its label, the two most used first, each with when it is sent. */
export function EventPicker({ topics, value, onChange, error }: Props) {
  const popular = MOST_USED.map((n) => topics.find((t) => t.name === n)).filter((t): t is Topic => !!t);
  const others = topics.filter((t) => !MOST_USED.includes(t.name));
  const selected = topics.find((t) => t.name === value);

  return (
    <div className="event-picker">
      <div className="popular" role="group" aria-labelledby="popular-title">
        <p id="popular-title" className="popular-title">
          Not sure which to choose? The two most used:
        </p>
        <div className="popular-cards">
          {popular.map((t) => (
            <button key={t.name} type="button" className="popular-card" aria-pressed={t.name === value} onClick={() => onChange(t.name)}>
              <span className="popular-label">{t.label}</span>
              <span className="popular-desc">{t.description}</span>
            </button>
          ))}
        </div>
      </div>
      <Field
        label="Event"
        error={error}
        hint={
          selected ? (
            <>
              <strong>{selected.label}</strong> ({<code>{selected.name}</code>}): {selected.description}
            </>
          ) : (
            'Choose the event on which this webhook is sent.'
          )
        }
      >
        {(p) => (
          <select {...p} value={value} onChange={(e) => onChange(e.target.value)} data-autofocus="">
            <option value="" disabled>
              Choose an event…
            </option>
            <optgroup label="Most used">
              {popular.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.label}
                </option>
              ))}
            </optgroup>
            <optgroup label="All events">
              {others.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.label}
                </option>
              ))}
            </optgroup>
          </select>
        )}
      </Field>
    </div>
  );
}
