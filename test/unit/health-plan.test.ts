import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appliedEffects, healthOutcomes, healthToRead, planHealth, type HealthPolicy } from '../../src/domain/health.js';

const NOW = 1_700_000_000_000;
const policy: HealthPolicy = { threshold: 3, cooldownMs: 1000, maxCooldownMs: 60_000, disableAfterMs: 3_600_000 };
const attempt = {};

describe('planHealth', () => {
  it('opens the circuit at the threshold and pushes nothing for a webhook that recovered', () => {
    const plan = planHealth(
      policy,
      [{ webhookId: 'a', ok: false }, { webhookId: 'b', ok: false }, { webhookId: 'a', ok: false }, { webhookId: 'b', ok: true }],
      new Map([['a', { consecutiveFailures: 1, failingSince: NOW - 10, openUntil: null }]]),
      NOW,
    );
    assert.deepEqual(plan.healed, ['b']);
    assert.deepEqual([...plan.failing], [['a', { consecutiveFailures: 3, failingSince: NOW - 10, openUntil: NOW + 1000 }]]);
    assert.deepEqual(plan.opened, [{ webhookId: 'a', until: NOW + 1000 }]);
    assert.deepEqual(plan.disable, []);
    assert.deepEqual(plan.effects, [{ kind: 'circuit-opened', webhookId: 'a', until: NOW + 1000 }]);
  });

  it('disables a webhook failing for longer than disableAfterMs, unless a later success in the batch heals it', () => {
    const failingLong = new Map([['a', { consecutiveFailures: 1, failingSince: NOW - policy.disableAfterMs, openUntil: null }]]);
    const plan = planHealth(policy, [{ webhookId: 'a', ok: false }], failingLong, NOW);
    assert.equal(plan.disable.length, 1);
    assert.equal(plan.disable[0]!.webhookId, 'a');
    assert.match(plan.disable[0]!.reason, /every attempt failed since .* \(2 in a row\)/);
    assert.deepEqual(plan.effects.map((e) => e.kind), ['disabled']);

    const healed = planHealth(policy, [{ webhookId: 'a', ok: false }, { webhookId: 'a', ok: true }], failingLong, NOW);
    assert.deepEqual([healed.healed, healed.disable, healed.effects], [['a'], [], []]);
  });

  it('appliedEffects announces a disable only for webhooks the write switched off', () => {
    const failingLong = new Map([
      ['a', { consecutiveFailures: 5, failingSince: NOW - policy.disableAfterMs, openUntil: null }],
      ['b', { consecutiveFailures: 5, failingSince: NOW - policy.disableAfterMs, openUntil: null }],
    ]);
    const plan = planHealth(policy, [{ webhookId: 'a', ok: false }, { webhookId: 'b', ok: false }], failingLong, NOW);
    const effects = appliedEffects(plan, new Set(['b']));
    assert.deepEqual(effects.filter((e) => e.kind === 'disabled').map((e) => e.webhookId), ['b']);
    assert.equal(effects.filter((e) => e.kind === 'circuit-opened').length, 2, 'opened circuits are announced whatever was switched off');
  });
});

describe('healthOutcomes and healthToRead', () => {
  it('counts recorded results that made an attempt, in order, and reads the failing webhooks once', () => {
    const results = [
      { webhookId: 'a', status: 'succeeded', attempt },
      { webhookId: 'b', status: 'failed', attempt },
      { webhookId: 'c', status: 'failed', attempt: null }, // closed without an attempt
      { webhookId: 'd', status: 'failed', attempt }, // stale claim
      { webhookId: 'b', status: 'pending', attempt },
    ];
    const outcomes = healthOutcomes(results, (r) => r.webhookId !== 'd');
    assert.deepEqual(outcomes, [{ webhookId: 'a', ok: true }, { webhookId: 'b', ok: false }, { webhookId: 'b', ok: false }]);
    assert.deepEqual(healthToRead(outcomes), ['b']);
  });
});
