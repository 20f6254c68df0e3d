import { generateKeyPair, PRIVATE_KEY_PREFIX, PUBLIC_KEY_PREFIX } from './ed25519.js';
import type { PreviousSecret, PreviousSigningKey, SigningKind, Webhook, WebhookPatch } from './records.js';
import type { SecretBox } from './secret-box.js';

// A webhook's signing material as it changes: the signing scheme it is given, and a rotation,
// which replaces the secret (and an ed25519 webhook's key pair) while the old ones keep
// signing until their grace period ends. Private keys are sealed like secrets.

/** How many earlier secrets (and keys) a rotation keeps at most. */
const MAX_PREVIOUS = 5;

/** Why a user's secret is refused, or null: a key string as a secret would only confuse its receiver. */
export function secretProblem(secret: string): string | null {
  if (secret.startsWith(PUBLIC_KEY_PREFIX) || secret.startsWith(PRIVATE_KEY_PREFIX)) {
    return `must not start with ${PUBLIC_KEY_PREFIX} or ${PRIVATE_KEY_PREFIX} (Ed25519 keys): set signing to "ed25519" and Herald makes the key pair`;
  }
  return null;
}

type KeyFields = Pick<Webhook, 'signing' | 'signingKey' | 'publicKey' | 'previousSigningKeys'>;

function freshPair(box: SecretBox): Pick<Webhook, 'signingKey' | 'publicKey'> {
  const pair = generateKeyPair();
  return { signingKey: box.seal(pair.privateKey), publicKey: pair.publicKey };
}

/**
 * The key fields that give a webhook `kind` signing. Becoming ed25519 makes a key pair;
 * staying ed25519 keeps it (a rotation replaces it); going back to hmac drops every key.
 */
export function signingFields(current: KeyFields | null, kind: SigningKind, box: SecretBox): KeyFields {
  if (kind === 'hmac') return { signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [] };
  if (current?.signing === 'ed25519' && current.signingKey !== null) {
    return { signing: 'ed25519', signingKey: current.signingKey, publicKey: current.publicKey, previousSigningKeys: current.previousSigningKeys };
  }
  return { signing: 'ed25519', ...freshPair(box), previousSigningKeys: [] };
}

/**
 * The earlier entries that keep signing after a rotation: the one being replaced until
 * `now + graceMs`, and those of earlier rotations still valid. A grace of 0 keeps none: only
 * the new one signs from now on.
 */
export function carriedOver<T extends { expiresAt: number }>(replaced: Omit<T, 'expiresAt'>, earlier: readonly T[], graceMs: number, now: number): T[] {
  if (graceMs <= 0) return [];
  return [{ ...replaced, expiresAt: now + graceMs } as T, ...earlier.filter((p) => p.expiresAt > now)].slice(0, MAX_PREVIOUS);
}

/** The patch of a rotation to `sealedSecret`: for an ed25519 webhook, also a new key pair, the old key signing during the grace too. */
export function rotation(webhook: Webhook, sealedSecret: string, graceMs: number, now: number, box: SecretBox): WebhookPatch {
  const patch: WebhookPatch = {
    secret: sealedSecret,
    previousSecrets: carriedOver<PreviousSecret>({ secret: webhook.secret }, webhook.previousSecrets, graceMs, now),
  };
  if (webhook.signing === 'ed25519' && webhook.signingKey !== null) {
    Object.assign(patch, freshPair(box), {
      previousSigningKeys: carriedOver<PreviousSigningKey>({ privateKey: webhook.signingKey }, webhook.previousSigningKeys, graceMs, now),
    });
  }
  return patch;
}
