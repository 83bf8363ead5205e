import crypto from 'node:crypto';

/**
 * Signing of the generic JSON format (Stripe's scheme): HMAC-SHA256 with the endpoint's secret over
 * `<timestamp>.<raw body>`, sent as `X-SpaceHub-Signature: v1=<hex>` with `X-SpaceHub-Timestamp`
 * (Unix seconds). The timestamp is inside the MAC, so a receiver that rejects old timestamps rejects
 * replays. `verifySignature` is what a receiver runs (and what the tests run).
 */
export const SIGNATURE_HEADER = 'X-SpaceHub-Signature';
export const TIMESTAMP_HEADER = 'X-SpaceHub-Timestamp';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function sign(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${crypto.createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'malformed' | 'too-old' | 'bad-signature' };

export function verifySignature(secret: string, header: string | undefined, timestamp: string | undefined, body: string, nowSeconds = Math.floor(Date.now() / 1000), toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): VerifyResult {
  if (!header || !timestamp || !/^\d+$/.test(timestamp)) return { ok: false, reason: 'malformed' };
  const ts = Number(timestamp);
  if (Math.abs(nowSeconds - ts) > toleranceSeconds) return { ok: false, reason: 'too-old' };
  const expected = Buffer.from(sign(secret, ts, body));
  // A header may carry several signatures during a secret rotation: any match is enough.
  const ok = header.split(',').map((s) => Buffer.from(s.trim())).some((given) => given.length === expected.length && crypto.timingSafeEqual(given, expected));
  return ok ? { ok: true } : { ok: false, reason: 'bad-signature' };
}

export const newSecret = () => `whsec_${crypto.randomBytes(24).toString('base64url')}`;
