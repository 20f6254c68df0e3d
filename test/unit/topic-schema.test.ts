import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BUILTIN_TOPICS } from '../../src/domain/topics.js';
import {
  MAX_SCHEMA_BYTES,
  MAX_SCHEMA_EXPANSION,
  MAX_UNIQUE_ITEMS,
  TopicSchemaError,
  TopicSchemas,
  compileSchema,
  jsonPath,
  schemaHash,
  type DataValidator,
} from '../../src/domain/topic-schema.js';

const WALLETREWARD = JSON.parse(readFileSync(new URL('../fixtures/walletreward_create.schema.json', import.meta.url), 'utf8'));
const SAMPLE = BUILTIN_TOPICS.find((t) => t.name === 'walletreward_create')!.sample;

function validator(schema: unknown): DataValidator {
  const r = compileSchema(schema);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.validate;
}

function refusal(schema: unknown): { path: string; message: string }[] {
  const r = compileSchema(schema);
  assert.ok(!r.ok, 'the schema compiled');
  return r.errors;
}

describe('topic schema: data', () => {
  it('accepts the built-in walletreward_create sample, extra fields included', () => {
    assert.deepEqual(validator(WALLETREWARD)({ ...SAMPLE, business_name: 'Acme', something_new: true }), []);
  });

  it('names each fault by its JSON path, in Herald style', () => {
    const faults = validator(WALLETREWARD)({
      ...SAMPLE,
      amount: -2.5,
      operation: 'refund',
      customer_id: undefined,
      metadetail: { country: 'USA', mobile: '555' },
      wallet: {},
    });
    assert.deepEqual(faults, [
      { path: 'data.customer_id', message: 'is required' },
      { path: 'data.metadetail.mobile', message: 'must match pattern "^\\+[0-9]{6,15}$"' },
      { path: 'data.metadetail.country', message: 'must match pattern "^[a-z]{3}$"' },
      { path: 'data.amount', message: 'must be integer' },
      { path: 'data.amount', message: 'must be >= 0' },
      { path: 'data.operation', message: 'must be one of "cr", "dr"' },
      { path: 'data.wallet.available', message: 'is required' },
    ]);
  });

  it('writes array indexes as [n], odd keys quoted, and object keys that look like numbers as quoted keys', () => {
    const v = validator({
      type: 'object',
      properties: {
        items: { type: 'array', items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } } },
        'odd key': { type: 'number' },
        byId: { type: 'object', additionalProperties: { type: 'number' } },
      },
      additionalProperties: false,
    });
    assert.deepEqual(v({ items: [{ sku: 'a' }, {}, { sku: 3 }], 'odd key': 'x', byId: { '2': 'x' }, extra: 1 }), [
      { path: 'data.extra', message: 'is not allowed by the schema' },
      { path: 'data.items[1].sku', message: 'is required' },
      { path: 'data.items[2].sku', message: 'must be string' },
      { path: 'data["odd key"]', message: 'must be number' },
      { path: 'data.byId["2"]', message: 'must be number' },
    ]);
    assert.equal(jsonPath('events[3].data', '/a~1b/0', { 'a/b': [1] }), 'events[3].data["a/b"][0]');
  });

  it('reports at most 20 faults', () => {
    const v = validator({ type: 'object', additionalProperties: { type: 'string' } });
    const data = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    assert.equal(v(data).length, 20);
  });

  it('checks recursive schemas (a tree), and data nested too deeply is a fault, not a crash', () => {
    const tree = validator({ type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } } });
    assert.deepEqual(tree({ name: 'a', children: [{ name: 'b', children: [{ name: 3 }] }] }), [{ path: 'data.children[0].children[0].name', message: 'must be string' }]);
    let deep: Record<string, unknown> = { name: 'leaf' };
    for (let i = 0; i < 20_000; i++) deep = { children: [deep] };
    assert.deepEqual(tree(deep), [{ path: 'data', message: 'is nested too deeply to check against the schema' }]);
  });

  it('treats format as an annotation and ignores unknown keywords, as draft 2020-12 does', () => {
    assert.deepEqual(validator({ properties: { e: { type: 'string', format: 'email' } }, 'x-owner': 'loyalty' })({ e: 'not an email' }), []);
  });
});

describe('topic schema: the schema itself', () => {
  it('refuses what is not JSON Schema, naming the place inside it', () => {
    assert.deepEqual(refusal({ type: 'object', properties: { amount: { type: 'integr' } } }), [
      { path: 'schema.properties.amount.type', message: 'must be one of "array", "boolean", "integer", "null", "number", "object", "string"' },
    ]);
    assert.deepEqual(refusal({ required: 'amount' }), [{ path: 'schema.required', message: 'must be array' }]);
    assert.deepEqual(refusal({ properties: { a: { minimum: 'zero' } } }), [{ path: 'schema.properties.a.minimum', message: 'must be number' }]);
    for (const bad of [null, 'string', 3, [], undefined]) assert.deepEqual(refusal(bad), [{ path: 'schema', message: 'must be a JSON Schema (an object)' }]);
    assert.ok(compileSchema(true).ok);
  });

  it('refuses $refs that do not resolve inside the schema (no remote fetches)', () => {
    assert.deepEqual(refusal({ $ref: 'https://example.com/schema.json' }), [
      { path: 'schema', message: 'has a $ref that does not resolve inside the schema: https://example.com/schema.json' },
    ]);
    assert.match(refusal({ properties: { a: { $ref: '#/$defs/missing' } } })[0]!.message, /does not resolve/);
  });

  it('refuses $ref loops that never move into the data, and allows loops that do', () => {
    assert.deepEqual(refusal({ $ref: '#' }), [{ path: 'schema', message: 'is a $ref loop that never moves into the data' }]);
    assert.deepEqual(refusal({ $defs: { a: { allOf: [{ $ref: '#/$defs/b' }] }, b: { anyOf: [{ type: 'string' }, { not: { $ref: '#/$defs/a' } }] } }, properties: { x: { $ref: '#/$defs/a' } } }), [
      { path: 'schema.$defs.a', message: 'is a $ref loop that never moves into the data' },
    ]);
    assert.match(refusal({ $defs: { n: { $anchor: 'node', if: { $ref: '#node' } } } })[0]!.message, /\$ref loop/);
    assert.match(refusal({ $dynamicAnchor: 'meta', allOf: [{ $dynamicRef: '#meta' }] })[0]!.message, /\$ref loop/);
    assert.match(refusal({ $id: 'https://x.example/a', $defs: { b: { $id: 'b', $ref: 'a' } }, $ref: 'b' })[0]!.message, /\$ref loop/);
    assert.ok(compileSchema({ $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } } } }, $ref: '#/$defs/node' }).ok);
  });

  it('runs pattern on RE2: catastrophic patterns are linear, lookaround is refused with its place', () => {
    const v = validator({ properties: { s: { type: 'string', pattern: '^(a+)+$' } } });
    const started = performance.now();
    assert.equal(v({ s: 'a'.repeat(50_000) + 'b' }).length, 1);
    // Not a speed target: an engine that backtracks would not return at all (about 2^50,000
    // steps), and one quadratic in the input would take far longer than this bound; RE2 takes
    // milliseconds. (A 500 ms bound failed once on a loaded 2-core machine.)
    assert.ok(performance.now() - started < 10_000, `took ${performance.now() - started} ms`);
    assert.deepEqual(v({ s: 'aaa' }), []);
    const [fault] = refusal({ properties: { s: { pattern: '^(?!admin).*' } } });
    assert.equal(fault!.path, 'schema.properties.s.pattern');
    assert.match(fault!.message, /^is not a pattern RE2 can run \(no lookaround or backreferences\)/);
    assert.equal(refusal({ patternProperties: { '(a)\\1': {} } })[0]!.path, 'schema.patternProperties');
  });

  it('refuses schemas too large or too deeply nested', () => {
    const huge = { enum: Array.from({ length: 10_000 }, (_, i) => `value-${i}`) };
    assert.match(refusal(huge)[0]!.message, new RegExp(`larger than ${MAX_SCHEMA_BYTES}`));
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 40; i++) deep = { properties: { a: deep } };
    assert.deepEqual(refusal(deep), [{ path: 'schema', message: 'is nested more than 32 levels deep' }]);
    // Within the size limit, JSON can nest thousands of levels: refused without recursing that far.
    assert.deepEqual(refusal(JSON.parse('{"enum":' + '['.repeat(30_000) + ']'.repeat(30_000) + '}')), [{ path: 'schema', message: 'is nested more than 32 levels deep' }]);
    let sixteen: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 15; i++) sixteen = { properties: { a: sixteen } }; // 31 levels of objects
    assert.ok(compileSchema(sixteen).ok);
  });

  it('refuses schemas whose anyOf/oneOf/allOf and $refs multiply past the bound; the worst accepted one is fast', () => {
    // N definitions, each an anyOf of two $refs to the next: no loop, but 2^N applications per value.
    const chain = (n: number, of = 'anyOf') => {
      const $defs: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) $defs[`d${i}`] = { [of]: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
      $defs[`d${n}`] = { type: 'object', properties: { a: { type: 'string' } }, required: ['missing'] };
      return { $defs, $ref: '#/$defs/d0' };
    };
    for (const schema of [chain(20), chain(12), chain(16, 'oneOf'), chain(16, 'allOf'), { $defs: chain(14).$defs, properties: { x: { $ref: '#/$defs/d0' } } }, { $defs: chain(14).$defs, items: { $ref: '#/$defs/d0' } }]) {
      const [fault] = refusal(schema);
      assert.equal(fault!.path, 'schema');
      assert.match(fault!.message, new RegExp(`^expands to more than ${MAX_SCHEMA_EXPANSION} subschemas per value`));
    }
    // The largest chain within the bound: each value (failing every branch, so nothing stops early) takes a few ms at most.
    const worst = validator(chain(10));
    worst({ a: 'warm-up' });
    const started = performance.now();
    for (let i = 0; i < 10; i++) assert.ok(worst({ a: 'x' }).length > 0);
    const perEvent = (performance.now() - started) / 10;
    assert.ok(perEvent < 10, `took ${perEvent} ms per event`);
    // Ordinary reuse of definitions still compiles: one address shape in many places, a recursive tree.
    const address = { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } } };
    const props = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`addr${i}`, { anyOf: [{ $ref: '#/$defs/address' }, { type: 'null' }] }]));
    assert.ok(compileSchema({ $defs: { address }, type: 'object', properties: props }).ok);
    assert.ok(compileSchema({ $defs: { node: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/$defs/node' } } } } }, $ref: '#/$defs/node' }).ok);
    assert.ok(compileSchema(WALLETREWARD).ok);
  });

  it('refuses uniqueItems over arrays of objects or arrays unless maxItems bounds them', () => {
    for (const schema of [
      { type: 'array', uniqueItems: true },
      { type: 'array', uniqueItems: true, items: { type: 'object' } },
      { type: 'array', uniqueItems: true, items: { type: ['string', 'array'] } },
      { type: 'array', uniqueItems: true, items: { $ref: '#/$defs/s' }, $defs: { s: { type: 'string' } } },
      { type: 'array', uniqueItems: true, maxItems: MAX_UNIQUE_ITEMS + 1 },
    ]) {
      const [fault] = refusal(schema);
      assert.equal(fault!.path, 'schema.uniqueItems');
      assert.match(fault!.message, new RegExp(`maxItems of at most ${MAX_UNIQUE_ITEMS}`));
    }
    assert.equal(refusal({ properties: { tags: { type: 'array', uniqueItems: true } } })[0]!.path, 'schema.properties.tags.uniqueItems');
    assert.ok(compileSchema({ type: 'array', uniqueItems: true, items: { type: 'string' } }).ok);
    assert.ok(compileSchema({ type: 'array', uniqueItems: true, items: { type: ['integer', 'null'] } }).ok);
    assert.ok(compileSchema({ type: 'array', uniqueItems: false }).ok);
    const short = validator({ type: 'array', uniqueItems: true, maxItems: MAX_UNIQUE_ITEMS });
    const items = Array.from({ length: MAX_UNIQUE_ITEMS }, (_, i) => ({ n: i, tags: ['a', 'b'], nested: { deep: [i] } }));
    // At most MAX_UNIQUE_ITEMS² / 2 comparisons: the bound is what keeps it cheap (its time is
    // for a benchmark, not a test: a 10 ms limit here could fail on a stalled machine).
    assert.deepEqual(short(items), []);
    assert.equal(short([{ a: 1 }, { a: 1 }]).length, 1);
    // Scalars are indexed, so a long array of them stays linear.
    const strings = validator({ type: 'array', uniqueItems: true, items: { type: 'string' } });
    assert.deepEqual(strings(Array.from({ length: 20_000 }, (_, i) => `s${i}`)), []);
  });

  it('keeps schemas of different topics apart: one $id twice is no clash', () => {
    const a = validator({ $id: 'https://example.com/s', type: 'object', required: ['a'] });
    const b = validator({ $id: 'https://example.com/s', type: 'object', required: ['b'] });
    assert.deepEqual(a({ b: 1 }), [{ path: 'data.a', message: 'is required' }]);
    assert.deepEqual(b({ a: 1 }), [{ path: 'data.b', message: 'is required' }]);
  });
});

describe('TopicSchemas', () => {
  it('compiles once per topic and version, and again when the version changes', () => {
    const schemas = new TopicSchemas();
    const v1 = schemas.validator('walletreward_create', 1, WALLETREWARD);
    assert.equal(schemas.validator('walletreward_create', 1, WALLETREWARD), v1);
    const stricter = { ...WALLETREWARD, required: [...WALLETREWARD.required, 'hash'] };
    const v2 = schemas.validator('walletreward_create', 2, stricter);
    assert.notEqual(v2, v1);
    assert.deepEqual(v2({ ...SAMPLE, hash: undefined }), [{ path: 'data.hash', message: 'is required' }]);
    assert.equal(schemas.validator('walletreward_create', schemaHash(stricter), stricter), schemas.validator('walletreward_create', schemaHash(stricter), stricter));
    assert.notEqual(schemaHash(stricter), schemaHash(WALLETREWARD));
    schemas.forget('walletreward_create');
    assert.notEqual(schemas.validator('walletreward_create', 2, stricter), v2);
  });

  it('throws a TopicSchemaError naming the topic for a schema that does not compile', () => {
    assert.throws(() => new TopicSchemas().validator('lead_create', 1, { type: 'nope' }), (err: Error) => err instanceof TopicSchemaError && /topic lead_create/.test(err.message));
  });
});
