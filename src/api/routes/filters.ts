import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.js';
import { compileFilter, validateFilter } from '../../domain/filter.js';
import { HttpError } from '../problems.js';

/** Tries a filter against a body without saving anything: the dashboard's "would match". */
export function filterRoutes(_services: Services): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Body: { filter: Record<string, unknown> | null; data: unknown } }>('/filters/test', {
      schema: {
        body: {
          type: 'object',
          properties: { filter: { type: ['object', 'null'] }, data: {} },
          required: ['filter', 'data'],
          additionalProperties: false,
        },
      },
    }, async (req) => {
      const faults = validateFilter(req.body.filter);
      if (faults.length > 0) {
        const errors = faults.map((f) => ({ path: f.path ? `filter.${f.path}` : 'filter', message: f.message }));
        throw new HttpError(400, errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
      }
      return { matches: compileFilter(req.body.filter)(req.body.data) };
    });
  };
}
