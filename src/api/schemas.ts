// JSON Schemas of the API's answers. Routes declare them as `response` schemas, so they
// drive both the serialisation and the OpenAPI document (which therefore cannot drift).

/** A registered schema's body, to nest it inline (a nested $id would be registered twice). */
function withoutId<T extends { $id: string }>(schema: T): Omit<T, '$id'> {
  const { $id: _id, ...rest } = schema;
  return rest;
}

const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

export const workspaceSchema = {
  $id: 'Workspace',
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    uri: { type: ['string', 'null'] },
    webhooks_enabled: { type: 'boolean', description: 'the Status switch: nothing is sent while false' },
    created_at: time,
    updated_at: time,
  },
  required: ['id', 'name', 'uri', 'webhooks_enabled', 'created_at', 'updated_at'],
} as const;

export const keySchema = {
  $id: 'ApiKey',
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: ['string', 'null'] },
    key: { type: 'string', description: 'only in the answer to its creation' },
    created_at: time,
  },
  required: ['id', 'name', 'created_at'],
} as const;

export const topicSchema = {
  $id: 'Topic',
  type: 'object',
  properties: {
    name: { type: 'string' },
    label: { type: 'string' },
    description: { type: 'string' },
    sample: anyObject,
  },
  required: ['name', 'label', 'description', 'sample'],
} as const;

export const webhookSchema = {
  $id: 'Webhook',
  type: 'object',
  properties: {
    id: { type: 'string' },
    workspace_id: { type: 'string' },
    topic: { type: 'string' },
    url: { type: 'string' },
    prefix: { type: 'string' },
    filter: { type: ['object', 'null'], additionalProperties: true },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    description: { type: ['string', 'null'] },
    enabled: { type: 'boolean' },
    disabled_reason: { type: ['string', 'null'] },
    rate_limit: { type: ['integer', 'null'], description: 'requests per second at most' },
    created_at: time,
    updated_at: time,
  },
  required: ['id', 'workspace_id', 'topic', 'url', 'prefix', 'filter', 'headers', 'description', 'enabled', 'disabled_reason', 'created_at', 'updated_at'],
} as const;

export const acceptedEventSchema = {
  $id: 'AcceptedEvent',
  type: 'object',
  properties: {
    id: { type: 'string' },
    topic: { type: 'string' },
    created_at: time,
    deliveries: { type: 'integer', description: 'how many webhooks it was queued for' },
  },
  required: ['id', 'topic', 'created_at', 'deliveries'],
} as const;

const deliveryProperties = {
  id: { type: 'string' },
  event_id: { type: 'string' },
  webhook_id: { type: 'string' },
  topic: { type: 'string' },
  url: { type: 'string' },
  status: { type: 'string', enum: ['pending', 'succeeded', 'failed', 'cancelled'] },
  attempts: { type: 'integer' },
  next_attempt_at: nullableTime,
  last_status_code: { type: ['integer', 'null'] },
  last_error: { type: ['string', 'null'] },
  created_at: time,
  updated_at: time,
} as const;

export const deliverySchema = {
  $id: 'Delivery',
  type: 'object',
  properties: deliveryProperties,
  required: Object.keys(deliveryProperties) as (keyof typeof deliveryProperties)[],
} as const;

export const attemptSchema = {
  $id: 'Attempt',
  type: 'object',
  properties: {
    number: { type: 'integer' },
    started_at: time,
    duration_ms: { type: 'integer' },
    status_code: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
    response_body: { type: ['string', 'null'], description: 'the first 4 KiB of the answer' },
    request_headers: { type: 'object', additionalProperties: { type: 'string' } },
  },
  required: ['number', 'started_at', 'duration_ms', 'status_code', 'error', 'response_body', 'request_headers'],
} as const;

export const deliveryDetailSchema = {
  $id: 'DeliveryDetail',
  type: 'object',
  properties: { ...deliveryProperties, attempts: { type: 'array', items: withoutId(attemptSchema) } },
  required: Object.keys(deliveryProperties) as (keyof typeof deliveryProperties)[],
} as const;

export const eventSchema = {
  $id: 'Event',
  type: 'object',
  properties: {
    id: { type: 'string' },
    workspace_id: { type: 'string' },
    topic: { type: 'string' },
    data: anyObject,
    created_at: time,
    deliveries: { type: 'integer' },
  },
  required: ['id', 'workspace_id', 'topic', 'data', 'created_at', 'deliveries'],
} as const;

export const eventDetailSchema = {
  $id: 'EventDetail',
  type: 'object',
  properties: { ...eventSchema.properties, deliveries: { type: 'array', items: withoutId(deliverySchema) } },
  required: eventSchema.required,
} as const;

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] },
    },
  },
  required: ['type', 'title', 'status', 'detail'],
} as const;

export const SHARED_SCHEMAS = [
  workspaceSchema, keySchema, topicSchema, webhookSchema, acceptedEventSchema, deliverySchema,
  attemptSchema, deliveryDetailSchema, eventSchema, eventDetailSchema, problemSchema,
];

export const ref = (id: string) => ({ $ref: `${id}#` });
export const listOf = (id: string) => ({
  type: 'object',
  properties: { data: { type: 'array', items: ref(id) }, next_cursor: { type: ['string', 'null'] } },
  required: ['data', 'next_cursor'],
});
