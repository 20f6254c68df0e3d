// The topic catalog: what events may be published, with a label, a description and a sample body.
import type { FastifyPluginAsync } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import { TOPIC_NAME_PATTERN } from '../../domain/topics.js';
import type { TopicRecord } from '../../store/store.js';
import { resource, serve, type Json } from '../contract.js';
import { badInput } from '../problems.js';
import { anyObject, listOf } from '../schemas.js';

// ---- Schemas and types ----

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

const topicInputSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    label: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 1000 },
    sample: { type: 'object' },
  },
  required: ['name'],
  additionalProperties: false,
} as const;

export type Topic = Json<typeof topicSchema>;
export type TopicInput = FromSchema<typeof topicInputSchema>;

export function presentTopic(t: TopicRecord): Topic {
  return { name: t.name, label: t.label, description: t.description, sample: t.sample };
}

// ---- Contract ----

export const topicApi = resource('topics', {
  list: {
    method: 'GET', url: '/topics', access: 'key', summary: 'List the topic catalog',
    answers: { 200: listOf(topicSchema) },
  },
  put: {
    method: 'POST', url: '/topics', access: 'admin', summary: 'Add a topic (201) or update one (200) (admin)',
    body: topicInputSchema, answers: { 201: topicSchema, 200: topicSchema },
  },
});

// ---- Handlers ----

export function topicRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    serve(app, topicApi.list, async () => ({ data: (await services.store.listTopics()).map(presentTopic), next_cursor: null }));

    serve(app, topicApi.put, async (req, reply) => {
      const { name } = req.body;
      if (!TOPIC_NAME_PATTERN.test(name)) throw badInput('name', 'must be 1 to 128 characters of a-z, 0-9, _ . : -');
      const existed = (await services.store.getTopic(name)) !== null;
      const topic = { name, label: req.body.label ?? name, description: req.body.description ?? '', sample: req.body.sample ?? {} };
      await services.store.putTopic(topic);
      services.topics.forget(name);
      reply.status(existed ? 200 : 201);
      return presentTopic(topic);
    });
  };
}
