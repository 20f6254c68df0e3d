import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

// Webhook secrets at rest: AES-256-GCM under a key derived from HERALD_ENCRYPTION_KEY, or
// stored as they are when no key is set. Values written without a key stay readable after
// one is configured (they have no "enc:" prefix).

const PREFIX = 'enc:v1:';

export class SecretBox {
  private readonly key: Buffer | null;

  constructor(passphrase: string | undefined) {
    this.key = passphrase ? createHash('sha256').update(passphrase, 'utf8').digest() : null;
  }

  seal(secret: string): string {
    if (!this.key) return secret;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
  }

  open(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    if (!this.key) throw new Error('a webhook secret is encrypted but HERALD_ENCRYPTION_KEY is not set');
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
