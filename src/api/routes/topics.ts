import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.js';
import { TOPIC_NAME_PATTERN } from '../../domain/topics.js';
import { requireAdmin } from '../auth.js';
import { badInput } from '../problems.js';
import { presentTopic } from '../present.js';

export function topicRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/topics', async () => ({ data: (await services.store.listTopics()).map(presentTopic), next_cursor: null }));

    app.post<{ Body: { name: string; label?: string; description?: string; sample?: Record<string, unknown> } }>('/topics', {
      schema: {
        body: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            label: { type: 'string', minLength: 1, maxLength: 200 },
            description: { type: 'string', maxLength: 1000 },
            sample: { type: 'object' },
          },
          required: ['name'],
          additionalProperties: false,
        },
      },
    }, async (req, reply) => {
      requireAdmin(req);
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
