// Finds the $ref loops of a JSON Schema that never move into the data: `{"$ref": "#"}`,
// `{"allOf": [{"$ref": "#"}]}` and their longer forms. Ajv compiles them, and the validator
// then recurses until the stack overflows on every event; draft 2020-12 (core §9.4.1) asks
// implementations to refuse such schemas. A loop through `properties`, `items` and the like
// is fine (a tree of categories): each turn goes one level down into the data, which ends.
// Also counts how much validating against a schema may expand (expansion), for the same reason.

type Json = unknown;
type SchemaObject = Record<string, Json>;

const ROOT_BASE = 'https://herald.invalid/schema.json';

/** Keywords that apply their subschemas to the same instance, not to a part of it. */
const IN_PLACE_ONE = ['not', 'if', 'then', 'else'];
const IN_PLACE_MANY = ['allOf', 'anyOf', 'oneOf'];
/** Keywords whose subschemas apply to parts of the instance (or are only definitions). */
const DOWN_ONE = ['additionalProperties', 'propertyNames', 'items', 'contains', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema'];
const DOWN_MANY = ['prefixItems'];
const DOWN_MAP = ['properties', 'patternProperties', '$defs', 'definitions'];

const isObject = (v: Json): v is SchemaObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function stripHash(uri: string): string {
  const i = uri.indexOf('#');
  return i === -1 ? uri : uri.slice(0, i);
}

function resolveUri(ref: string, base: string): string | null {
  try {
    return new URL(ref, base).href;
  } catch {
    return null;
  }
}

/** A schema's subschemas with the edges between them: applied in place (same instance, $refs included) or down into a part of it. */
interface SchemaGraph {
  /** Every subschema, with its JSON pointer (for messages). */
  readonly where: Map<SchemaObject, string>;
  inPlace(s: SchemaObject): SchemaObject[];
  down(s: SchemaObject): SchemaObject[];
}

/** Unresolvable references are left out (the compiler reports them). */
function schemaGraph(root: Json): SchemaGraph {
  const base = new Map<SchemaObject, string>(); // each subschema's base URI
  const where = new Map<SchemaObject, string>(); // and its JSON pointer, for the message
  const resources = new Map<string, SchemaObject>(); // $id (absolute, no fragment) → its schema
  const anchors = new Map<string, SchemaObject>(); // "resource#anchor" → schema
  const dynamic = new Map<string, SchemaObject[]>(); // $dynamicAnchor name → schemas

  const visit = (s: Json, parentBase: string, pointer: string): void => {
    if (!isObject(s)) return;
    let own = parentBase;
    if (typeof s.$id === 'string') own = stripHash(resolveUri(s.$id, parentBase) ?? parentBase);
    if (!resources.has(own)) resources.set(own, s);
    base.set(s, own);
    where.set(s, pointer || '/');
    if (typeof s.$anchor === 'string') anchors.set(`${own}#${s.$anchor}`, s);
    if (typeof s.$dynamicAnchor === 'string') {
      anchors.set(`${own}#${s.$dynamicAnchor}`, s);
      dynamic.set(s.$dynamicAnchor, [...(dynamic.get(s.$dynamicAnchor) ?? []), s]);
    }
    for (const k of [...IN_PLACE_ONE, ...DOWN_ONE]) visit(s[k], own, `${pointer}/${k}`);
    for (const k of [...IN_PLACE_MANY, ...DOWN_MANY]) {
      const list = s[k];
      if (Array.isArray(list)) list.forEach((sub, i) => visit(sub, own, `${pointer}/${k}/${i}`));
    }
    for (const k of [...DOWN_MAP, 'dependentSchemas']) {
      const map = s[k];
      if (isObject(map)) for (const [name, sub] of Object.entries(map)) visit(sub, own, `${pointer}/${k}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
  };
  visit(root, ROOT_BASE, '');

  const target = (ref: Json, from: SchemaObject): SchemaObject | null => {
    if (typeof ref !== 'string') return null;
    const uri = resolveUri(ref, base.get(from) ?? ROOT_BASE);
    if (uri === null) return null;
    const resource = resources.get(stripHash(uri));
    if (!resource) return null;
    let fragment: string;
    try {
      fragment = decodeURIComponent(new URL(uri).hash.slice(1));
    } catch {
      return null;
    }
    if (fragment === '') return resource;
    if (!fragment.startsWith('/')) return anchors.get(`${stripHash(uri)}#${fragment}`) ?? null;
    let node: Json = resource;
    for (const part of fragment.slice(1).split('/')) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      node = Array.isArray(node) ? node[Number(key)] : isObject(node) ? node[key] : undefined;
    }
    return isObject(node) ? node : null;
  };

  const inPlace = (s: SchemaObject): SchemaObject[] => {
    const next: Json[] = IN_PLACE_ONE.map((k) => s[k]);
    for (const k of IN_PLACE_MANY) if (Array.isArray(s[k])) next.push(...(s[k] as Json[]));
    if (isObject(s.dependentSchemas)) next.push(...Object.values(s.dependentSchemas));
    next.push(target(s.$ref, s), target(s.$dynamicRef, s));
    // A $dynamicRef may land on any same-named $dynamicAnchor in scope: count them all.
    if (typeof s.$dynamicRef === 'string' && s.$dynamicRef.startsWith('#')) next.push(...(dynamic.get(s.$dynamicRef.slice(1)) ?? []));
    return next.filter(isObject);
  };

  // Not $defs: definitions apply only where a $ref points at them.
  const down = (s: SchemaObject): SchemaObject[] => {
    const next: Json[] = DOWN_ONE.map((k) => s[k]);
    for (const k of DOWN_MANY) if (Array.isArray(s[k])) next.push(...(s[k] as Json[]));
    for (const k of ['properties', 'patternProperties']) if (isObject(s[k])) next.push(...Object.values(s[k] as SchemaObject));
    return next.filter(isObject);
  };

  return { where, inPlace, down };
}

/**
 * The JSON pointer (inside the schema) of a $ref loop that never moves into the data, or
 * null when there is none.
 */
export function findInPlaceLoop(root: Json): string | null {
  const { where, inPlace } = schemaGraph(root);
  // Depth-first search for a cycle among in-place edges (grey: on the current path).
  const state = new Map<SchemaObject, 'grey' | 'black'>();
  const search = (s: SchemaObject): SchemaObject | null => {
    state.set(s, 'grey');
    for (const n of inPlace(s)) {
      const st = state.get(n);
      if (st === 'grey') return n;
      if (st === undefined) {
        const found = search(n);
        if (found) return found;
      }
    }
    state.set(s, 'black');
    return null;
  };
  for (const s of where.keys()) {
    if (state.has(s)) continue;
    const found = search(s);
    if (found) return where.get(found) ?? '/';
  }
  return null;
}

/**
 * How many subschema applications validating one value against `root` may take, counted
 * over every path through the schema's applicators and $refs (a shared $ref counts once per
 * path that reaches it, as the validator runs it once per path), or Infinity once above
 * `limit`. N definitions, each an anyOf of two $refs to the next, are 2^N applications: a
 * small schema that takes seconds per event. A recursion (a $ref back to a schema on the
 * path, through `properties` or `items`: a loop in place is refused before) counts once, as
 * each turn of it goes one level into the data, whose size is bounded. Run after findInPlaceLoop.
 */
export function expansion(root: Json, limit: number): number {
  if (!isObject(root)) return 1;
  const { inPlace, down } = schemaGraph(root);
  const cost = new Map<SchemaObject, number>();
  const onPath = new Set<SchemaObject>();
  const count = (s: SchemaObject): number => {
    const known = cost.get(s);
    if (known !== undefined) return known;
    if (onPath.has(s)) return 1;
    onPath.add(s);
    let total = 1;
    for (const n of [...inPlace(s), ...down(s)]) {
      total += count(n);
      if (total > limit) break;
    }
    onPath.delete(s);
    const result = total > limit ? Infinity : total;
    cost.set(s, result);
    return result;
  };
  return count(root);
}
