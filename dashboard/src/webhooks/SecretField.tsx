import { useState } from 'react';
import { Field } from '../ui/Field';
import { useWorkspace } from '../workspaces/context';
import { message } from '../ui/errors';

interface Props {
  value: string;
  onChange: (v: string) => void;
  error?: string;
  /** When editing: the webhook whose current secret may be shown. */
  webhookId?: string;
}

/** A random secret in Herald's own format: whsec_ + base64 of 32 random bytes. */
export function generateSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return 'whsec_' + btoa(String.fromCharCode(...bytes));
}

/** "Webhook Secret": optional; receivers find its SHA-256 in x-nector-webhook-secret. */
export function SecretField({ value, onChange, error, webhookId }: Props) {
  const { api, workspace, readOnly } = useWorkspace();
  const [current, setCurrent] = useState<string | null>(null);
  const [revealError, setRevealError] = useState<string | null>(null);

  async function reveal() {
    try {
      setCurrent((await api.webhookSecret(workspace.id, webhookId!)).secret);
    } catch (err) {
      setRevealError(message(err));
    }
  }

  return (
    <Field
      label="Webhook Secret"
      optional
      error={error}
      aside={
        <button type="button" className="link-btn" onClick={() => onChange(generateSecret())}>
          Generate one
        </button>
      }
      hint={
        <>
          <p>
            Any value that suits your business. Every request carries a fingerprint of it in the <code>x-nector-webhook-secret</code>{' '}
            header, so that your receiver can check that the webhook came from you.{' '}
            {webhookId ? 'Leave empty to keep the current secret.' : 'Leave empty and Herald picks a random one.'}
          </p>
          <details className="explain">
            <summary>Technical detail (for your developer)</summary>
            <p>
              <code>x-nector-webhook-secret</code> is the SHA-256 (lowercase hex) of the Webhook Secret. Requests are also signed: an
              HMAC-SHA256 of the body keyed with the secret is in <code>x-nector-webhook-hmac</code>, and a Standard Webhooks signature in{' '}
              <code>webhook-signature</code>.
            </p>
          </details>
          {webhookId && current === null && !readOnly && (
            <button type="button" className="link-btn" onClick={reveal}>
              Show the current secret
            </button>
          )}
          {current !== null && (
            <p>
              Current secret: <code className="secret">{current}</code>
            </p>
          )}
          {revealError && <p className="field-error">{revealError}</p>}
        </>
      }
    >
      {(p) => (
        <input
          {...p}
          className="mono"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          placeholder={webhookId ? 'unchanged' : 'e.g. my-shop-secret'}
          spellCheck={false}
          autoComplete="off"
        />
      )}
    </Field>
  );
}
