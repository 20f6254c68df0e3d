import { useId, useState, type FormEvent } from 'react';
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
import { fieldErrors, message } from '../ui/errors';
import { useNotify } from '../ui/Toasts';

interface Props {
  /** The webhook to edit; none to create one. */
  webhook?: Webhook;
  onClose: () => void;
}

const FIELDS = ['topic', 'url', 'secret', 'prefix', 'filter', 'headers', 'description', 'enabled'];
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
    if (!url.trim()) local.url = 'Enter the URL that receives the webhook, such as https://example.com/webhooks.';
    if (filter.invalid) local.filter = filter.invalid;
    setErrors(local);
    if (Object.keys(local).length > 0) return;
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
      setErrors(fieldErrors(err, FIELDS));
      setBusy(false);
    }
  }

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
      subtitle={editing ? <code>{webhook.id}</code> : 'Send an event of this workspace to your URL.'}
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
      <form id={formId} onSubmit={submit} noValidate className="webhook-form">
        {errors._ && (
          <p className="form-error" role="alert">
            {errors._}
          </p>
        )}
        {Object.keys(errors).length > 0 && !errors._ && (
          <p className="sr-only" role="alert">
            Some fields need attention: {Object.keys(errors).join(', ')}.
          </p>
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
          hint="Herald sends a POST request here. It has 10 seconds to answer with a 2xx status; otherwise it is retried."
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
