import { ApiError } from '../api/client';

/** How a form names its fields to the person filling it in. */
export interface FormWords {
  /** The API's field names with the labels the form shows: { url: 'Webhook Uri' }. */
  labels: Record<string, string>;
  /**
   * The API's message for a field in plain words; `rest` is the path below the field
   * (`amount.$gte` for `filter.amount.$gte`). Without it: "rest: message".
   */
  explain?: (field: string, rest: string, message: string) => string;
}

/**
 * The API's field errors (problem+json `errors[].path`) keyed by the form field they name, in
 * plain words: `filter.amount.$gte` belongs to `filter`, `headers.x-shop` to `headers`. Anything
 * that names no known field, or an error without field errors, is under `_`.
 */
export function fieldErrors(err: unknown, words: FormWords): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(err instanceof ApiError)) {
    out._ = err instanceof Error ? err.message : String(err);
    return out;
  }
  for (const e of err.errors) {
    const root = e.path.split(/[.[]/)[0] ?? '';
    const rest = e.path.slice(root.length).replace(/^\./, '');
    const known = Object.hasOwn(words.labels, root);
    // A message about the field itself starts the sentence; one about a part of it starts with that part's name.
    const plain = words.explain?.(root, rest, e.message) ?? (rest ? `${rest}: ${e.message}` : e.message);
    const text = !known ? `${e.path}: ${e.message}` : rest ? plain : capitalize(plain);
    const key = known ? root : '_';
    out[key] = out[key] ? `${out[key]}; ${text}` : text;
  }
  if (Object.keys(out).length === 0) out._ = err.message;
  return out;
}

/** "Webhook Uri and Topic Prefix": the fields that have an error, by their labels. */
export function fieldList(errors: Record<string, string>, words: FormWords): string {
  const names = Object.keys(errors).filter((k) => k !== '_').map((k) => words.labels[k] ?? k);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The API's own words for each field error, "filter.amount.$gte: must be a number", for a disclosure. */
export function technicalDetail(err: unknown): string[] {
  return err instanceof ApiError ? err.errors.map((e) => `${e.path}: ${e.message}`) : [];
}

function capitalize(s: string) {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
