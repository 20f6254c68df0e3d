interface Props {
  id: string;
  checked: boolean;
  onChange: (on: boolean) => void;
  disabled?: boolean;
  /** The id of the element that names the switch (its visible label). */
  labelledBy: string;
  describedBy?: string;
}

/** An on/off switch (role="switch"); Space and Enter toggle it, as on any button. */
export function Switch({ id, checked, onChange, disabled, labelledBy, describedBy }: Props) {
  return (
    <button
      id={id}
      type="button"
      role="switch"
      aria-checked={checked}
      aria-labelledby={labelledBy}
      aria-describedby={describedBy}
      disabled={disabled}
      className="switch"
      onClick={() => onChange(!checked)}
    >
      <span className="switch-thumb" aria-hidden="true" />
      <span className="switch-text" aria-hidden="true">
        {checked ? 'On' : 'Off'}
      </span>
    </button>
  );
}
