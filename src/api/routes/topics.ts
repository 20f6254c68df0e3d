// The topic catalog: what events may be published, with a label, a description, a sample body
// and, optionally, a JSON Schema (draft 2020-12) that every event's data must satisfy.
import type { FastifyPluginAsync } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import { compileSchema } from '../../domain/topic-schema.js';
import { TOPIC_NAME_PATTERN } from '../../domain/topics.js';
import type { TopicRecord } from '../../store/store.js';
import { resource, serve, type Json } from '../contract.js';
import { badInput, HttpError, notFound } from '../problems.js';
import { anyObject, idParam, listOf } from '../schemas.js';

// ---- Schemas and types ----

const schemaField = {
  type: ['object', 'null'],
  additionalProperties: true,
  description: "a JSON Schema (draft 2020-12) that each event's data must satisfy; null: none",
} as const;

export const topicSchema = {
  $id: 'Topic',
  type: 'object',
  properties: {
    name: { type: 'string' },
    label: { type: 'string' },
    description: { type: 'string' },
    sample: anyObject,
    schema: schemaField,
  },
  required: ['name', 'label', 'description', 'sample', 'schema'],
} as const;

const topicFields = {
  label: { type: 'string', minLength: 1, maxLength: 200 },
  description: { type: 'string', maxLength: 1000 },
  sample: { type: 'object' },
  schema: { type: ['object', 'null'] },
} as const;

const topicInputSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, ...topicFields },
  required: ['name'],
  additionalProperties: false,
} as const;

const topicPatchSchema = { type: 'object', properties: topicFields, additionalProperties: false } as const;

const byName = { type: 'object', properties: { name: idParam }, required: ['name'] } as const;

export type Topic = Json<typeof topicSchema>;
export type TopicInput = FromSchema<typeof topicInputSchema>;
export type TopicPatch = FromSchema<typeof topicPatchSchema>;

export function presentTopic(t: TopicRecord): Topic {
  return { name: t.name, label: t.label, description: t.description, sample: t.sample, schema: t.schema ?? null };
}

// ---- Contract ----

export const topicApi = resource('topics', {
  list: {
    method: 'GET', url: '/topics', access: 'key', summary: 'List the topic catalog',
    answers: { 200: listOf(topicSchema) },
  },
  get: {
    method: 'GET', url: '/topics/:name', access: 'key', summary: 'Get a topic, with its schema',
    params: byName, answers: { 200: topicSchema },
  },
  put: {
    method: 'POST', url: '/topics', access: 'admin', summary: 'Add a topic (201) or replace one (200) (admin)',
    body: topicInputSchema, answers: { 201: topicSchema, 200: topicSchema },
  },
  update: {
    method: 'PATCH', url: '/topics/:name', access: 'admin', summary: "Change a topic's label, description, sample or schema (null clears it) (admin)",
    params: byName, body: topicPatchSchema, answers: { 200: topicSchema },
  },
});

// ---- Handlers ----

/** Refuses a schema that does not compile, with the path of each fault (`schema.properties.amount.type`). */
function checkSchema(schema: unknown): void {
  if (schema == null) return;
  const compiled = compileSchema(schema);
  if (!compiled.ok) throw new HttpError(400, compiled.errors.map((e) => `${e.path}: ${e.message}`).join('; '), compiled.errors);
}

export function topicRoutes(services: Services): FastifyPluginAsync {
  const { store } = services;

  async function save(topic: TopicRecord): Promise<TopicRecord> {
    checkSchema(topic.schema);
    const saved = await store.putTopic(topic);
    // This node publishes with the new topic at once; others within TOPIC_TTL_MS (topic-cache.ts).
    services.topics.forget(topic.name);
    return saved;
  }

  return async (app) => {
    serve(app, topicApi.list, async () => ({ data: (await store.listTopics()).map(presentTopic), next_cursor: null }));

    serve(app, topicApi.get, async (req) => {
      const topic = await store.getTopic(req.params.name);
      if (!topic) throw notFound(`topic ${req.params.name}`);
      return presentTopic(topic);
    });

    serve(app, topicApi.put, async (req, reply) => {
      const { name } = req.body;
      if (!TOPIC_NAME_PATTERN.test(name)) throw badInput('name', 'must be 1 to 128 characters of a-z, 0-9, _ . : -');
      const existed = (await store.getTopic(name)) !== null;
      const b = req.body;
      const topic = await save({ name, label: b.label ?? name, description: b.description ?? '', sample: b.sample ?? {}, schema: b.schema ?? null });
      reply.status(existed ? 200 : 201);
      return presentTopic(topic);
    });

    serve(app, topicApi.update, async (req) => {
      const current = await store.getTopic(req.params.name);
      if (!current) throw notFound(`topic ${req.params.name}`);
      const b = req.body;
      const topic = await save({
        ...current,
        label: b.label ?? current.label,
        description: b.description ?? current.description,
        sample: b.sample ?? current.sample,
        schema: b.schema === undefined ? current.schema : b.schema,
      });
      return presentTopic(topic);
    });
  };
}
