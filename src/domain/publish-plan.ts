// Publishing's rules, pure: which inputs are new and which repeat an earlier event (by the
// caller's id, or by an idempotency key held for 24 hours), the body each new event gets and
// the webhooks it goes to. A store reads what planPublish needs (publishLookups says what),
// calls it, and writes the plan in one transaction; when a workspace or webhook changed
// between its read and its write, it reads and plans again (src/store/replan.ts).
import type { FanOutRules } from './fan-out.js';
import { newId } from './ids.js';
import { arrivesHeld } from './ordering.js';
import type { EventRecord, PublishBatch, PublishInput, PublishOutcome, Webhook, Workspace } from './records.js';

/** How long an idempotency key answers with its event: a repeat within it is not stored again. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/** Whether an event stored at `createdAt` still holds its idempotency key at `now`. */
export function holdsKey(createdAt: number, now: number): boolean {
  return createdAt > now - IDEMPOTENCY_WINDOW_MS;
}

/** A map key for two strings; \n cannot occur in ids, topics or idempotency keys. */
export function pair(a: string, b: string): string {
  return `${a}\n${b}`;
}

/** What a store reads to plan a publish, each list without repeats. */
export interface PublishLookups {
  workspaceIds: string[];
  /** [workspace, topic] published to: their enabled webhooks. */
  topics: [string, string][];
  /** [workspace, id] of the inputs whose id the caller chose: stored events with that id, however old. */
  ids: [string, string][];
  /** [workspace, idempotency key]: the newest stored event holding each, however old. */
  keys: [string, string][];
}

export function publishLookups(batches: readonly PublishBatch[]): PublishLookups {
  const topics = new Map<string, [string, string]>();
  const ids = new Map<string, [string, string]>();
  const keys = new Map<string, [string, string]>();
  for (const { workspaceId: ws, inputs } of batches) {
    for (const input of inputs) {
      topics.set(pair(ws, input.topic), [ws, input.topic]);
      if (input.clientId) ids.set(pair(ws, input.id), [ws, input.id]);
      if (input.idempotencyKey !== null) keys.set(pair(ws, input.idempotencyKey), [ws, input.idempotencyKey]);
    }
  }
  return {
    workspaceIds: [...new Set(batches.map((b) => b.workspaceId))],
    topics: [...topics.values()],
    ids: [...ids.values()],
    keys: [...keys.values()],
  };
}

/** What the store found for the lookups; every map is keyed by pair(). */
export interface PublishState {
  /** The workspaces that exist. */
  workspaces: ReadonlyMap<string, Workspace>;
  /** Enabled webhooks by pair(workspace, topic), oldest first; a pair without any may be missing. */
  webhooks: ReadonlyMap<string, readonly Webhook[]>;
  /** Stored events by pair(workspace, id). */
  eventsById: ReadonlyMap<string, EventRecord>;
  /** The newest stored event holding each key, by pair(workspace, idempotency key). */
  eventsByKey: ReadonlyMap<string, EventRecord>;
}

export interface PlannedDelivery {
  id: string;
  webhookId: string;
  url: string;
  /** Queued held (its webhook is fifo or paused, src/domain/ordering.ts) rather than due now. */
  held: boolean;
}

/** A new event to store, and every outcome that answers with it. */
export interface PlannedEvent {
  event: EventRecord;
  clientId: boolean;
  idempotencyKey: string | null;
  deliveries: PlannedDelivery[];
  /** The first says created; repeats of it within the same call say not. */
  outcomes: PublishOutcome[];
}

export interface PublishPlan {
  /** Per batch, in order; null for a workspace that does not exist. */
  outcomes: (PublishOutcome[] | null)[];
  /** The events to insert, in order, with their deliveries. */
  events: PlannedEvent[];
  /** Stored events whose idempotency key expired and is reused: they give it up before the new event is stored. */
  releaseKeys: { workspaceId: string; eventId: string }[];
}

/** The stored event that `input` repeats: the same client id, else the same idempotency key within the window. */
export function storedRepeat(
  state: Pick<PublishState, 'eventsById' | 'eventsByKey'>,
  workspaceId: string,
  input: Pick<PublishInput, 'id' | 'clientId' | 'idempotencyKey'>,
  now: number,
): EventRecord | null {
  return (input.clientId ? state.eventsById.get(pair(workspaceId, input.id)) : undefined)
    ?? (input.idempotencyKey !== null ? keyHolder(state, workspaceId, input.idempotencyKey, now) : undefined)
    ?? null;
}

function keyHolder(state: Pick<PublishState, 'eventsByKey'>, workspaceId: string, key: string, now: number): EventRecord | undefined {
  const holder = state.eventsByKey.get(pair(workspaceId, key));
  return holder && holdsKey(holder.createdAt, now) ? holder : undefined;
}

/**
 * Decides, input by input in order, what one publish call stores. An input repeats an event
 * stored earlier or earlier in this call (same client id first, then same idempotency key):
 * it answers with that event, created false. A new event gets its body and a delivery to
 * each enabled webhook of its topic whose filter matches, unless the workspace has webhooks
 * switched off.
 */
export function planPublish(
  batches: readonly PublishBatch[],
  state: PublishState,
  rules: FanOutRules,
  now: number,
  deliveryId: () => string = () => newId('dlv', now),
): PublishPlan {
  const byId = new Map<string, PlannedEvent>();
  const byKey = new Map<string, PlannedEvent>();
  const events: PlannedEvent[] = [];
  const releaseKeys: PublishPlan['releaseKeys'] = [];
  const outcomes = batches.map((batch): PublishOutcome[] | null => {
    const workspace = state.workspaces.get(batch.workspaceId);
    if (!workspace) return null;
    const ws = workspace.id;
    return batch.inputs.map((input): PublishOutcome => {
      const key = input.idempotencyKey;
      // By id before by key, and this call's events before stored ones.
      let prior: PlannedEvent | EventRecord | undefined = input.clientId
        ? (byId.get(pair(ws, input.id)) ?? state.eventsById.get(pair(ws, input.id)))
        : undefined;
      if (!prior && key !== null) prior = byKey.get(pair(ws, key)) ?? keyHolder(state, ws, key, now);
      if (prior && 'outcomes' in prior) {
        const outcome = { event: { ...prior.event }, created: false };
        prior.outcomes.push(outcome);
        return outcome;
      }
      if (prior) return { event: { ...prior }, created: false };

      const { body, addedFields } = rules.body(workspace, input.data, input.dataJson);
      const candidates = workspace.webhooksEnabled ? (state.webhooks.get(pair(ws, input.topic)) ?? []) : [];
      const deliveries = planDeliveries(candidates, body, rules, deliveryId);
      const event: EventRecord = {
        id: input.id, workspaceId: ws, topic: input.topic, body, addedFields, createdAt: now, deliveries: deliveries.length,
        traceparent: input.traceparent ?? null,
      };
      const outcome = { event: { ...event }, created: true };
      const planned: PlannedEvent = { event, clientId: input.clientId, idempotencyKey: key, deliveries, outcomes: [outcome] };
      byId.set(pair(ws, input.id), planned);
      if (key !== null) {
        byKey.set(pair(ws, key), planned);
        // A stored holder here is one whose key has expired.
        const holder = state.eventsByKey.get(pair(ws, key));
        if (holder) releaseKeys.push({ workspaceId: ws, eventId: holder.id });
      }
      events.push(planned);
      return outcome;
    });
  });
  return { outcomes, events, releaseKeys };
}

/** The deliveries of an event (its body) to the webhooks whose filter lets it through, in the webhooks' order. */
export function planDeliveries(
  webhooks: readonly Webhook[],
  body: string,
  rules: Pick<FanOutRules, 'matches'>,
  deliveryId: () => string,
): PlannedDelivery[] {
  const deliveries: PlannedDelivery[] = [];
  for (const w of webhooks) {
    if (rules.matches(w, body)) deliveries.push({ id: deliveryId(), webhookId: w.id, url: w.url, held: arrivesHeld(w) });
  }
  return deliveries;
}

/** The webhooks of held deliveries: their turns are locked before queueing them and settled after (src/domain/ordering.ts). */
export function heldWebhooks(deliveries: readonly PlannedDelivery[]): string[] {
  return [...new Set(deliveries.filter((d) => d.held).map((d) => d.webhookId))];
}

/** Points every outcome of a planned event at the event that was stored first by someone else (a lost race). */
export function answerWith(planned: PlannedEvent, winner: EventRecord): void {
  for (const outcome of planned.outcomes) {
    outcome.event = { ...winner };
    outcome.created = false;
  }
}
