import { TokenCipher } from './token-cipher';

const key = () => TokenCipher.generateKey();

describe('TokenCipher (AES-256-GCM key ring)', () => {
  it('round-trips, with a fresh IV every time', () => {
    const c = TokenCipher.fromKeyRing(`a:${key()}`);
    const x = c.encrypt('secret-token', 'conn1');
    const y = c.encrypt('secret-token', 'conn1');
    expect(x).not.toBe(y);
    expect(x).not.toContain('secret-token');
    expect(c.decrypt(x, 'conn1')).toBe('secret-token');
  });

  it('pins the GCM tag to 16 bytes: a truncated tag (which GCM would otherwise verify) is refused (issue 17)', () => {
    const c = TokenCipher.fromKeyRing(`a:${key()}`);
    const parts = c.encrypt('secret-token', 'conn1').split('.');
    for (const bytes of [4, 8, 12, 15]) {
      const short = [...parts];
      short[3] = Buffer.from(parts[3]!, 'base64url').subarray(0, bytes).toString('base64url');
      expect(() => c.decrypt(short.join('.'), 'conn1')).toThrow(/failed authentication|tag/);
    }
    const long = [...parts];
    long[3] = Buffer.concat([Buffer.from(parts[3]!, 'base64url'), Buffer.alloc(1)]).toString('base64url');
    expect(() => c.decrypt(long.join('.'), 'conn1')).toThrow();
  });

  it('rejects a blob moved to another connection (AAD) or tampered with', () => {
    const c = TokenCipher.fromKeyRing(`a:${key()}`);
    const x = c.encrypt('secret-token', 'conn1');
    expect(() => c.decrypt(x, 'conn2')).toThrow(/failed authentication/);
    const parts = x.split('.');
    parts[4] = Buffer.from('tampered!!').toString('base64url');
    expect(() => c.decrypt(parts.join('.'), 'conn1')).toThrow(/failed authentication/);
  });

  it('rotates: a new first key encrypts, old keys still decrypt, and old blobs are flagged', () => {
    const old = `old:${key()}`;
    const before = TokenCipher.fromKeyRing(old);
    const blob = before.encrypt('t', 'c');
    const after = TokenCipher.fromKeyRing(`new:${key()},${old}`);
    expect(after.decrypt(blob, 'c')).toBe('t');
    expect(after.needsReencryption(blob)).toBe(true);
    expect(after.needsReencryption(after.encrypt('t', 'c'))).toBe(false);
    expect(() => TokenCipher.fromKeyRing(`new:${key()}`).decrypt(blob, 'c')).toThrow(/not in the key ring/);
  });

  it('refuses bad key rings without echoing key material', () => {
    expect(() => TokenCipher.fromKeyRing(undefined)).toThrow(/not set/);
    expect(() => TokenCipher.fromKeyRing('a:c2hvcnQ=')).toThrow(/32 bytes/);
    expect(() => TokenCipher.fromKeyRing('nokid')).toThrow(/kid:base64key/);
    const k = key();
    expect(() => TokenCipher.fromKeyRing(`a:${k},a:${k}`)).toThrow(/duplicate/);
    try {
      TokenCipher.fromKeyRing('a:c2hvcnQ=');
    } catch (e) {
      expect((e as Error).message).not.toContain('c2hvcnQ');
    }
  });
});
