/**
 * Tokens at rest: AES-256-GCM with a key ring (TOKEN_ENCRYPTION_KEYS = "kid1:base64key[,kid2:base64key]",
 * the first encrypts, all decrypt). Each blob names its key id, so keys rotate without a migration:
 * add a new key first in the list, and `needsReencryption` tells the repository to rewrite old blobs.
 * The connection id is bound as additional authenticated data, so a blob copied onto another
 * connection fails to decrypt instead of handing one creator's token to another.
 */
import crypto from 'node:crypto';
import { AppError } from '../../shared/errors/app-error';

export class TokenCipherError extends AppError {
  constructor(message: string, cause?: unknown) {
    super('TOKEN_CIPHER', message, { retriable: false, cause });
  }
}

const VERSION = 'v1';
/** GCM tag length, pinned: without it Node accepts 4..16-byte tags, and a truncated tag is a much weaker MAC. */
const TAG_BYTES = 16;

export class TokenCipher {
  private readonly keys: Map<string, Buffer>;
  readonly activeKeyId: string;

  constructor(ring: Array<{ kid: string; key: Buffer }>) {
    if (ring.length === 0) throw new TokenCipherError('the key ring is empty');
    for (const k of ring) {
      if (!/^[A-Za-z0-9_-]+$/.test(k.kid)) throw new TokenCipherError(`key id "${k.kid}" must be letters, digits, _ or -`);
      if (k.key.length !== 32) throw new TokenCipherError(`key "${k.kid}" must be 32 bytes (AES-256), got ${k.key.length}`);
    }
    this.keys = new Map(ring.map((k) => [k.kid, k.key]));
    if (this.keys.size !== ring.length) throw new TokenCipherError('duplicate key id in the key ring');
    this.activeKeyId = ring[0]!.kid;
  }

  /** Parses "kid1:base64key[,kid2:base64key]"; errors never echo key material. */
  static fromKeyRing(spec: string | undefined): TokenCipher {
    if (!spec) throw new TokenCipherError('TOKEN_ENCRYPTION_KEYS is not set (format "kid:base64-32-byte-key[,kid2:…]")');
    const ring = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((entry) => {
        const i = entry.indexOf(':');
        if (i <= 0) throw new TokenCipherError('each TOKEN_ENCRYPTION_KEYS entry must be "kid:base64key"');
        return { kid: entry.slice(0, i), key: Buffer.from(entry.slice(i + 1), 'base64') };
      });
    return new TokenCipher(ring);
  }

  static generateKey(): string {
    return crypto.randomBytes(32).toString('base64');
  }

  encrypt(plaintext: string, aad: string): string {
    const iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', this.keys.get(this.activeKeyId)!, iv, { authTagLength: TAG_BYTES });
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return [VERSION, this.activeKeyId, iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  decrypt(blob: string, aad: string): string {
    const parts = blob.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new TokenCipherError('not an encrypted token blob');
    const [, kid, iv, tag, ct] = parts as [string, string, string, string, string];
    const key = this.keys.get(kid);
    if (!key) throw new TokenCipherError(`token was encrypted with key "${kid}", which is not in the key ring`);
    const authTag = Buffer.from(tag, 'base64url');
    if (authTag.length !== TAG_BYTES) throw new TokenCipherError('token blob failed authentication (wrong tag length)');
    try {
      const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(authTag);
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    } catch (err) {
      throw new TokenCipherError('token blob failed authentication (wrong key, or tampered)', err);
    }
  }

  needsReencryption(blob: string): boolean {
    return blob.split('.')[1] !== this.activeKeyId;
  }
}
