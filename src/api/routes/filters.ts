// Tries a filter against a body without saving anything: the dashboard's "would match".
import type { FastifyPluginAsync } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Services } from '../../services.js';
import { compileFilter, validateFilter } from '../../domain/filter.js';
import { resource, serve, type Json } from '../contract.js';
import { HttpError } from '../problems.js';

const filterTestSchema = {
  type: 'object',
  properties: { filter: { type: ['object', 'null'] }, data: {} },
  required: ['filter', 'data'],
  additionalProperties: false,
} as const;

const filterResultSchema = { type: 'object', properties: { matches: { type: 'boolean' } }, required: ['matches'] } as const;

export type FilterTest = FromSchema<typeof filterTestSchema>;
export type FilterResult = Json<typeof filterResultSchema>;

export const filterApi = resource('filters', {
  test: {
    method: 'POST', url: '/filters/test', access: 'key', portal: 'read', summary: 'Try a filter against a body',
    body: filterTestSchema, answers: { 200: filterResultSchema },
  },
});

export function filterRoutes(_services: Services): FastifyPluginAsync {
  return async (app) => {
    serve(app, filterApi.test, async (req) => {
      const faults = validateFilter(req.body.filter);
      if (faults.length > 0) {
        const errors = faults.map((f) => ({ path: f.path ? `filter.${f.path}` : 'filter', message: f.message }));
        throw new HttpError(400, errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
      }
      return { matches: compileFilter(req.body.filter)(req.body.data) };
    });
  };
}
