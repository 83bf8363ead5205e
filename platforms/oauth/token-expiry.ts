/** Absolute expiry from a token answer's relative `expires_in` (seconds); null when the platform says nothing useful. */
export const expiryOf = (now: number, expiresIn: number | undefined) => (expiresIn && expiresIn > 0 ? now + expiresIn * 1000 : null);
