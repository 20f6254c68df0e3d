// The filter builder's rows ⇄ the filter JSON of CONTRACT.md section 5.
// Rows cover the common shapes (one condition per field and operator, all or any of them);
// anything else (nesting, $not, $and inside $or …) is edited as JSON.
import type { Json, JsonObject, Webhook } from '../api/types';

export type Op =
  | 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin'
  | 'contains' | 'startsWith' | 'endsWith' | 'regex' | 'exists' | 'missing';

export const OPERATORS: { op: Op; label: string; key: string }[] = [
  { op: 'eq', label: 'equals', key: '$eq' },
  { op: 'ne', label: 'does not equal', key: '$ne' },
  { op: 'gt', label: 'is greater than', key: '$gt' },
  { op: 'gte', label: 'is at least', key: '$gte' },
  { op: 'lt', label: 'is less than', key: '$lt' },
  { op: 'lte', label: 'is at most', key: '$lte' },
  { op: 'in', label: 'is one of', key: '$in' },
  { op: 'nin', label: 'is none of', key: '$nin' },
  { op: 'contains', label: 'contains', key: '$contains' },
  { op: 'startsWith', label: 'starts with', key: '$startsWith' },
  { op: 'endsWith', label: 'ends with', key: '$endsWith' },
  { op: 'regex', label: 'matches pattern', key: '$regex' },
  { op: 'exists', label: 'is present', key: '$exists' },
  { op: 'missing', label: 'is missing', key: '$exists' },
];

const BY_KEY: Record<string, Op> = {
  $eq: 'eq', $ne: 'ne', $neq: 'ne', $gt: 'gt', $gte: 'gte', $lt: 'lt', $lte: 'lte', $in: 'in', $nin: 'nin',
  $contains: 'contains', $startsWith: 'startsWith', $endsWith: 'endsWith', $regex: 'regex',
};

export type ValueType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

export interface Row {
  id: number;
  field: string;
  op: Op;
  value: string;
}

export interface Model {
  mode: 'all' | 'any';
  rows: Row[];
}

let nextId = 1;
export function newRow(field = '', op: Op = 'eq', value = ''): Row {
  return { id: nextId++, field, op, value };
}

export const needsValue = (op: Op) => op !== 'exists' && op !== 'missing';

// ---------------------------------------------------------------------------------------------
// Values: the text in a row's value box ⇄ a JSON value, guided by the field's type in the sample.

/** "100" is a number unless the field holds text; quotes force text: "\"100\"". */
export function parseScalar(text: string, type?: ValueType): Json {
  const t = text.trim();
  if (/^".*"$/.test(t)) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t;
    }
  }
  if (type === 'string') return text;
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t) && (type === undefined || type === 'number' || type === 'array' || type === 'null')) return Number(t);
  if ((t === 'true' || t === 'false') && type !== 'number') return t === 'true';
  if (t === 'null') return null;
  return text;
}

export function formatScalar(v: unknown, type?: ValueType): string {
  if (typeof v === 'string') {
    const ambiguous = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v.trim()) || ['true', 'false', 'null'].includes(v.trim()) || /^".*"$/.test(v.trim());
    return ambiguous && type !== 'string' ? JSON.stringify(v) : v;
  }
  return JSON.stringify(v);
}

function rowValue(row: Row, type?: ValueType): Json {
  switch (row.op) {
    case 'in':
    case 'nin':
      return row.value.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => parseScalar(s, type));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const n = row.value.trim();
      return /^-?\d+(\.\d+)?$/.test(n) && type !== 'string' ? Number(n) : row.value;
    }
    case 'startsWith':
    case 'endsWith':
    case 'regex':
      return row.value;
    case 'contains':
      return type === 'array' ? parseScalar(row.value, type) : row.value;
    default:
      return parseScalar(row.value, type);
  }
}

/** The JSON for one row's field: a literal (equals) or an operator object. */
function condition(row: Row, type?: ValueType): Json {
  if (row.op === 'exists') return { $exists: true };
  if (row.op === 'missing') return { $exists: false };
  const v = rowValue(row, type);
  if (row.op === 'eq' && (v === null || typeof v !== 'object')) return v;
  const key = OPERATORS.find((o) => o.op === row.op)!.key;
  return { [key]: v };
}

// ---------------------------------------------------------------------------------------------
// Rows → filter

export function toFilter(model: Model, types: Record<string, ValueType> = {}): JsonObject | null {
  const rows = model.rows.filter((r) => r.field.trim() !== '');
  if (rows.length === 0) return null;
  const parts = rows.map((r) => ({ field: r.field.trim(), cond: condition(r, types[r.field.trim()]) }));
  if (model.mode === 'any' && parts.length > 1) return { $or: parts.map((p) => ({ [p.field]: p.cond })) };
  // All of them: one key per field, merging operator objects; a clash needs $and.
  const out: JsonObject = {};
  for (const p of parts) {
    const prev = out[p.field];
    if (prev === undefined) {
      out[p.field] = p.cond;
      continue;
    }
    const a = asOperators(prev);
    const b = asOperators(p.cond);
    if (!a || !b || Object.keys(b).some((k) => k in a)) return { $and: parts.map((q) => ({ [q.field]: q.cond })) };
    out[p.field] = { ...a, ...b };
  }
  return out;
}

function asOperators(c: Json): JsonObject | null {
  if (c !== null && typeof c === 'object' && !Array.isArray(c)) return c;
  return { $eq: c };
}

// ---------------------------------------------------------------------------------------------
// Filter → rows (null when the filter has a shape that rows cannot show). A filter from the
// API is parsed JSON whose values the schema leaves open: it is read as `unknown`.

export function fromFilter(filter: unknown, types: Record<string, ValueType> = {}): Model | null {
  if (filter === null || filter === undefined) return { mode: 'all', rows: [] };
  if (!isObject(filter)) return null;
  const keys = Object.keys(filter);
  if (keys.length === 0) return { mode: 'all', rows: [] };
  if (keys.length === 1 && (keys[0] === '$or' || keys[0] === '$and')) {
    const list = filter[keys[0]];
    if (!Array.isArray(list) || list.length === 0) return null;
    const rows: Row[] = [];
    for (const item of list) {
      const sub = conditions(item, '', types);
      if (!sub || (keys[0] === '$or' && sub.length !== 1)) return null;
      rows.push(...sub);
    }
    return { mode: keys[0] === '$or' ? 'any' : 'all', rows };
  }
  const rows = conditions(filter, '', types);
  return rows ? { mode: 'all', rows } : null;
}

function conditions(obj: unknown, prefix: string, types: Record<string, ValueType>): Row[] | null {
  if (!isObject(obj)) return null;
  const rows: Row[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (key.startsWith('$')) return null;
    const field = prefix ? `${prefix}.${key}` : key;
    const type = types[field];
    if (!isObject(value)) {
      if (Array.isArray(value)) return null;
      rows.push(newRow(field, 'eq', formatScalar(value, type)));
      continue;
    }
    const ops = Object.keys(value);
    if (ops.length === 0) return null;
    if (ops.every((k) => !k.startsWith('$'))) {
      const sub = conditions(value, field, types);
      if (!sub) return null;
      rows.push(...sub);
      continue;
    }
    if (!ops.every((k) => k.startsWith('$'))) return null;
    for (const k of ops) {
      const arg = value[k];
      if (k === '$exists' || k === '$exist') {
        if (typeof arg !== 'boolean') return null;
        rows.push(newRow(field, arg ? 'exists' : 'missing'));
        continue;
      }
      const op = BY_KEY[k];
      if (!op) return null;
      if (op === 'in' || op === 'nin') {
        if (!Array.isArray(arg) || arg.some((x) => x !== null && typeof x === 'object')) return null;
        rows.push(newRow(field, op, arg.map((x) => formatScalar(x, type)).join(', ')));
        continue;
      }
      if (arg !== null && typeof arg === 'object') return null;
      rows.push(newRow(field, op, typeof arg === 'string' && op !== 'eq' && op !== 'ne' ? arg : formatScalar(arg, type)));
    }
  }
  return rows;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Field suggestions from a sample body

export interface FieldInfo {
  path: string;
  type: ValueType;
  example: string;
}

/** Every leaf path of a sample ("metadetail.country", "product_lines.price"), with its type. */
export function samplePaths(sample: Record<string, unknown>): FieldInfo[] {
  const out: FieldInfo[] = [];
  const walk = (v: unknown, path: string, depth: number) => {
    if (out.length >= 300 || depth > 6) return;
    if (Array.isArray(v)) {
      const objects = v.filter(isObject);
      if (objects.length > 0) {
        const merged: Record<string, unknown> = Object.assign({}, ...objects);
        for (const [k, x] of Object.entries(merged)) walk(x, `${path}.${k}`, depth + 1);
      } else if (path) {
        out.push({ path, type: 'array', example: JSON.stringify(v).slice(0, 40) });
      }
      return;
    }
    if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k, depth + 1);
      return;
    }
    if (!path) return;
    const type: ValueType = v === null ? 'null' : (typeof v as ValueType);
    out.push({ path, type, example: v === null ? 'null' : String(v).slice(0, 40) });
  };
  walk(sample, '', 0);
  return out;
}

/** A short, human reading of a filter for the table: "amount ≥ 100 and tier = gold". */
export function describeFilter(filter: Webhook['filter']): string {
  if (!filter || Object.keys(filter).length === 0) return '';
  const model = fromFilter(filter);
  if (!model) return JSON.stringify(filter);
  const symbols: Record<Op, string> = {
    eq: '=', ne: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤', in: 'in', nin: 'not in', contains: 'contains',
    startsWith: 'starts with', endsWith: 'ends with', regex: '~', exists: 'present', missing: 'missing',
  };
  const parts = model.rows.map((r) => {
    if (!needsValue(r.op)) return `${r.field} ${symbols[r.op]}`;
    const v = r.op === 'in' || r.op === 'nin' ? `[${r.value}]` : r.value;
    return `${r.field} ${symbols[r.op]} ${v}`;
  });
  return parts.join(model.mode === 'any' ? ' or ' : ' and ');
}

/**
 * A filter error's path in the builder's words: "amount.$gte" → "amount, “is at least”",
 * "$or.1.metadetail.country" → "metadetail.country" (the row, not the JSON around it).
 */
export function describeFilterPath(path: string): string {
  const parts = path.split('.').filter((p) => p !== '');
  const field: string[] = [];
  let op: string | undefined;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '$or' || p === '$and' || p === '$not') {
      if (/^\d+$/.test(parts[i + 1] ?? '')) i++;
      continue;
    }
    if (p.startsWith('$')) {
      op = OPERATORS.find((o) => o.key === p)?.label ?? p;
      break;
    }
    field.push(p);
  }
  const name = field.join('.');
  if (!name) return op ? `“${op}”` : '';
  return op ? `${name}, “${op}”` : name;
}
