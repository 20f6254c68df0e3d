// Webhook filters: a small Mongo-like query language matched against the JSON body of each
// delivery. A filter is validated and compiled into a tree of closures once, when the webhook
// is saved; the resulting matcher runs for every event on the delivery path, so everything that
// can be decided up front (path splitting, literal shapes, regexes, `$in` sets) is decided here
// and matching itself allocates nothing. This file validates and compiles; the predicates that a
// compiled filter is made of are in filter-match.ts.
//
// Negative operators ($ne, $nin, $exists:false, field-level $not) are the negation of the whole
// positive test over every value the path reaches, not "some reached value fails": that is what
// makes `$ne` true for a missing field and false for an array containing the value.

import { RE2JS } from 're2js';
import {
  ALWAYS, NEVER, allOf, anyElement, anyOf, equalsPred, inPred, isPlainObject, literalEquals, onPath, orderPred, some,
  type JsonObject, type Matcher, type Pred, type Seg,
} from './filter-match.js';

export interface FilterFault { path: string; message: string }

export class FilterError extends Error {
  readonly faults: FilterFault[];

  constructor(faults: FilterFault[]) {
    const list = faults.map((f) => `${f.path === '' ? '(root)' : f.path}: ${f.message}`);
    super(`invalid filter: ${list.join('; ')}`);
    this.name = 'FilterError';
    this.faults = faults;
  }
}

export type { Matcher } from './filter-match.js';

const MAX_DEPTH = 32;
const MAX_NODES = 1000;
const MAX_IN = 1000;
const MAX_REGEX = 1024;
// Bounds the work and the error message for a hostile filter; the first fault is what matters.
const MAX_FAULTS = 100;
const DEPTH_MESSAGE = `nesting depth exceeds ${MAX_DEPTH}`;

const FIELD_OPERATORS = new Set([
  '$eq', '$ne', '$neq', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$exist',
  '$regex', '$options', '$startsWith', '$endsWith', '$contains', '$and', '$or', '$not',
]);
const REGEX_FLAGS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL };

/** Validates and compiles once; throws FilterError listing every fault found (at least the first). null, undefined and {} compile to a matcher that accepts everything. */
export function compileFilter(filter: unknown): Matcher {
  const { matcher, faults } = build(filter);
  if (faults.length > 0) throw new FilterError(faults);
  return matcher;
}

/** Returns the faults without throwing ([] when valid). */
export function validateFilter(filter: unknown): FilterFault[] {
  return build(filter).faults;
}

/** Convenience: compileFilter(filter)(body). */
export function matchesFilter(filter: unknown, body: unknown): boolean {
  return compileFilter(filter)(body);
}

interface Ctx { faults: FilterFault[]; nodes: number }

// Thrown to stop compiling once further work would be pointless (too many faults or nodes).
const ABORT = Symbol('abort');

function build(filter: unknown): { matcher: Matcher; faults: FilterFault[] } {
  if (filter === null || filter === undefined) return { matcher: ALWAYS, faults: [] };
  if (!isPlainObject(filter)) return { matcher: NEVER, faults: [{ path: '', message: 'must be an object or null' }] };
  const ctx: Ctx = { faults: [], nodes: 0 };
  try {
    return { matcher: compileFilterObject(filter, '', 1, ctx), faults: ctx.faults };
  } catch (err) {
    if (err !== ABORT) throw err;
    return { matcher: NEVER, faults: ctx.faults };
  }
}

function fault(ctx: Ctx, path: string, message: string): void {
  ctx.faults.push({ path, message });
  if (ctx.faults.length >= MAX_FAULTS) throw ABORT;
}

function countNode(ctx: Ctx): void {
  if (++ctx.nodes > MAX_NODES) {
    ctx.faults.push({ path: '', message: `filter has more than ${MAX_NODES} nodes` });
    throw ABORT;
  }
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
const at = (path: string, i: number): string => `${path}[${i}]`;

/** `depth` is the nesting depth of `f` itself (the root object is 1). */
function compileFilterObject(f: unknown, path: string, depth: number, ctx: Ctx): Matcher {
  if (!isPlainObject(f)) return fail(ctx, path, 'must be an object');
  if (depth > MAX_DEPTH) return fail(ctx, path, DEPTH_MESSAGE);
  countNode(ctx);
  const parts: Matcher[] = [];
  for (const key of Object.keys(f)) {
    const value = f[key];
    const p = join(path, key);
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        fault(ctx, p, 'must be a non-empty array of filter objects');
        continue;
      }
      const subs = value.map((s, i) => compileFilterObject(s, at(p, i), depth + 2, ctx));
      parts.push(key === '$and' ? allOf(subs) : anyOf(subs));
    } else if (key === '$not') {
      const sub = compileFilterObject(value, p, depth + 1, ctx);
      parts.push((body) => !sub(body));
    } else if (key.startsWith('$')) {
      fault(ctx, p, FIELD_OPERATORS.has(key) ? `operator ${key} must be applied to a field` : `unknown operator ${key}`);
    } else {
      const segs = parsePath(key, p, ctx);
      if (segs) parts.push(compileField(segs, value, p, depth + 1, ctx));
    }
  }
  return allOf(parts);
}

/** A field's value: a nested-field object, an operator object or a literal meaning `$eq`. */
function compileField(segs: Seg[], value: unknown, path: string, depth: number, ctx: Ctx): Matcher {
  if (!isPlainObject(value)) return compileOperator(segs, '$eq', value, {}, path, depth, ctx);
  countNode(ctx);
  if (depth > MAX_DEPTH) return fail(ctx, path, DEPTH_MESSAGE);
  const keys = Object.keys(value);
  // Comparing with {} needs `$eq`: an empty nested object is far more likely a mistake.
  if (keys.length === 0) return fail(ctx, path, 'must not be an empty object (use $eq to compare with {})');
  const operators = keys.filter((k) => k.startsWith('$')).length;
  if (operators === keys.length) return compileOperators(segs, value, path, depth, ctx);
  if (operators > 0) return fail(ctx, path, 'cannot mix operators and field names in one object');
  const parts: Matcher[] = [];
  for (const key of keys) {
    const p = join(path, key);
    const sub = parsePath(key, p, ctx);
    if (sub) parts.push(compileField(segs.concat(sub), value[key], p, depth + 1, ctx));
  }
  return allOf(parts);
}

/** An object whose keys all start with `$`, at nesting depth `depth`. */
function compileOperators(segs: Seg[], ops: JsonObject, path: string, depth: number, ctx: Ctx): Matcher {
  const parts: Matcher[] = [];
  for (const op of Object.keys(ops)) {
    const p = join(path, op);
    if (op === '$options') {
      if (!Object.hasOwn(ops, '$regex')) fault(ctx, p, 'requires $regex');
      continue;
    }
    parts.push(compileOperator(segs, op, ops[op], ops, p, depth + 1, ctx));
  }
  return allOf(parts);
}

/** `arg` sits at `path` with nesting depth `depth`; `siblings` is its operator object. */
function compileOperator(
  segs: Seg[], op: string, arg: unknown, siblings: JsonObject, path: string, depth: number, ctx: Ctx,
): Matcher {
  countNode(ctx);
  switch (op) {
    case '$eq':
    case '$ne':
    case '$neq': {
      if (!checkLiteral(arg, path, depth, ctx)) return NEVER;
      const m = onPath(segs, equalsPred(arg));
      return op === '$eq' ? m : (body) => !m(body);
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (!(typeof arg === 'string' || (typeof arg === 'number' && Number.isFinite(arg)))) {
        return fail(ctx, path, 'must be a number or a string');
      }
      return onPath(segs, anyElement(orderPred(op, arg)));
    case '$in':
    case '$nin': {
      if (!Array.isArray(arg)) return fail(ctx, path, 'must be an array');
      if (depth > MAX_DEPTH) return fail(ctx, path, DEPTH_MESSAGE);
      if (arg.length > MAX_IN) return fail(ctx, path, `must have at most ${MAX_IN} items`);
      let ok = true;
      arg.forEach((item, i) => { ok = checkLiteral(item, at(path, i), depth + 1, ctx) && ok; });
      if (!ok) return NEVER;
      const m = onPath(segs, inPred(arg));
      return op === '$in' ? m : (body) => !m(body);
    }
    case '$exists':
    case '$exist': {
      if (typeof arg !== 'boolean') return fail(ctx, path, 'must be a boolean');
      const present = onPath(segs, (v) => v !== undefined);
      return arg ? present : (body) => !present(body);
    }
    case '$regex': {
      const re = compileRegex(arg, siblings.$options, path, ctx);
      return re ? onPath(segs, anyElement((v) => typeof v === 'string' && re.test(v))) : NEVER;
    }
    case '$startsWith':
    case '$endsWith': {
      if (typeof arg !== 'string') return fail(ctx, path, 'must be a string');
      const test: Pred = op === '$startsWith'
        ? (v) => typeof v === 'string' && v.startsWith(arg)
        : (v) => typeof v === 'string' && v.endsWith(arg);
      return onPath(segs, anyElement(test));
    }
    case '$contains': {
      if (!checkLiteral(arg, path, depth, ctx)) return NEVER;
      const eq = literalEquals(arg);
      return onPath(segs, (v) =>
        typeof v === 'string' ? typeof arg === 'string' && v.includes(arg) : Array.isArray(v) && some(v, eq));
    }
    case '$not': {
      const sub = compileOperand(segs, arg, path, depth, ctx);
      return (body) => !sub(body);
    }
    case '$and':
    case '$or': {
      if (!Array.isArray(arg) || arg.length === 0) {
        return fail(ctx, path, 'must be a non-empty array of operator objects');
      }
      const subs = arg.map((a, i) => compileOperand(segs, a, at(path, i), depth + 1, ctx));
      return op === '$and' ? allOf(subs) : anyOf(subs);
    }
    default:
      return fail(ctx, path, `unknown operator ${op}`);
  }
}

/** The argument of a field-level `$not`/`$and`/`$or`: an operator object or a literal meaning `$eq`. */
function compileOperand(segs: Seg[], arg: unknown, path: string, depth: number, ctx: Ctx): Matcher {
  if (!isPlainObject(arg)) return compileOperator(segs, '$eq', arg, {}, path, depth, ctx);
  const keys = Object.keys(arg);
  // A nested-field reading would be a second meaning for the same shape; `$eq` keeps it explicit.
  if (keys.length === 0 || !keys.every((k) => k.startsWith('$'))) {
    return fail(ctx, path, 'must be an operator object or a non-object value (use $eq to compare objects)');
  }
  if (depth > MAX_DEPTH) return fail(ctx, path, DEPTH_MESSAGE);
  return compileOperators(segs, arg, path, depth, ctx);
}

function compileRegex(pattern: unknown, options: unknown, path: string, ctx: Ctx): RE2JS | null {
  if (typeof pattern !== 'string') return fail(ctx, path, 'must be a string', null);
  if (pattern.length > MAX_REGEX) return fail(ctx, path, `must be at most ${MAX_REGEX} characters`, null);
  let flags = 0;
  if (options !== undefined) {
    const optionsPath = path.slice(0, path.length - '$regex'.length) + '$options';
    if (typeof options !== 'string' || ![...options].every((c) => Object.hasOwn(REGEX_FLAGS, c))) {
      return fail(ctx, optionsPath, 'must be a string of the flags i, m, s', null);
    }
    for (const c of options) flags |= REGEX_FLAGS[c];
  }
  try {
    return RE2JS.compile(pattern, flags);
  } catch (err) {
    return fail(ctx, path, err instanceof Error ? err.message : String(err), null);
  }
}

function parsePath(key: string, path: string, ctx: Ctx): Seg[] | null {
  const parts = key.split('.');
  if (parts.some((p) => p === '')) return fail(ctx, path, 'field path must not have empty segments', null);
  // `{"a.$gt": 1}` would silently compare a field literally named "$gt".
  if (parts.some((p) => p.startsWith('$'))) return fail(ctx, path, 'field path segments must not start with $', null);
  return parts.map((p) => ({ key: p, index: /^(0|[1-9]\d{0,8})$/.test(p) ? Number(p) : -1 }));
}

/** Checks that a literal is plain JSON within the depth limit; `depth` is its own depth. */
function checkLiteral(x: unknown, path: string, depth: number, ctx: Ctx): boolean {
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return true;
  if (typeof x === 'number') return Number.isFinite(x) || fail(ctx, path, 'must be a finite number', false);
  const isArray = Array.isArray(x);
  if (!isArray && !isPlainObject(x)) return fail(ctx, path, 'must be a JSON value', false);
  if (depth > MAX_DEPTH) return fail(ctx, path, DEPTH_MESSAGE, false);
  let ok = true;
  if (isArray) x.forEach((e, i) => { ok = checkLiteral(e, at(path, i), depth + 1, ctx) && ok; });
  else for (const [k, v] of Object.entries(x as JsonObject)) ok = checkLiteral(v, join(path, k), depth + 1, ctx) && ok;
  return ok;
}

/** Records a fault and returns `result` (NEVER unless given), so callers can `return fail(...)`. */
function fail<T = Matcher>(ctx: Ctx, path: string, message: string, result: T = NEVER as T): T {
  fault(ctx, path, message);
  return result;
}
