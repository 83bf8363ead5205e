import crypto from 'node:crypto';

/** Pseudonymous chatter id: a hash of the platform's user id, so unique-chatter counts never carry identities. */
export const chatterIdOf = (platform: string, platformUserId: string) =>
  crypto.createHash('sha256').update(`${platform}:${platformUserId}`).digest('base64url').slice(0, 16);
