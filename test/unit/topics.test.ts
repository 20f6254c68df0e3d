import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_TOPICS, TOPIC_NAME_PATTERN } from '../../src/domain/topics.js';

const EXPECTED_NAMES = [
  'walletreward_create',
  'coupon_create',
  'lead_create',
  'lead_update',
  'coupon_update',
  'order_create',
  'order_update',
  'wallettrasaction_update',
  'review_create',
  'review_update',
  'viptier_create',
  'reviewrequest_create',
  'incompletereferralrequest_create',
  'unusedcouponrequest_create',
  'unusedwalletcoinrequest_create',
  'coinexpirynotify_create',
  'refereenotify_create',
  'referrernotify_create',
];

describe('built-in topics', () => {
  it("has Nector's 18 topics, spelled and ordered exactly", () => {
    assert.equal(BUILTIN_TOPICS.length, 18);
    assert.deepEqual(
      BUILTIN_TOPICS.map((t) => t.name),
      EXPECTED_NAMES,
    );
  });

  it('has unique names', () => {
    const names = BUILTIN_TOPICS.map((t) => t.name);
    assert.equal(new Set(names).size, names.length);
  });

  it('has names that match TOPIC_NAME_PATTERN', () => {
    for (const topic of BUILTIN_TOPICS) {
      assert.match(topic.name, TOPIC_NAME_PATTERN, topic.name);
    }
  });

  it('lists the two most used topics first, with the labels of Nector\'s page', () => {
    assert.equal(BUILTIN_TOPICS[0]!.name, 'walletreward_create');
    assert.equal(BUILTIN_TOPICS[0]!.label, 'Wallet Coins Rewarded');
    assert.equal(BUILTIN_TOPICS[1]!.name, 'coupon_create');
    assert.equal(BUILTIN_TOPICS[1]!.label, 'Coupon Is Created');
  });

  it('gives every topic a label and a one-line description', () => {
    for (const topic of BUILTIN_TOPICS) {
      assert.ok(topic.label.trim().length > 0, `${topic.name} label`);
      assert.ok(topic.description.trim().length > 0, `${topic.name} description`);
      assert.ok(!topic.description.includes('\n'), `${topic.name} description is one line`);
    }
  });

  it('has samples that are plain objects surviving a JSON round trip', () => {
    for (const topic of BUILTIN_TOPICS) {
      const { sample } = topic;
      assert.equal(typeof sample, 'object', topic.name);
      assert.ok(sample !== null && !Array.isArray(sample), topic.name);
      assert.equal(Object.getPrototypeOf(sample), Object.prototype, topic.name);
      assert.deepEqual(JSON.parse(JSON.stringify(sample)), sample, topic.name);
    }
  });

  it('has samples without the business fields that Herald adds', () => {
    for (const topic of BUILTIN_TOPICS) {
      assert.ok(!('business_name' in topic.sample), `${topic.name} has business_name`);
      assert.ok(!('business_uri' in topic.sample), `${topic.name} has business_uri`);
    }
  });

  it('has samples under 2 KiB serialized', () => {
    for (const topic of BUILTIN_TOPICS) {
      const bytes = Buffer.byteLength(JSON.stringify(topic.sample), 'utf8');
      assert.ok(bytes < 2048, `${topic.name} sample is ${bytes} bytes`);
    }
  });
});
