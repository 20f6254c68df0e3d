import type { FieldInfo, ValueType } from './filterModel';

// The fields a topic's JSON Schema declares, for the filter builder's suggestions: every
// property path under `properties` (also through allOf/anyOf/oneOf, and into array items, as
// filters reach into arrays), with its declared type and, as the example, its description.

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(s: Schema): ValueType {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (t === 'integer' || t === 'number') return 'number';
  if (t === 'boolean' || t === 'array' || t === 'object' || t === 'null') return t;
  if (Array.isArray(s.enum) && s.enum.length > 0 && s.enum.every((v) => typeof v === 'number')) return 'number';
  return 'string';
}

/** Field paths of a schema ("amount", "address.city", "lines.sku"), at most 300, 6 levels deep. */
export function schemaPaths(schema: unknown): FieldInfo[] {
  const out = new Map<string, FieldInfo>();
  const walk = (s: unknown, path: string, depth: number) => {
    if (!isSchema(s) || out.size >= 300 || depth > 6) return;
    for (const key of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(s[key])) for (const sub of s[key] as unknown[]) walk(sub, path, depth + 1);
    if (isSchema(s.items)) walk(s.items, path, depth + 1);
    if (!isSchema(s.properties)) return;
    for (const [name, sub] of Object.entries(s.properties)) {
      const at = path ? `${path}.${name}` : name;
      if (!isSchema(sub)) continue;
      const nested = isSchema(sub.properties) || isSchema(sub.items) || ['allOf', 'anyOf', 'oneOf'].some((k) => Array.isArray(sub[k]));
      if (!out.has(at) && !(nested && typeOf(sub) === 'object')) {
        out.set(at, { path: at, type: typeOf(sub), example: typeof sub.description === 'string' ? sub.description.slice(0, 60) : '' });
      }
      if (nested) walk(sub, at, depth + 1);
    }
  };
  walk(schema, '', 0);
  return [...out.values()];
}
