import { useId, type ReactNode } from 'react';

export interface ControlProps {
  id: string;
  'aria-describedby'?: string;
  'aria-invalid'?: true;
}

interface FieldProps {
  label: ReactNode;
  optional?: boolean;
  hint?: ReactNode;
  error?: string;
  /** Extra content at the right of the label row (e.g. a "Generate" button). */
  aside?: ReactNode;
  children: (control: ControlProps) => ReactNode;
}

/** A label, its control, a hint and the API's error for it, tied together for screen readers. */
export function Field({ label, optional, hint, error, aside, children }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <div className="label-row">
        <label htmlFor={id}>
          {label}
          {optional && <span className="optional"> (optional)</span>}
        </label>
        {aside}
      </div>
      {children({ id, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined })}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
      {hint && (
        <div id={hintId} className="hint">
          {hint}
        </div>
      )}
    </div>
  );
}

interface TextFieldProps {
  label: string;
  value: string;
  onChange: (v: string) => void;
  optional?: boolean;
  hint?: ReactNode;
  error?: string;
  placeholder?: string;
  type?: string;
  mono?: boolean;
  autoFocus?: boolean;
  aside?: ReactNode;
}

export function TextField({ label, value, onChange, optional, hint, error, placeholder, type = 'text', mono, autoFocus, aside }: TextFieldProps) {
  return (
    <Field label={label} optional={optional} hint={hint} error={error} aside={aside}>
      {(p) => (
        <input
          {...p}
          type={type}
          className={mono ? 'mono' : undefined}
          value={value}
          placeholder={placeholder}
          spellCheck={false}
          autoComplete="off"
          data-autofocus={autoFocus ? '' : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}
