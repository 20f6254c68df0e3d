import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { Webhook, WebhookInput } from '../api/types';
import { useWorkspace } from '../workspaces/context';
import { Dialog, ConfirmDialog } from '../ui/Dialog';
import { Field, TextField } from '../ui/Field';
import { EventPicker } from './EventPicker';
import { SecretField } from './SecretField';
import { FilterBuilder, type FilterState } from '../filters/FilterBuilder';
import { MatchPreview } from '../filters/MatchPreview';
import { HeadersEditor, headerRows, headersObject, type HeaderRow } from './HeadersEditor';
import { Switch } from '../ui/Switch';
import { fieldErrors, fieldList, message, technicalDetail } from '../ui/errors';
import { WEBHOOK_WORDS } from './words';
import { useNotify } from '../ui/Toasts';

interface Props {
  /** The webhook to edit; none to create one. */
  webhook?: Webhook;
  onClose: () => void;
}

const ADDED_FIELDS = ['business_name', 'business_uri'];

/** The popup of the "Send Webhooks" tab: create a webhook, or edit (and delete) one. */
export function WebhookDialog({ webhook, onClose }: Props) {
  const { api, workspace, topics, reloadWebhooks } = useWorkspace();
  const notify = useNotify();
  const editing = !!webhook;
  const [topic, setTopic] = useState(webhook?.topic ?? '');
  const [url, setUrl] = useState(webhook?.url ?? '');
  const [secret, setSecret] = useState('');
  const [prefix, setPrefix] = useState(webhook?.prefix ?? '');
  const [filter, setFilter] = useState<FilterState>({ filter: webhook?.filter ?? null, invalid: null });
  const [description, setDescription] = useState(webhook?.description ?? '');
  const [enabled, setEnabled] = useState(webhook?.enabled ?? true);
  const [headers, setHeaders] = useState<HeaderRow[]>(() => headerRows(webhook?.headers ?? {}));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [technical, setTechnical] = useState<string[]>([]);
  // Bumped by each refused save, so that focus goes to the first field to fix (see below).
  const [refused, setRefused] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const enabledId = useId();
  const filterErrorId = useId();
  const selected = topics.find((t) => t.name === topic);

  /** A setter that also clears the field's error once the user changes it. */
  function edit<T>(field: string, set: (v: T) => void) {
    return (v: T) => {
      set(v);
      setErrors((e) => {
        if (!(field in e)) return e;
        const { [field]: _gone, ...rest } = e;
        return rest;
      });
    };
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const local: Record<string, string> = {};
    if (!topic) local.topic = 'Choose the event on which this webhook is sent.';
    if (!url.trim()) local.url = 'Enter the Webhook Uri: the address that receives the webhook, such as https://example.com/webhooks.';
    if (filter.invalid) local.filter = filter.invalid;
    setErrors(local);
    setTechnical([]);
    if (Object.keys(local).length > 0) {
      setRefused((n) => n + 1);
      return;
    }
    const body: WebhookInput = {
      topic,
      url: url.trim(),
      prefix: prefix.trim(),
      filter: filter.filter,
      headers: headersObject(headers),
      description: description.trim() || null,
      enabled,
    };
    if (secret) body.secret = secret;
    setBusy(true);
    try {
      if (webhook) await api.updateWebhook(workspace.id, webhook.id, body);
      else await api.createWebhook(workspace.id, body);
      await reloadWebhooks();
      notify(webhook ? 'Webhook updated' : 'Webhook created');
      onClose();
    } catch (err) {
      setErrors(fieldErrors(err, WEBHOOK_WORDS));
      setTechnical(technicalDetail(err));
      setRefused((n) => n + 1);
      setBusy(false);
    }
  }

  // After a refused save, the first problem in the form (not the last one the user scrolled to)
  // gets the focus and is scrolled into view: its field's control, or the message at the top.
  useEffect(() => {
    const form = formRef.current;
    if (!refused || !form) return;
    const first = [...form.querySelectorAll<HTMLElement>('.form-error, .field-error')].find((e) => !e.closest('.preview'));
    if (!first) return;
    const box = first.closest<HTMLElement>('.field, fieldset') ?? first;
    const control = box === first ? null : box.querySelector<HTMLElement>('[aria-invalid="true"], input, select, textarea');
    box.scrollIntoView({ block: 'start' });
    if (control) control.focus({ preventScroll: true });
    else {
      first.tabIndex = -1;
      first.focus({ preventScroll: true });
    }
  }, [refused]);

  async function remove() {
    setBusy(true);
    try {
      await api.deleteWebhook(workspace.id, webhook!.id);
      await reloadWebhooks();
      notify('Webhook deleted');
      onClose();
    } catch (err) {
      setDeleteError(message(err));
      setBusy(false);
    }
  }

  const formId = useId();
  return (
    <Dialog
      title={editing ? 'Edit webhook' : 'Create webhook'}
      subtitle={editing ? <code>{webhook.id}</code> : 'Send an event of this workspace to your Webhook Uri.'}
      onClose={onClose}
      size="large"
      actions={
        editing && (
          <button type="button" className="btn btn-danger-outline" onClick={() => setConfirming(true)}>
            Delete
          </button>
        )
      }
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="btn btn-primary" disabled={busy}>
            {editing ? 'Update' : 'Create'}
          </button>
        </>
      }
    >
      <form id={formId} ref={formRef} onSubmit={submit} noValidate className="webhook-form">
        {errors._ && (
          <p className="form-error" role="alert">
            {errors._}
          </p>
        )}
        {Object.keys(errors).length > 0 && !errors._ && (
          <p className="form-summary" role="alert">
            Some fields need attention: {fieldList(errors, WEBHOOK_WORDS)}.
          </p>
        )}
        {technical.length > 0 && (
          <details className="explain technical">
            <summary>Technical detail of the errors (for your developer)</summary>
            <ul>
              {technical.map((t) => (
                <li key={t} className="mono">{t}</li>
              ))}
            </ul>
          </details>
        )}
        <EventPicker topics={topics} value={topic} onChange={edit('topic', setTopic)} error={errors.topic} />
        <TextField
          label="Webhook Uri"
          type="url"
          mono
          value={url}
          onChange={edit('url', setUrl)}
          error={errors.url}
          placeholder="https://example.com/webhooks/nector"
          hint="The address of your server that receives the webhook. It must answer within 10 seconds with a success status (200 to 299); otherwise the webhook is sent again later."
        />
        <SecretField value={secret} onChange={edit('secret', setSecret)} error={errors.secret} webhookId={webhook?.id} />
        <TextField
          label="Topic Prefix"
          optional
          mono
          value={prefix}
          onChange={edit('prefix', setPrefix)}
          error={errors.prefix}
          placeholder="e.g. shop1_"
          hint={
            <>
              Added in front of the topic that your receiver sees in <code>x-nector-topic</code>:{' '}
              <code>{(prefix.trim() || '') + (topic || 'walletreward_create')}</code>. Up to 64 letters, digits, <code>_ . : -</code>.
            </>
          }
        />
        <FilterBuilder
          key={topic}
          initial={filter.filter}
          topic={selected}
          extraFields={ADDED_FIELDS}
          onChange={edit('filter', setFilter)}
          error={errors.filter}
          errorId={filterErrorId}
        />
        <MatchPreview filter={filter.filter} invalid={filter.invalid} topic={selected} />
        <details className="more" open={!!(errors.headers || errors.description || headers.length > 0 || webhook?.description)}>
          <summary>More options</summary>
          <div className="switch-field">
            <span id={enabledId}>Enabled</span>
            <Switch id={`${enabledId}-switch`} checked={enabled} onChange={setEnabled} labelledBy={enabledId} />
            <span className="hint">{enabled ? 'Events are sent to this webhook.' : 'Paused: events are not sent to this webhook.'}</span>
          </div>
          {webhook?.disabled_reason && <p className="notice">Herald switched it off: {webhook.disabled_reason}</p>}
          <Field label="Description" optional error={errors.description}>
            {(p) => <input {...p} value={description} onChange={(e) => edit('description', setDescription)(e.target.value)} placeholder="What this webhook is for" />}
          </Field>
          <HeadersEditor rows={headers} onChange={edit('headers', setHeaders)} error={errors.headers} />
        </details>
      </form>
      {confirming && (
        <ConfirmDialog
          title="Delete this webhook?"
          confirmLabel="Delete"
          danger
          busy={busy}
          error={deleteError}
          onConfirm={remove}
          onCancel={() => setConfirming(false)}
        >
          <p>
            <strong>{selected?.label ?? topic}</strong> to <code>{url}</code> will stop at once. Its deliveries that are still waiting are cancelled. This
            cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </Dialog>
  );
}
