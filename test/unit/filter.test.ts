import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileFilter,
  FilterError,
  matchesFilter,
  validateFilter,
  type FilterFault,
} from '../../src/domain/filter.js';

// A "coins rewarded" event as a loyalty platform sends it.
const coins = {
  customer_id: 'c1',
  name: 'Priya Sharma',
  amount: 150,
  operation: 'cr',
  tags: ['vip', 'early-adopter'],
  metadetail: { country: 'usa', city: 'Austin', zip: '78701' },
  product_lines: [
    { product_id: 'p1', price: 10, sku: 'COF-250' },
    { product_id: 'p2', price: 25, sku: 'DRP-01', options: { size: 'L' } },
  ],
  referred_by: null,
  created_at: '2024-03-14T10:00:00Z',
  scores: [3, 9],
};

const match = (filter: unknown, body: unknown = coins): boolean => matchesFilter(filter, body);
const faults = (filter: unknown): FilterFault[] => validateFilter(filter);
const paths = (filter: unknown): string[] => faults(filter).map((f) => f.path);

function nest(levels: number, leaf: unknown): unknown {
  let f: unknown = leaf;
  for (let i = 0; i < levels; i++) f = { a: f };
  return f;
}

describe('filter root', () => {
  it('null, undefined and {} accept everything', () => {
    for (const f of [null, undefined, {}]) {
      assert.equal(match(f), true);
      assert.equal(match(f, null), true);
      assert.equal(match(f, 'text'), true);
      assert.deepEqual(faults(f), []);
    }
  });

  it('rejects a root that is not an object', () => {
    for (const f of [[], [{ amount: 1 }], 'amount', 42, true]) {
      assert.deepEqual(faults(f), [{ path: '', message: 'must be an object or null' }]);
    }
  });

  it('compileFilter throws a FilterError carrying the faults', () => {
    assert.throws(
      () => compileFilter({ amount: { $gte: true } }),
      (err: unknown) => {
        assert.ok(err instanceof FilterError);
        assert.ok(err instanceof Error);
        assert.equal(err.name, 'FilterError');
        assert.deepEqual(err.faults, [{ path: 'amount.$gte', message: 'must be a number or a string' }]);
        assert.match(err.message, /amount\.\$gte: must be a number or a string/);
        return true;
      },
    );
  });

  it('a compiled matcher is reusable across bodies', () => {
    const m = compileFilter({ operation: 'cr', amount: { $gte: 100 } });
    assert.equal(m(coins), true);
    assert.equal(m({ ...coins, operation: 'dr' }), false);
    assert.equal(m({ ...coins, amount: 99 }), false);
    assert.equal(m(null), false);
    assert.equal(m([coins]), true, 'a top-level array is searched like any other array');
  });

  it('treats a non-object body as having no fields', () => {
    assert.equal(match({ amount: 150 }, 'amount'), false);
    assert.equal(match({ amount: null }, 42), true);
    assert.equal(compileFilter({ amount: { $exists: false } })(undefined), true);
  });
});

describe('equality', () => {
  it('matches plain values with implicit AND across keys', () => {
    assert.equal(match({ customer_id: 'c1', operation: 'cr' }), true);
    assert.equal(match({ customer_id: 'c1', operation: 'dr' }), false);
    assert.equal(match({ amount: 150 }), true);
    assert.equal(match({ amount: 150.0 }), true);
  });

  it('does not coerce types', () => {
    assert.equal(match({ amount: '150' }), false);
    assert.equal(match({ customer_id: 'C1' }), false);
    assert.equal(match({ flag: 1 }, { flag: true }), false);
    assert.equal(match({ flag: false }, { flag: 0 }), false);
    assert.equal(match({ flag: '' }, { flag: null }), false);
  });

  it('nested objects and dotted paths are equivalent', () => {
    for (const f of [{ metadetail: { country: 'usa' } }, { 'metadetail.country': 'usa' }]) {
      assert.equal(match(f), true);
      assert.equal(match(f, { ...coins, metadetail: { country: 'ind' } }), false);
      assert.equal(match(f, { ...coins, metadetail: 'usa' }), false);
    }
    assert.equal(match({ metadetail: { country: 'usa', city: 'Austin' } }), true);
    assert.equal(match({ metadetail: { country: 'usa', city: 'Dallas' } }), false);
    assert.equal(match({ product_lines: { options: { size: 'L' } } }), true);
    assert.equal(match({ 'product_lines.options': { size: 'L' } }), true);
    assert.equal(match({ product_lines: { 'options.size': { $in: ['M', 'L'] } } }), true);
  });

  it('a nested object is not whole-object equality; $eq is', () => {
    const country = { metadetail: { $eq: { country: 'usa' } } };
    assert.equal(match(country), false, 'metadetail has more keys');
    assert.equal(match(country, { metadetail: { country: 'usa' } }), true);
    assert.equal(match({ metadetail: { $eq: { zip: '78701', city: 'Austin', country: 'usa' } } }), true, 'key order is irrelevant');
  });

  it('deep equality of objects and arrays', () => {
    assert.equal(match({ tags: { $eq: ['vip', 'early-adopter'] } }), true);
    assert.equal(match({ tags: { $eq: ['early-adopter', 'vip'] } }), false);
    assert.equal(match({ tags: { $eq: ['vip'] } }), false);
    assert.equal(match({ product_lines: { $eq: { product_id: 'p1', price: 10, sku: 'COF-250' } } }), true);
    assert.equal(match({ product_lines: { $eq: { product_id: 'p1', price: 10 } } }), false);
    assert.equal(match({ x: { $eq: { a: [1, { b: null }] } } }, { x: { a: [1, { b: null }] } }), true);
    assert.equal(match({ x: { $eq: { a: [1, { b: null }] } } }, { x: { a: [1, { b: 0 }] } }), false);
    assert.equal(match({ x: { $eq: {} } }, { x: {} }), true);
    assert.equal(match({ x: { $eq: {} } }, { x: [] }), false);
    assert.equal(match({ x: { $eq: [] } }, { x: {} }), false);
    assert.equal(match({ x: { $eq: { a: 1 } } }, { x: { a: 1, b: undefined } }), true, 'undefined is not sent');
  });

  it('against an array field a plain value means "contains"', () => {
    assert.equal(match({ tags: 'vip' }), true);
    assert.equal(match({ tags: 'gold' }), false);
    assert.equal(match({ scores: 9 }), true);
    assert.equal(match({ scores: '9' }), false);
    assert.equal(match({ tags: ['vip', 'early-adopter'] }), true, 'whole array equality still holds');
    assert.equal(match({ matrix: [1, 2] }, { matrix: [[0], [1, 2]] }), true, 'an element equal to the array');
  });

  it('null matches a null or missing field', () => {
    assert.equal(match({ referred_by: null }), true);
    assert.equal(match({ coupon_code: null }), true);
    assert.equal(match({ 'metadetail.state': null }), true);
    assert.equal(match({ name: null }), false);
    assert.equal(match({ coupon_code: { $eq: null } }), true);
    assert.equal(match({ tags: null }, { tags: ['vip', null] }), true);
    assert.equal(match({ tags: null }), false);
  });

  it('field paths walk arrays: numeric index or any element', () => {
    assert.equal(match({ 'product_lines.0.price': 10 }), true);
    assert.equal(match({ 'product_lines.1.price': 10 }), false);
    assert.equal(match({ 'product_lines.5.price': null }), true, 'out of range is missing');
    assert.equal(match({ 'product_lines.product_id': 'p2' }), true);
    assert.equal(match({ 'product_lines.product_id': 'p3' }), false);
    assert.equal(match({ 'tags.0': 'vip' }), true);
    assert.equal(match({ 'tags.1': 'vip' }), false);
    assert.equal(match({ 'scores.0': { $lt: 5 } }), true);
    assert.equal(match({ 'scores.1': { $lt: 5 } }), false);
    assert.equal(match({ 'grid.cell': 1 }, { grid: [[{ cell: 0 }], [{ cell: 1 }]] }), true, 'nested arrays');
    assert.equal(match({ 'buckets.0': 'x' }, { buckets: { 0: 'x' } }), true, 'numeric key of an object');
  });

  it('a path through a scalar or null is a missing field', () => {
    assert.equal(match({ 'name.first': null }), true);
    assert.equal(match({ 'name.first': { $exists: true } }), false);
    assert.equal(match({ 'referred_by.id': { $exists: false } }), true);
    assert.equal(match({ 'amount.value': 150 }), false);
  });

  it('never walks the prototype', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      assert.equal(match({ [key]: { $exists: true } }), false, key);
      assert.equal(match({ [key]: { $exists: false } }), true, key);
      assert.equal(match({ [key]: null }), true, key);
      assert.equal(match({ [`metadetail.${key}`]: { $exists: true } }), false, key);
      assert.equal(match({ [`tags.${key}`]: { $exists: true } }), false, key);
    }
    assert.equal(match({ 'tags.length': 2 }), false);
    assert.equal(match({ 'name.length': 12 }), false);
    // A key that JSON.parse makes an own property is a real field.
    const body = JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c"}') as unknown;
    assert.equal(match(JSON.parse('{"__proto__": {"$exists": true}}'), body), true);
    assert.equal(match(JSON.parse('{"__proto__.polluted": true}'), body), true);
    assert.equal(match({ constructor: 'c' }, body), true);
    assert.equal(match({ x: 1 }, Object.assign(Object.create(null), { x: 1 })), true);
  });
});

describe('$ne / $neq', () => {
  it('is true when missing or not equal', () => {
    assert.equal(match({ operation: { $ne: 'dr' } }), true);
    assert.equal(match({ operation: { $ne: 'cr' } }), false);
    assert.equal(match({ operation: { $neq: 'cr' } }), false);
    assert.equal(match({ coupon_code: { $ne: 'X' } }), true);
    assert.equal(match({ amount: { $ne: '150' } }), true);
  });

  it('null: present and not null', () => {
    assert.equal(match({ referred_by: { $ne: null } }), false);
    assert.equal(match({ coupon_code: { $ne: null } }), false);
    assert.equal(match({ name: { $ne: null } }), true);
  });

  it('arrays: no element equals and the array itself is not equal', () => {
    assert.equal(match({ tags: { $ne: 'vip' } }), false);
    assert.equal(match({ tags: { $ne: 'gold' } }), true);
    assert.equal(match({ tags: { $ne: ['vip', 'early-adopter'] } }), false);
    assert.equal(match({ 'product_lines.product_id': { $ne: 'p1' } }), false);
    assert.equal(match({ 'product_lines.product_id': { $ne: 'p9' } }), true);
  });
});

describe('$gt / $gte / $lt / $lte', () => {
  it('compares numbers', () => {
    assert.equal(match({ amount: { $gt: 149 } }), true);
    assert.equal(match({ amount: { $gt: 150 } }), false);
    assert.equal(match({ amount: { $gte: 150 } }), true);
    assert.equal(match({ amount: { $lt: 150 } }), false);
    assert.equal(match({ amount: { $lte: 150 } }), true);
    assert.equal(match({ amount: { $gt: 99.5 } }), true);
    assert.equal(match({ amount: { $lt: 0 } }, { amount: -0.5 }), true);
  });

  it('compares strings, so ISO dates work', () => {
    assert.equal(match({ created_at: { $gte: '2024-01-01T00:00:00Z' } }), true);
    assert.equal(match({ created_at: { $lt: '2024-03-01' } }), false);
    assert.equal(match({ name: { $gt: 'P' } }), true);
  });

  it('mismatched types and missing fields are false', () => {
    assert.equal(match({ amount: { $gt: '100' } }), false);
    assert.equal(match({ amount: { $lt: '999' } }), false);
    assert.equal(match({ created_at: { $gt: 0 } }), false);
    assert.equal(match({ referred_by: { $gte: 0 } }), false);
    assert.equal(match({ balance: { $lt: 1e9 } }), false);
    assert.equal(match({ flag: { $lt: 1 } }, { flag: false }), false);
  });

  it('several operators in one object must all hold', () => {
    assert.equal(match({ amount: { $gte: 100, $lt: 200 } }), true);
    assert.equal(match({ amount: { $gte: 10, $lt: 20 } }), false);
    assert.equal(match({ amount: { $gt: 100, $ne: 150 } }), false);
  });

  it('array fields: any element satisfies', () => {
    assert.equal(match({ scores: { $gt: 8 } }), true);
    assert.equal(match({ scores: { $gt: 9 } }), false);
    assert.equal(match({ 'product_lines.price': { $gte: 20 } }), true);
    assert.equal(match({ 'product_lines.price': { $gt: 25 } }), false);
    assert.equal(match({ tags: { $gte: 'w' } }), false);
  });

  it('rejects other argument types', () => {
    for (const arg of [true, null, [1], { n: 1 }, Number.NaN, Infinity]) {
      assert.deepEqual(faults({ amount: { $gte: arg } }), [
        { path: 'amount.$gte', message: 'must be a number or a string' },
      ]);
    }
  });
});

describe('$in / $nin', () => {
  it('matches when the field equals one of the values', () => {
    assert.equal(match({ operation: { $in: ['cr', 'dr'] } }), true);
    assert.equal(match({ operation: { $in: ['dr'] } }), false);
    assert.equal(match({ operation: { $in: [] } }), false);
    assert.equal(match({ amount: { $in: ['150'] } }), false);
    assert.equal(match({ amount: { $in: [100, 150] } }), true);
    assert.equal(match({ metadetail: { $in: [{ country: 'usa', city: 'Austin', zip: '78701' }] } }), true);
    assert.equal(match({ metadetail: { $in: [{ country: 'usa' }] } }), false);
  });

  it('array fields: any element equals one of them', () => {
    assert.equal(match({ tags: { $in: ['gold', 'vip'] } }), true);
    assert.equal(match({ tags: { $in: ['gold', 'silver'] } }), false);
    assert.equal(match({ 'product_lines.product_id': { $in: ['p2', 'p7'] } }), true);
    assert.equal(match({ tags: { $in: [['vip', 'early-adopter']] } }), true);
  });

  it('null in the list matches null or missing', () => {
    assert.equal(match({ coupon_code: { $in: [null, 'X'] } }), true);
    assert.equal(match({ referred_by: { $in: [null] } }), true);
    assert.equal(match({ coupon_code: { $in: ['X'] } }), false);
  });

  it('$nin is the negation (missing field → true)', () => {
    assert.equal(match({ operation: { $nin: ['dr', 'exp'] } }), true);
    assert.equal(match({ operation: { $nin: ['cr'] } }), false);
    assert.equal(match({ coupon_code: { $nin: ['X'] } }), true);
    assert.equal(match({ coupon_code: { $nin: [null] } }), false);
    assert.equal(match({ tags: { $nin: ['vip'] } }), false);
    assert.equal(match({ tags: { $nin: ['gold'] } }), true);
    assert.equal(match({ operation: { $nin: [] } }), true);
  });

  it('validates the list', () => {
    assert.deepEqual(faults({ tags: { $in: 'vip' } }), [{ path: 'tags.$in', message: 'must be an array' }]);
    assert.deepEqual(faults({ tags: { $nin: { a: 1 } } }), [{ path: 'tags.$nin', message: 'must be an array' }]);
    const big = Array.from({ length: 1001 }, (_, i) => `cust-${i}`);
    assert.deepEqual(faults({ customer_id: { $in: big } }), [
      { path: 'customer_id.$in', message: 'must have at most 1000 items' },
    ]);
    assert.deepEqual(faults({ customer_id: { $in: big.slice(0, 1000) } }), []);
    assert.equal(match({ customer_id: { $in: ['x', ...big.slice(0, 999)] } }), false);
    assert.equal(match({ customer_id: { $in: [...big.slice(0, 999), 'c1'] } }), true);
    assert.deepEqual(paths({ amount: { $in: [1, Number.NaN, 3] } }), ['amount.$in[1]']);
  });
});

describe('$exists / $exist', () => {
  it('true: present even if null; false: missing', () => {
    assert.equal(match({ referred_by: { $exists: true } }), true);
    assert.equal(match({ referred_by: { $exists: false } }), false);
    assert.equal(match({ coupon_code: { $exists: true } }), false);
    assert.equal(match({ coupon_code: { $exists: false } }), true);
    assert.equal(match({ coupon_code: { $exist: false } }), true);
    assert.equal(match({ 'metadetail.city': { $exist: true } }), true);
  });

  it('through arrays: present in any element', () => {
    assert.equal(match({ 'product_lines.options': { $exists: true } }), true);
    assert.equal(match({ 'product_lines.discount': { $exists: true } }), false);
    assert.equal(match({ 'product_lines.discount': { $exists: false } }), true);
    assert.equal(match({ 'product_lines.1': { $exists: true } }), true);
    assert.equal(match({ 'product_lines.2': { $exists: true } }), false);
  });

  it('requires a boolean', () => {
    for (const arg of [1, 'true', null]) {
      assert.deepEqual(faults({ name: { $exists: arg } }), [{ path: 'name.$exists', message: 'must be a boolean' }]);
    }
    assert.deepEqual(paths({ name: { $exist: 0 } }), ['name.$exist']);
  });
});

describe('$regex', () => {
  it('matches string fields, unanchored', () => {
    assert.equal(match({ name: { $regex: 'Sharma$' } }), true);
    assert.equal(match({ name: { $regex: '^Sharma' } }), false);
    assert.equal(match({ customer_id: { $regex: '^c\\d+$' } }), true);
    assert.equal(match({ 'metadetail.zip': { $regex: '^787' } }), true);
  });

  it('honours $options i, m and s', () => {
    assert.equal(match({ name: { $regex: '^priya' } }), false);
    assert.equal(match({ name: { $regex: '^priya', $options: 'i' } }), true);
    assert.equal(match({ 'metadetail.country': { $regex: 'USA', $options: 'i' } }), true);
    const note = { note: 'first line\nsecond line' };
    assert.equal(match({ note: { $regex: '^second' } }, note), false);
    assert.equal(match({ note: { $regex: '^second', $options: 'm' } }, note), true);
    assert.equal(match({ note: { $regex: 'line.second' } }, note), false);
    assert.equal(match({ note: { $regex: 'line.second', $options: 's' } }, note), true);
    assert.equal(match({ note: { $regex: '^SECOND', $options: 'mi' } }, note), true);
    assert.equal(match({ note: { $options: 'i', $regex: 'FIRST' } }, note), true, 'order of keys is irrelevant');
  });

  it('only string fields; arrays: any string element', () => {
    assert.equal(match({ amount: { $regex: '150' } }), false);
    assert.equal(match({ referred_by: { $regex: '.*' } }), false);
    assert.equal(match({ coupon_code: { $regex: '.*' } }), false);
    assert.equal(match({ metadetail: { $regex: 'usa' } }), false);
    assert.equal(match({ tags: { $regex: '^early' } }), true);
    assert.equal(match({ tags: { $regex: '^gold' } }), false);
    assert.equal(match({ scores: { $regex: '9' } }), false);
    assert.equal(match({ 'product_lines.sku': { $regex: '^DRP-' } }), true);
  });

  it('reports an invalid pattern at its path with the engine message', () => {
    const found = faults({ $or: [{ tier: 'gold' }, { name: { $regex: '(unclosed' } }] });
    assert.equal(found.length, 1);
    assert.equal(found[0].path, '$or[1].name.$regex');
    assert.match(found[0].message, /missing closing \)/);
    // Lookaround is not linear-time, so RE2 refuses it.
    assert.deepEqual(paths({ name: { $regex: '(?=P)Priya' } }), ['name.$regex']);
  });

  it('validates the pattern and options', () => {
    assert.deepEqual(faults({ name: { $regex: 42 } }), [{ path: 'name.$regex', message: 'must be a string' }]);
    assert.deepEqual(faults({ name: { $regex: 'x'.repeat(1025) } }), [
      { path: 'name.$regex', message: 'must be at most 1024 characters' },
    ]);
    assert.deepEqual(faults({ name: { $regex: 'x'.repeat(1024) } }), []);
    assert.deepEqual(faults({ name: { $regex: 'p', $options: 'g' } }), [
      { path: 'name.$options', message: 'must be a string of the flags i, m, s' },
    ]);
    assert.deepEqual(paths({ name: { $regex: 'p', $options: 1 } }), ['name.$options']);
    assert.deepEqual(faults({ name: { $options: 'i' } }), [{ path: 'name.$options', message: 'requires $regex' }]);
  });

  it('runs in linear time on a catastrophic-backtracking pattern', () => {
    const m = compileFilter({ note: { $regex: '(a+)+$' } });
    const result = m({ note: 'a'.repeat(50000) + '!' });
    assert.equal(typeof result, 'boolean');
    // Same for a pattern that would also blow up V8 with a match at the end.
    const m2 = compileFilter({ note: { $regex: '^(a|aa)+$' } });
    assert.equal(typeof m2({ note: 'a'.repeat(50000) + 'b' }), 'boolean');
  });
});

describe('$startsWith / $endsWith', () => {
  it('tests string fields only', () => {
    assert.equal(match({ name: { $startsWith: 'Priya' } }), true);
    assert.equal(match({ name: { $startsWith: 'priya' } }), false);
    assert.equal(match({ name: { $endsWith: 'Sharma' } }), true);
    assert.equal(match({ name: { $endsWith: 'Priya' } }), false);
    assert.equal(match({ amount: { $startsWith: '1' } }), false);
    assert.equal(match({ coupon_code: { $endsWith: '' } }), false);
    assert.equal(match({ referred_by: { $startsWith: '' } }), false);
    assert.equal(match({ name: { $startsWith: '' } }), true);
  });

  it('arrays: any string element', () => {
    assert.equal(match({ tags: { $startsWith: 'early' } }), true);
    assert.equal(match({ tags: { $endsWith: 'ip' } }), true);
    assert.equal(match({ tags: { $endsWith: 'gold' } }), false);
    assert.equal(match({ 'product_lines.sku': { $startsWith: 'COF' } }), true);
  });

  it('requires a string', () => {
    assert.deepEqual(faults({ name: { $startsWith: 1 } }), [{ path: 'name.$startsWith', message: 'must be a string' }]);
    assert.deepEqual(faults({ name: { $endsWith: null } }), [{ path: 'name.$endsWith', message: 'must be a string' }]);
  });
});

describe('$contains', () => {
  it('on a string field: substring', () => {
    assert.equal(match({ name: { $contains: 'ya Sh' } }), true);
    assert.equal(match({ name: { $contains: 'sharma' } }), false);
    assert.equal(match({ amount: { $contains: '15' } }), false);
    assert.equal(match({ name: { $contains: 1 } }), false);
    assert.equal(match({ coupon_code: { $contains: 'x' } }), false);
  });

  it('on an array field: an element deep-equal to the argument', () => {
    assert.equal(match({ tags: { $contains: 'vip' } }), true);
    assert.equal(match({ tags: { $contains: 'vi' } }), false, 'not a substring of an element');
    assert.equal(match({ scores: { $contains: 3 } }), true);
    assert.equal(match({ scores: { $contains: '3' } }), false);
    assert.equal(match({ product_lines: { $contains: { product_id: 'p1', price: 10, sku: 'COF-250' } } }), true);
    assert.equal(match({ product_lines: { $contains: { product_id: 'p1' } } }), false);
    assert.equal(match({ metadetail: { $contains: 'usa' } }), false);
  });

  it('through an array of objects: substring of any reached string', () => {
    assert.equal(match({ 'product_lines.sku': { $contains: '-0' } }), true);
  });
});

describe('logical operators at filter level', () => {
  const gold = { ...coins, tier: 'gold', tags: [] };
  const vip = coins;
  const neither = { ...coins, tags: ['new'] };
  const f = { amount: { $gte: 100 }, $or: [{ tier: 'gold' }, { tags: 'vip' }] };

  it('$or: any branch', () => {
    assert.equal(match(f, gold), true);
    assert.equal(match(f, vip), true);
    assert.equal(match(f, neither), false);
    assert.equal(match(f, { ...gold, amount: 50 }), false);
  });

  it('$and: every branch', () => {
    const g = { $and: [{ operation: 'cr' }, { 'metadetail.country': 'usa' }, { amount: { $lt: 1000 } }] };
    assert.equal(match(g), true);
    assert.equal(match(g, { ...coins, amount: 5000 }), false);
  });

  it('$not negates one filter object', () => {
    assert.equal(match({ $not: { operation: 'dr' } }), true);
    assert.equal(match({ $not: { operation: 'cr', amount: { $gt: 100 } } }), false);
    assert.equal(match({ $not: { operation: 'cr', amount: { $gt: 500 } } }), true);
    assert.equal(match({ $not: {} }), false);
  });

  it('nests', () => {
    const g = {
      $or: [
        { $and: [{ operation: 'cr' }, { $not: { tags: 'vip' } }] },
        { $and: [{ 'metadetail.country': { $in: ['usa', 'can'] } }, { $or: [{ amount: { $gte: 1000 } }, { tags: 'early-adopter' }] }] },
      ],
    };
    assert.equal(match(g), true);
    assert.equal(match(g, { ...coins, tags: [] }), true);
    assert.equal(match(g, { ...coins, operation: 'dr', tags: ['vip'] }), false);
  });

  it('empty or non-array $and/$or are faults', () => {
    for (const op of ['$and', '$or']) {
      for (const arg of [[], {}, 'x', null]) {
        assert.deepEqual(faults({ [op]: arg }), [{ path: op, message: 'must be a non-empty array of filter objects' }]);
      }
    }
  });

  it('branches must be filter objects', () => {
    assert.deepEqual(faults({ $or: [{ tier: 'gold' }, 'vip', null, [{ a: 1 }]] }), [
      { path: '$or[1]', message: 'must be an object' },
      { path: '$or[2]', message: 'must be an object' },
      { path: '$or[3]', message: 'must be an object' },
    ]);
    assert.deepEqual(faults({ $not: [{ a: 1 }] }), [{ path: '$not', message: 'must be an object' }]);
    assert.deepEqual(faults({ $not: true }), [{ path: '$not', message: 'must be an object' }]);
  });

  it('field operators are not allowed at filter level', () => {
    assert.deepEqual(faults({ $gte: 5 }), [{ path: '$gte', message: 'operator $gte must be applied to a field' }]);
    assert.deepEqual(faults({ $or: [{ $regex: 'x' }] }), [
      { path: '$or[0].$regex', message: 'operator $regex must be applied to a field' },
    ]);
  });
});

describe('logical operators inside a field', () => {
  it('$not negates an operator object', () => {
    assert.equal(match({ amount: { $not: { $gt: 5 } } }), false);
    assert.equal(match({ amount: { $not: { $gt: 500 } } }), true);
    assert.equal(match({ amount: { $not: { $gte: 100, $lte: 200 } } }), false);
    assert.equal(match({ coupon_code: { $not: { $gt: 5 } } }), true, 'missing field');
    assert.equal(match({ name: { $not: { $regex: '^priya', $options: 'i' } } }), false);
    assert.equal(match({ tags: { $not: { $in: ['gold'] } } }), true);
  });

  it('$not with a plain value means not $eq', () => {
    assert.equal(match({ operation: { $not: 'dr' } }), true);
    assert.equal(match({ operation: { $not: 'cr' } }), false);
    assert.equal(match({ tags: { $not: 'vip' } }), false);
    assert.equal(match({ referred_by: { $not: null } }), false);
    assert.equal(match({ tags: { $not: ['vip', 'early-adopter'] } }), false);
  });

  it('$and/$or apply operator objects to the same field', () => {
    assert.equal(match({ amount: { $or: [{ $lt: 10 }, { $gt: 100 }] } }), true);
    assert.equal(match({ amount: { $or: [{ $lt: 10 }, { $gt: 200 }] } }), false);
    assert.equal(match({ amount: { $and: [{ $gt: 100 }, { $lt: 200 }] } }), true);
    assert.equal(match({ amount: { $and: [{ $gt: 100 }, { $not: { $eq: 150 } }] } }), false);
    assert.equal(match({ operation: { $or: ['cr', 'dr'] } }), true, 'plain values mean $eq');
    assert.equal(match({ metadetail: { country: { $or: [{ $eq: 'usa' }, { $regex: '^ca' }] } } }), true);
  });

  it('operands must be operator objects or plain non-object values', () => {
    const message = 'must be an operator object or a non-object value (use $eq to compare objects)';
    assert.deepEqual(faults({ metadetail: { $not: { country: 'usa' } } }), [{ path: 'metadetail.$not', message }]);
    assert.deepEqual(faults({ amount: { $not: {} } }), [{ path: 'amount.$not', message }]);
    assert.deepEqual(faults({ amount: { $or: [{ $gt: 1 }, { $lt: 2, x: 1 }] } }), [{ path: 'amount.$or[1]', message }]);
  });

  it('empty or non-array field-level $and/$or are faults', () => {
    for (const op of ['$and', '$or']) {
      assert.deepEqual(faults({ amount: { [op]: [] } }), [
        { path: `amount.${op}`, message: 'must be a non-empty array of operator objects' },
      ]);
      assert.deepEqual(paths({ amount: { [op]: { $gt: 1 } } }), [`amount.${op}`]);
    }
  });
});

describe('validation faults', () => {
  it('unknown operators', () => {
    assert.deepEqual(faults({ amount: { $foo: 1 } }), [{ path: 'amount.$foo', message: 'unknown operator $foo' }]);
    assert.deepEqual(faults({ $foo: 1 }), [{ path: '$foo', message: 'unknown operator $foo' }]);
    assert.deepEqual(faults({ amount: { $not: { $between: [1, 2] } } }), [
      { path: 'amount.$not.$between', message: 'unknown operator $between' },
    ]);
  });

  it('mixing operators and field names', () => {
    assert.deepEqual(faults({ metadetail: { country: 'usa', $exists: true } }), [
      { path: 'metadetail', message: 'cannot mix operators and field names in one object' },
    ]);
  });

  it('an empty nested object', () => {
    assert.deepEqual(paths({ metadetail: {} }), ['metadetail']);
    assert.deepEqual(paths({ metadetail: { country: {} } }), ['metadetail.country']);
  });

  it('malformed field paths', () => {
    assert.deepEqual(paths({ 'metadetail..country': 'usa' }), ['metadetail..country']);
    assert.deepEqual(paths({ '': 1 }), ['']);
    assert.deepEqual(paths({ '.amount': 1 }), ['.amount']);
    assert.deepEqual(faults({ 'amount.$gt': 1 }), [
      { path: 'amount.$gt', message: 'field path segments must not start with $' },
    ]);
  });

  it('non-JSON literals', () => {
    assert.deepEqual(faults({ amount: Number.NaN }), [{ path: 'amount', message: 'must be a finite number' }]);
    assert.deepEqual(faults({ amount: undefined }), [{ path: 'amount', message: 'must be a JSON value' }]);
    assert.deepEqual(paths({ when: { $eq: new Date(0) } }), ['when.$eq']);
    assert.deepEqual(paths({ tags: ['vip', () => 1] }), ['tags[1]']);
    assert.deepEqual(paths({ x: { $eq: { a: [1, Infinity] } } }), ['x.$eq.a[1]']);
  });

  it('collects every fault with its full path', () => {
    const filter = {
      amount: { $gte: 'ok', $lt: true },
      metadetail: { country: { $in: 'usa' }, 'geo.lat': { $gt: [] } },
      $or: [{ tier: 'gold' }, { amount: { $gte: null } }, { $and: [] }],
      $and: [{ tags: { $foo: 1 } }],
      $not: { 'product_lines.0.price': { $exists: 'yes' } },
    };
    assert.deepEqual(faults(filter), [
      { path: 'amount.$lt', message: 'must be a number or a string' },
      { path: 'metadetail.country.$in', message: 'must be an array' },
      { path: 'metadetail.geo.lat.$gt', message: 'must be a number or a string' },
      { path: '$or[1].amount.$gte', message: 'must be a number or a string' },
      { path: '$or[2].$and', message: 'must be a non-empty array of filter objects' },
      { path: '$and[0].tags.$foo', message: 'unknown operator $foo' },
      { path: '$not.product_lines.0.price.$exists', message: 'must be a boolean' },
    ]);
    assert.throws(() => compileFilter(filter), (err: unknown) => err instanceof FilterError && err.faults.length === 7);
  });

  it('caps the fault list', () => {
    const filter = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, { $bad: 1 }]));
    const found = faults(filter);
    assert.ok(found.length >= 1 && found.length <= 100);
    assert.deepEqual(found[0], { path: 'f0.$bad', message: 'unknown operator $bad' });
  });
});

describe('limits', () => {
  it('allows nesting up to depth 32 and rejects deeper', () => {
    // The root object is depth 1, so nest(32, 1) is exactly at the limit.
    assert.deepEqual(faults(nest(32, 1)), []);
    assert.equal(match(nest(32, 1), nest(32, 1)), true);
    assert.equal(match(nest(32, 1), nest(32, 2)), false);
    assert.deepEqual(faults(nest(33, 1)).map((f) => f.message), ['nesting depth exceeds 32']);
    // An operator object is a level too.
    assert.deepEqual(faults(nest(31, { $gte: 0 })), []);
    assert.deepEqual(paths(nest(32, { $gte: 0 })).length, 1);
    const found = faults(nest(40, 1));
    assert.equal(found.length, 1);
    assert.equal(found[0].message, 'nesting depth exceeds 32');
    assert.equal(found[0].path, Array.from({ length: 32 }, () => 'a').join('.'));
  });

  it('counts depth through logical operators and literals', () => {
    let f: unknown = { amount: 1 };
    for (let i = 0; i < 20; i++) f = { $and: [f] };
    assert.deepEqual(paths(f).length, 1);
    assert.match(faults(f)[0].message, /nesting depth/);
    assert.match(faults({ x: { $eq: nest(40, 1) } })[0].message, /nesting depth/);
    // root, {$in}, the array and the literal's outer object take depths 1 to 4; depth 33 is 29 keys further.
    assert.deepEqual(faults({ x: { $in: [1, nest(40, 1)] } })[0].path, 'x.$in[1]' + '.a'.repeat(29));
    let ops: unknown = { $gt: 1 };
    for (let i = 0; i < 40; i++) ops = { $not: ops };
    assert.deepEqual(faults({ amount: ops }).map((f) => f.message), ['nesting depth exceeds 32']);
  });

  it('survives pathological depth without a stack overflow', () => {
    assert.equal(faults(nest(100000, 1)).length, 1);
  });

  it('rejects more than 1000 nodes', () => {
    const wide = Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`f${i}`, i]));
    const found = faults(wide);
    assert.deepEqual(found, [{ path: '', message: 'filter has more than 1000 nodes' }]);
    const ok = Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`f${i}`, i]));
    assert.deepEqual(faults(ok), []);
    const manyBranches = { $or: Array.from({ length: 600 }, (_, i) => ({ customer_id: `c${i}` })) };
    assert.deepEqual(faults(manyBranches), [{ path: '', message: 'filter has more than 1000 nodes' }]);
  });
});

describe('hot path', () => {
  it('handles many events with one compiled matcher', () => {
    const m = compileFilter({
      operation: 'cr',
      'metadetail.country': { $in: ['usa', 'can'] },
      amount: { $gte: 100 },
      $or: [{ tags: 'vip' }, { 'product_lines.price': { $gt: 100 } }],
      name: { $regex: '^p', $options: 'i' },
    });
    let hits = 0;
    for (let i = 0; i < 30000; i++) if (m({ ...coins, amount: i % 300 })) hits++;
    assert.equal(hits, 20000);
  });
});
