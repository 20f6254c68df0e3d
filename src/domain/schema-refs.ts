// Finds the $ref loops of a JSON Schema that never move into the data: `{"$ref": "#"}`,
// `{"allOf": [{"$ref": "#"}]}` and their longer forms. Ajv compiles them, and the validator
// then recurses until the stack overflows on every event; draft 2020-12 (core §9.4.1) asks
// implementations to refuse such schemas. A loop through `properties`, `items` and the like
// is fine (a tree of categories): each turn goes one level down into the data, which ends.

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

/**
 * The JSON pointer (inside the schema) of a $ref loop that never moves into the data, or
 * null when there is none. Unresolvable references are left to the compiler to report.
 */
export function findInPlaceLoop(root: Json): string | null {
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
