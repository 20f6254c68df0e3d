import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { receiverBody, receiverPayload } from '../../src/domain/payload.js';

// receiverBody appends to the data's JSON text what receiverPayload adds to a copy of the
// data: for every shape of data the two must give the same bytes a receiver gets.
describe('receiverBody (the body as text, from the data JSON made for the size check)', () => {
  const shops = [
    { name: 'Brew & Bean Café', uri: 'https://brewandbean.example' },
    { name: 'Zoë "日本" 🔑 \\ \u2028', uri: null },
  ];
  const datas: Record<string, unknown>[] = [
    {},
    { amount: 150, customer_id: 'c1' },
    { business_name: 'Own', x: 1 },
    { business_uri: 'https://own.example', x: [1, { y: null }] },
    { business_name: 'Own', business_uri: null },
    { 2: 'b', 1: 'a', z: true, '10': 'c' }, // integer-like keys come first in both
    { nested: { business_name: 'not top level' }, s: 'line\nbreak', u: undefined, f: 1.5e-7 },
    JSON.parse('{"__proto__x":1,"a":{"b":{"c":[]}}}'),
  ];

  it('gives exactly JSON.stringify(receiverPayload(…).payload) and the same added fields', () => {
    for (const shop of shops) {
      for (const data of datas) {
        const expected = receiverPayload(shop, data);
        const got = receiverBody(shop, data, JSON.stringify(data));
        assert.equal(got.body, JSON.stringify(expected.payload), JSON.stringify(data));
        assert.deepEqual(got.addedFields, expected.addedFields);
        assert.deepEqual(JSON.parse(got.body), JSON.parse(JSON.stringify(expected.payload)));
      }
    }
  });

  it('makes the data JSON itself when not given, and keeps data that has both fields as it is', () => {
    const data = { business_name: 'Own', business_uri: 'https://own.example', n: 1 };
    const text = JSON.stringify(data);
    assert.equal(receiverBody(shops[0]!, data, text).body, text);
    assert.equal(receiverBody(shops[0]!, { a: 1 }).body, '{"a":1,"business_name":"Brew & Bean Café","business_uri":"https://brewandbean.example"}');
  });

  it('serialises data with its own toJSON (in-process publishing) as the copy would', () => {
    const data = { a: 1, toJSON: () => ({ replaced: true }) };
    const expected = JSON.stringify(receiverPayload(shops[0]!, data).payload);
    assert.equal(receiverBody(shops[0]!, data, JSON.stringify(data)).body, expected);
  });
});
