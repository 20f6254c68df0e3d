// A receiver's v1a check written from the Standard Webhooks spec with node:crypto alone (no
// Herald code): an independent verifier for the tests of Ed25519 signing.
import { createPublicKey, verify } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Whether one of the request's v1a signatures is `publicKey`'s (whpk_…) signature of "{id}.{timestamp}.{body}". */
export function specVerify(publicKey: string, headers: IncomingHttpHeaders, raw: Buffer): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.slice(5), 'base64').toString('base64url') }, format: 'jwk' });
  const content = Buffer.concat([Buffer.from(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`), raw]);
  return String(headers['webhook-signature']).split(' ').some((s) => s.startsWith('v1a,') && verify(null, content, key, Buffer.from(s.slice(4), 'base64')));
}

/** How many signatures of each scheme a request carries. */
export function signatureCounts(headers: IncomingHttpHeaders): { v1: number; v1a: number } {
  const all = String(headers['webhook-signature']).split(' ');
  return { v1: all.filter((s) => s.startsWith('v1,')).length, v1a: all.filter((s) => s.startsWith('v1a,')).length };
}
