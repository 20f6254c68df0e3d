// The JSON Schema pieces that several resources share: times, ids, pagination and the problem
// answer. Each resource's own schemas live in its route file (src/api/routes/<resource>.ts).

export const time = { type: 'string', format: 'date-time' } as const;
export const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
/** A JSON object of any shape (event data, samples, filters). */
export const anyObject = { type: 'object', additionalProperties: true } as const;
/** An ISO 8601 date-time as a request takes it; parseTime (routes/common.ts) checks it. */
export const isoDateTime = { type: 'string', maxLength: 64 } as const;

/** Path parameter schemas: ids are bounded so that odd input is a 404 or a 400, never a 500. */
export const idParam = { type: 'string', minLength: 1, maxLength: 128 } as const;
export const wsParams = {
  type: 'object',
  properties: { ws: idParam },
  required: ['ws'],
} as const;

/** `:ws` and one more id, e.g. withId('id') for /workspaces/:ws/webhooks/:id. */
export function withId<N extends string>(name: N) {
  return {
    type: 'object',
    properties: { ws: idParam, ...({ [name]: idParam } as Record<N, typeof idParam>) },
    required: ['ws', name] as const,
  } as const;
}

export const pageQuery = {
  limit: { type: 'string', description: 'page size, 1 to 500 (default 50)' },
  cursor: { type: 'string', description: 'next_cursor of the previous page' },
} as const;

/** A page of a list: the answer of every list call. */
export function listOf<S extends object>(items: S) {
  return {
    type: 'object',
    properties: { data: { type: 'array', items }, next_cursor: { type: ['string', 'null'] } },
    required: ['data', 'next_cursor'],
  } as const;
}

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

/** The query of a list call: a page, and the filters `extra` names. */
export function listQuery<const P extends object = {}>(extra: P = {} as P) {
  return { type: 'object', properties: { ...pageQuery, ...extra }, additionalProperties: false } as const;
}
