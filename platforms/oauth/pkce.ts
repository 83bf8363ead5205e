import crypto from 'node:crypto';

/** PKCE (RFC 7636): a high-entropy verifier kept server-side and its S256 challenge sent to the platform. */
export function createPkcePair(): { codeVerifier: string; codeChallenge: string } {
  const codeVerifier = crypto.randomBytes(48).toString('base64url');
  return { codeVerifier, codeChallenge: crypto.createHash('sha256').update(codeVerifier).digest('base64url') };
}
