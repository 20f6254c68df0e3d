import { createHash } from 'node:crypto';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { RE2JS } from 're2js';
import { expansion, findInPlaceLoop } from './schema-refs.js';

// A topic's JSON Schema (draft 2020-12) for its events' `data`, checked with Ajv. Schemas come
// from admins but are run on every publish, so they are bounded: at most 64 KiB and 32 levels
// deep, no $ref loop that never moves into the data, no remote $ref, at most
// MAX_SCHEMA_EXPANSION subschema applications per value, `uniqueItems` only where it is cheap,
// and `pattern` runs on RE2 (linear time, like filters' $regex), so no pattern can backtrack
// catastrophically.
// `format` is an annotation only, as draft 2020-12 specifies by default.

export const MAX_SCHEMA_BYTES = 64 * 1024;
export const MAX_SCHEMA_DEPTH = 32;
/**
 * The most subschema applications one value may take (expansion in schema-refs.ts): far above
 * what a hand-written schema needs (walletreward_create's, in test/fixtures, counts 22), far
 * below the 2^N of an anyOf chained through $refs; at this bound one value takes about 2 ms.
 */
export const MAX_SCHEMA_EXPANSION = 10_000;
/**
 * `uniqueItems` compares every pair of items unless `items` says they are scalars (Ajv then
 * indexes them): such an array needs a `maxItems` at most this.
 */
export const MAX_UNIQUE_ITEMS = 100;
/** Faults reported per event at most: enough to fix a payload, not a wall of text. */
const MAX_FAULTS = 20;

export interface SchemaFault {
  path: string;
  message: string;
}

/** The faults of `data` against the schema, none when it satisfies it. Paths start with "data". */
export type DataValidator = (data: unknown) => SchemaFault[];

export type CompiledSchema = { ok: true; validate: DataValidator } | { ok: false; errors: SchemaFault[] };

/** A `pattern` (or `patternProperties` key) that RE2 cannot compile. */
class UnsupportedPattern extends Error {
  constructor(
    readonly pattern: string,
    cause: unknown,
  ) {
    super(`is not a pattern RE2 can run (no lookaround or backreferences): ${(cause as Error).message}`);
  }
}

// Ajv asks a regex engine for objects with test(); RE2JS has it. toString is Ajv's cache key.
const re2: ((pattern: string, u: string) => { test(s: string): boolean; toString(): string }) & { code: string } = Object.assign(
  (pattern: string) => {
    let rx: RE2JS;
    try {
      rx = RE2JS.compile(pattern);
    } catch (err) {
      throw new UnsupportedPattern(pattern, err);
    }
    return { test: (s: string) => rx.test(s), toString: () => pattern };
  },
  { code: 're2' },
);

/** The JSON pointer of the first `pattern` (or `patternProperties` key) equal to `pattern`. */
function patternPointer(v: unknown, pattern: string, pointer = ''): string | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.pattern === pattern) return `${pointer}/pattern`;
  const props = o.patternProperties;
  if (props && typeof props === 'object' && Object.hasOwn(props, pattern)) return `${pointer}/patternProperties`;
  for (const [k, child] of Object.entries(o)) {
    const found = patternPointer(child, pattern, `${pointer}/${pointerPart(k)}`);
    if (found !== null) return found;
  }
  return null;
}

// One Ajv for every schema: each compiled schema is removed from it afterwards, so schemas
// of different topics never see each other (a duplicate $id is no clash) and nothing piles up.
const ajv = new Ajv2020({
  allErrors: true, // every fault of an event, not only the first
  strict: false, // any valid 2020-12 schema is accepted, unknown keywords ignored as the spec says
  validateFormats: false,
  code: { regExp: re2 },
});

/** Whether a value nests objects and arrays deeper than `limit` (never recursing past it). */
function deeperThan(v: unknown, limit: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (limit === 0) return true;
  for (const child of Object.values(v)) if (deeperThan(child, limit - 1)) return true;
  return false;
}

/** A key as a JSON pointer writes it: "a/b" → "a~1b". */
function pointerPart(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** "/properties/a~1b/type" → ["properties", "a/b", "type"]. */
function pointerParts(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * A JSON path in Herald's style from a JSON pointer: `data.items[2].sku`, `schema.properties.amount`.
 * Indexes are written [n] only where the value there is an array; an object key "2" is `["2"]`.
 */
export function jsonPath(root: string, pointer: string, value: unknown): string {
  let path = root;
  let at = value;
  for (const part of pointerParts(pointer)) {
    if (Array.isArray(at) && /^\d+$/.test(part)) path += `[${part}]`;
    else path += /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
  }
  return path;
}

function childPath(path: string, key: string): string {
  return path + (/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
}

/**
 * Ajv's errors as faults worded as Herald words them, at most MAX_FAULTS. With `onePerPath`
 * only the first of a place's faults is kept: a meta-schema reports one wrong value as several
 * (`type` fails an enum, an array type and their anyOf), and the first says it best.
 */
function faults(errors: readonly ErrorObject[], root: string, value: unknown, onePerPath: boolean): SchemaFault[] {
  const out: SchemaFault[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const at = jsonPath(root, e.instancePath, value);
    let fault: SchemaFault;
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'required') fault = { path: childPath(at, String(p.missingProperty)), message: 'is required' };
    else if (e.keyword === 'additionalProperties') fault = { path: childPath(at, String(p.additionalProperty)), message: 'is not allowed by the schema' };
    else if (e.keyword === 'unevaluatedProperties') fault = { path: childPath(at, String(p.unevaluatedProperty)), message: 'is not allowed by the schema' };
    else if (e.keyword === 'enum' && Array.isArray(p.allowedValues)) fault = { path: at, message: `must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
    else fault = { path: at, message: e.message ?? `fails ${e.keyword}` };
    const key = onePerPath ? fault.path : `${fault.path}\0${fault.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(fault);
    if (out.length >= MAX_FAULTS) break;
  }
  return out;
}

/**
 * Compiles a topic's schema, or says what is wrong with it, as faults whose paths start with
 * "schema" (`schema.properties.amount.type`) for a 400. Compiling takes about a millisecond:
 * do it when a schema is saved and keep the result (TopicSchemas).
 */
export function compileSchema(schema: unknown): CompiledSchema {
  const refuse = (path: string, message: string): CompiledSchema => ({ ok: false, errors: [{ path, message }] });
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
    return refuse('schema', 'must be a JSON Schema (an object)');
  }
  // Depth first: JSON.stringify itself would overflow the stack on thousands of levels.
  if (deeperThan(schema, MAX_SCHEMA_DEPTH)) return refuse('schema', `is nested more than ${MAX_SCHEMA_DEPTH} levels deep`);
  const size = Buffer.byteLength(JSON.stringify(schema));
  if (size > MAX_SCHEMA_BYTES) return refuse('schema', `is ${size} bytes, larger than ${MAX_SCHEMA_BYTES}`);
  if (!ajv.validateSchema(schema)) return { ok: false, errors: faults(ajv.errors ?? [], 'schema', schema, true) };
  let loop: string | null;
  try {
    loop = findInPlaceLoop(schema);
  } catch (err) {
    if (err instanceof RangeError) return refuse('schema', 'has $ref chains too long to check');
    throw err;
  }
  if (loop !== null) return refuse(jsonPath('schema', loop === '/' ? '' : loop, schema), 'is a $ref loop that never moves into the data');
  if (expansion(schema, MAX_SCHEMA_EXPANSION) > MAX_SCHEMA_EXPANSION) {
    return refuse('schema', `expands to more than ${MAX_SCHEMA_EXPANSION} subschemas per value (anyOf, oneOf, allOf and $ref multiply): too costly to check on every event`);
  }
  const unbounded = unboundedUniqueItems(schema);
  if (unbounded !== null) {
    return refuse(jsonPath('schema', unbounded, schema), `needs items of scalar types (items.type) or a maxItems of at most ${MAX_UNIQUE_ITEMS}: checking that objects or arrays are unique compares every pair`);
  }

  let compiled: ValidateFunction;
  try {
    compiled = ajv.compile(schema);
  } catch (err) {
    if (err instanceof UnsupportedPattern) return refuse(jsonPath('schema', patternPointer(schema, err.pattern) ?? '', schema), err.message);
    return refuse('schema', compileMessage(err));
  } finally {
    if (typeof schema === 'object') ajv.removeSchema(schema as object);
  }
  return { ok: true, validate: dataValidator(compiled) };
}

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/** The JSON pointer of the first `uniqueItems: true` whose array is neither of scalars nor short, or null. */
function unboundedUniqueItems(v: unknown, pointer = ''): string | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (!Array.isArray(v) && o.uniqueItems === true) {
    const items = o.items as Record<string, unknown> | undefined;
    const types = typeof items === 'object' && items !== null ? [items.type].flat() : [];
    const scalar = types.length > 0 && types.every((t) => typeof t === 'string' && SCALAR_TYPES.has(t));
    const short = typeof o.maxItems === 'number' && o.maxItems <= MAX_UNIQUE_ITEMS;
    if (!scalar && !short) return `${pointer}/uniqueItems`;
  }
  for (const [k, child] of Object.entries(o)) {
    const found = unboundedUniqueItems(child, `${pointer}/${pointerPart(k)}`);
    if (found !== null) return found;
  }
  return null;
}

function compileMessage(err: unknown): string {
  const e = err as { missingRef?: string; message?: string };
  if (e?.missingRef !== undefined) return `has a $ref that does not resolve inside the schema: ${e.missingRef}`;
  if (err instanceof RangeError) return 'is too deeply recursive to compile';
  return e?.message ?? String(err);
}

function dataValidator(compiled: ValidateFunction): DataValidator {
  return (data) => {
    try {
      if (compiled(data)) return [];
    } catch (err) {
      // Data nested deep enough to exhaust the stack under a recursive schema.
      if (err instanceof RangeError) return [{ path: 'data', message: 'is nested too deeply to check against the schema' }];
      throw err;
    }
    return faults(compiled.errors ?? [], 'data', data, false);
  };
}

/** A short, stable version of a schema's content: for a cache key where the store has no version. */
export function schemaHash(schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('base64url').slice(0, 22);
}

export class TopicSchemaError extends Error {
  constructor(
    readonly topic: string,
    readonly errors: SchemaFault[],
  ) {
    super(`the schema of topic ${topic} does not compile: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  }
}

/**
 * Compiled validators per topic and schema version, so that an event is checked in
 * microseconds: a topic's schema is compiled once per version it has, not once per event.
 * `version` is anything that changes when the schema does (a version counter, or schemaHash).
 */
export class TopicSchemas {
  private readonly compiled = new Map<string, { version: string; validate: DataValidator }>();

  constructor(private readonly maxTopics = 10_000) {}

  /** The validator of a topic's schema; throws TopicSchemaError if it does not compile (it was checked when saved). */
  validator(topic: string, version: string | number, schema: unknown): DataValidator {
    const v = String(version);
    const hit = this.compiled.get(topic);
    if (hit && hit.version === v) return hit.validate;
    const result = compileSchema(schema);
    if (!result.ok) throw new TopicSchemaError(topic, result.errors);
    if (this.compiled.size >= this.maxTopics) this.compiled.clear();
    this.compiled.set(topic, { version: v, validate: result.validate });
    return result.validate;
  }

  forget(topic: string): void {
    this.compiled.delete(topic);
  }
}
