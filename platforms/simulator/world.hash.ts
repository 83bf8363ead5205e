/**
 * Integer hashing for the synthetic world: fast, stateless and identical on every run and machine,
 * so any instant of any channel can be computed on its own (no random generator state to replay).
 */

/** Mixes two 32-bit integers into a well-spread unsigned 32-bit value (murmur3 finaliser). */
export function mix(a: number, b: number): number {
  let h = (Math.imul(a | 0, 0x9e3779b1) ^ Math.imul((b | 0) + 0x7f4a7c15, 0x85ebca6b)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A value in [0, 1) from a hash. */
export function unit(h: number): number {
  return h / 4294967296;
}

/** FNV-1a over a string, as a starting hash for a channel or a seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
