import { CLIENT_ID_PATTERN, newId } from '../domain/ids.js';
import type { PublishInput } from '../store/store.js';
import type { TopicCache } from './topic-cache.js';

/** Faults listed at most in one refusal. */
const MAX_ERRORS = 100;

export interface EventInput {
  topic: string;
  data: Record<string, unknown>;
  id?: string;
}

/** An event that cannot be published: 400 for bad fields, 413 for an oversized `data`. */
export class EventRejected extends Error {
  constructor(
    readonly status: 400 | 413,
    readonly errors: { path: string; message: string }[],
  ) {
    super(errors.map((e) => `${e.path}: ${e.message}`).slice(0, 20).join('; '));
  }
}

/**
 * Checks what the request schema cannot (the topic is in the catalog, the id's form, the size
 * of `data`, `data` against the topic's schema) for the HTTP API and for in-process publishing
 * alike. `paths` names each event's position in the request ("" for a single event,
 * "events[3]." in a batch). Any fault refuses every event of the call. `traceparent` (already
 * normalised, or null) is kept with each event.
 */
export async function prepareEvents(
  topics: TopicCache,
  maxPayloadBytes: number,
  events: readonly EventInput[],
  idempotencyKey: string | null,
  paths: (index: number) => string,
  traceparent: string | null = null,
): Promise<PublishInput[]> {
  const errors: { path: string; message: string }[] = [];
  const inputs: PublishInput[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const path = paths(i);
    const topic = typeof e.topic === 'string' ? await topics.get(e.topic) : null;
    if (!topic) errors.push({ path: `${path}topic`, message: `"${e.topic}" is not in the topic catalog (GET /api/v1/topics)` });
    if (e.id !== undefined && (typeof e.id !== 'string' || !CLIENT_ID_PATTERN.test(e.id))) {
      errors.push({ path: `${path}id`, message: 'must be 1 to 64 letters, digits, _ or -' });
    }
    if (e.data === null || typeof e.data !== 'object' || Array.isArray(e.data)) {
      errors.push({ path: `${path}data`, message: 'must be a JSON object' });
      continue;
    }
    const dataJson = JSON.stringify(e.data);
    const size = Buffer.byteLength(dataJson);
    if (size > maxPayloadBytes) {
      throw new EventRejected(413, [{ path: `${path}data`, message: `is ${size} bytes, larger than ${maxPayloadBytes} (HERALD_MAX_PAYLOAD_BYTES)` }]);
    }
    // The topic's schema (contract section 9): each fault's path is "data…", after the event's place.
    const validate = topic ? topics.validator(topic) : null;
    if (validate) for (const fault of validate(e.data)) errors.push({ path: path + fault.path, message: fault.message });
    inputs.push({ id: e.id ?? newId('evt'), clientId: e.id !== undefined, idempotencyKey, topic: e.topic, data: e.data, dataJson, traceparent });
  }
  // A batch of bad events could list thousands of faults; the first ones are enough to fix it.
  if (errors.length > 0) throw new EventRejected(400, errors.slice(0, MAX_ERRORS));
  return inputs;
}
