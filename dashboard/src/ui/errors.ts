import { ApiError } from '../api/client';

/**
 * The API's field errors (problem+json `errors[].path`) keyed by the form field they name:
 * `filter.amount.$gte` belongs to `filter`, `headers.x-shop` to `headers`. Anything that names
 * no known field, or an error without field errors, is under `_`.
 */
export function fieldErrors(err: unknown, fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(err instanceof ApiError)) {
    out._ = err instanceof Error ? err.message : String(err);
    return out;
  }
  for (const e of err.errors) {
    const root = e.path.split(/[.[]/)[0] ?? '';
    const rest = e.path.slice(root.length).replace(/^\./, '');
    const key = fields.includes(root) ? root : '_';
    const text = key === '_' ? `${e.path}: ${e.message}` : rest ? `${rest}: ${e.message}` : capitalize(e.message);
    out[key] = out[key] ? `${out[key]}; ${text}` : text;
  }
  if (Object.keys(out).length === 0) out._ = err.message;
  return out;
}

function capitalize(s: string) {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
