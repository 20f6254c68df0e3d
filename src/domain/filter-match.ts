// The matching half of webhook filters (filter.ts validates and compiles): the predicates a
// compiled filter is made of. They run for every event on the delivery path, so everything
// is prepared when the filter is compiled and matching itself allocates nothing.

export type Matcher = (body: unknown) => boolean;

/** A test on one value reached by a field path; `undefined` stands for "missing". */
export type Pred = (value: unknown) => boolean;
/** `index` is >= 0 when the segment can index an array. */
export interface Seg { key: string; index: number }
export type JsonObject = Record<string, unknown>;

export const ALWAYS: Matcher = () => true;
export const NEVER: Matcher = () => false;

export function isPlainObject(v: unknown): v is JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** True when `pred` holds for some value the path reaches; a dead end is tested as missing. */
function walk(v: unknown, segs: Seg[], i: number, pred: Pred): boolean {
  if (i === segs.length) return pred(v);
  if (v === null || typeof v !== 'object') return pred(undefined);
  const seg = segs[i];
  if (Array.isArray(v)) {
    if (seg.index >= 0) return walk(seg.index < v.length ? v[seg.index] : undefined, segs, i + 1, pred);
    for (let j = 0; j < v.length; j++) if (walk(v[j], segs, i, pred)) return true;
    return false;
  }
  // Own properties only: `__proto__` or `constructor` in a filter must not reach the prototype.
  return walk(Object.hasOwn(v, seg.key) ? (v as JsonObject)[seg.key] : undefined, segs, i + 1, pred);
}

export function onPath(segs: Seg[], pred: Pred): Matcher {
  return (body) => walk(body, segs, 0, pred);
}

export function some(a: unknown[], pred: Pred): boolean {
  for (let i = 0; i < a.length; i++) if (pred(a[i])) return true;
  return false;
}

/** The value itself, or for an array any of its elements. */
export function anyElement(pred: Pred): Pred {
  return (v) => pred(v) || (Array.isArray(v) && some(v, pred));
}

export function equalsPred(x: unknown): Pred {
  // null also stands for "missing", as in `{"field": null}`.
  if (x === null) return (v) => v === undefined || v === null || (Array.isArray(v) && v.includes(null));
  return anyElement(literalEquals(x));
}

/** Deep JSON equality with `x`, with key lists and child tests prepared once. */
export function literalEquals(x: unknown): Pred {
  if (x === null || typeof x !== 'object') return (v) => v === x;
  if (Array.isArray(x)) {
    const items = x.map(literalEquals);
    return (v) => {
      if (!Array.isArray(v) || v.length !== items.length) return false;
      for (let i = 0; i < items.length; i++) if (!items[i](v[i])) return false;
      return true;
    };
  }
  const keys = Object.keys(x);
  const values = keys.map((k) => literalEquals((x as JsonObject)[k]));
  return (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    let count = 0;
    for (const k in v) if (Object.hasOwn(v, k) && (v as JsonObject)[k] !== undefined) count++;
    if (count !== keys.length) return false;
    for (let i = 0; i < keys.length; i++) {
      if (!Object.hasOwn(v, keys[i]) || !values[i]((v as JsonObject)[keys[i]])) return false;
    }
    return true;
  };
}

export function inPred(list: unknown[]): Pred {
  const scalars = new Set<unknown>();
  const composites: Pred[] = [];
  for (const item of list) {
    if (item !== null && typeof item === 'object') composites.push(literalEquals(item));
    else scalars.add(item);
  }
  const matchesMissing = scalars.has(null);
  const one: Pred = (v) => {
    if (v === undefined) return matchesMissing;
    if (v === null || typeof v !== 'object') return scalars.has(v);
    for (let i = 0; i < composites.length; i++) if (composites[i](v)) return true;
    return false;
  };
  return anyElement(one);
}

export function orderPred(op: string, x: number | string): Pred {
  const type = typeof x;
  // Casting to number only satisfies the type checker: both sides share one runtime type.
  const y = x as number;
  switch (op) {
    case '$gt': return (v) => typeof v === type && (v as number) > y;
    case '$gte': return (v) => typeof v === type && (v as number) >= y;
    case '$lt': return (v) => typeof v === type && (v as number) < y;
    default: return (v) => typeof v === type && (v as number) <= y;
  }
}

export function allOf(parts: Matcher[]): Matcher {
  if (parts.length === 0) return ALWAYS;
  if (parts.length === 1) return parts[0];
  return (body) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i](body)) return false;
    return true;
  };
}

export function anyOf(parts: Matcher[]): Matcher {
  if (parts.length === 1) return parts[0];
  return (body) => {
    for (let i = 0; i < parts.length; i++) if (parts[i](body)) return true;
    return false;
  };
}
