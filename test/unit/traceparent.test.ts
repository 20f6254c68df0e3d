import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { childTraceparent, formatTraceparent, normaliseTraceparent, parseTraceparent } from '../../src/domain/traceparent.js';

// The example of W3C Trace Context §3.2.
const EXAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseTraceparent', () => {
  it('reads the spec example', () => {
    assert.deepEqual(parseTraceparent(EXAMPLE), { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: '01' });
    assert.equal(formatTraceparent(parseTraceparent(EXAMPLE)!), EXAMPLE);
    assert.equal(normaliseTraceparent(`  ${EXAMPLE} `), EXAMPLE);
  });

  it('is null, never an exception, for anything malformed', () => {
    for (const bad of [
      undefined, null, 42, {}, [EXAMPLE], '',
      EXAMPLE.toUpperCase(), // upper-case hex is invalid
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // all-zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // all-zero parent id
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff
      `${EXAMPLE}-extra`, // version 00 has exactly four fields
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', // short trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1',
      '00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01',
      '0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g',
      EXAMPLE + 'x'.repeat(1000),
    ]) {
      assert.equal(parseTraceparent(bad), null, String(bad));
      assert.equal(normaliseTraceparent(bad), null);
      assert.equal(childTraceparent(bad as string), null);
    }
  });

  it('accepts a later version with more fields, keeping the four it knows', () => {
    assert.deepEqual(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next'), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: '01',
    });
    assert.equal(normaliseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x'), EXAMPLE);
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      const t = parseTraceparent(s);
      return t === null || /^[0-9a-f]{32}$/.test(t.traceId);
    }));
  });
});

describe('childTraceparent', () => {
  it('keeps the trace id and flags and makes a new span id each time', () => {
    const a = childTraceparent(EXAMPLE)!;
    const b = childTraceparent(EXAMPLE)!;
    for (const child of [a, b]) {
      const t = parseTraceparent(child)!;
      assert.equal(t.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(t.flags, '01');
      assert.match(t.parentId, /^[0-9a-f]{16}$/);
      assert.notEqual(t.parentId, '00f067aa0ba902b7');
    }
    assert.notEqual(a, b);
    assert.equal(parseTraceparent(childTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')!)!.flags, '00');
  });
});
