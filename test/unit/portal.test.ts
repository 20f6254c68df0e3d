// The portal's rules (src/domain/portal.ts): when a link opens and when a session still signs in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { linkRefusal, portalStatus, sessionRefusal } from '../../src/domain/portal.js';
import type { PortalSession } from '../../src/domain/records.js';

const T0 = 1_700_000_000_000;
const s = (over: Partial<PortalSession> = {}): PortalSession => ({
  id: 'ps_1', workspaceId: 'acme', access: 'manage', theme: {}, expiresAt: T0 + 1000, createdAt: T0, usedAt: null, revokedAt: null, ...over,
});

describe('portal rules', () => {
  it('a link opens once, before it expires, unless revoked', () => {
    assert.equal(linkRefusal(s(), T0), null);
    assert.equal(linkRefusal(s(), T0 + 999), null);
    assert.equal(linkRefusal(s(), T0 + 1000), 'expired');
    assert.equal(linkRefusal(s({ usedAt: T0 }), T0 + 1), 'used');
    assert.equal(linkRefusal(s({ usedAt: T0, revokedAt: T0 }), T0 + 1), 'revoked', 'revoked says more than used');
    assert.equal(linkRefusal(null, T0), 'unknown');
  });

  it('a session signs in from its opening until it expires or is revoked', () => {
    assert.equal(sessionRefusal(s({ usedAt: T0 }), T0 + 999), null);
    assert.equal(sessionRefusal(s({ usedAt: T0 }), T0 + 1000), 'expired');
    assert.equal(sessionRefusal(s({ usedAt: T0, revokedAt: T0 + 5 }), T0 + 6), 'revoked');
    assert.equal(sessionRefusal(s(), T0), 'unknown', 'an unopened link is no session');
    assert.equal(sessionRefusal(null, T0), 'unknown');
  });

  it('the status a list shows', () => {
    assert.equal(portalStatus(s(), T0), 'unopened');
    assert.equal(portalStatus(s({ usedAt: T0 }), T0), 'open');
    assert.equal(portalStatus(s({ usedAt: T0 }), T0 + 1000), 'expired');
    assert.equal(portalStatus(s({ revokedAt: T0 }), T0), 'revoked');
  });
});
