/**
 * The processor's checkpoint travels with each committed offset, in the offset-commit metadata field
 * (Kafka keeps up to offset.metadata.max.bytes = 4096 bytes; ours is ~40): `m` the highest event time
 * the shard had seen, `p` the offset processed up to. Offsets and metadata of all topics of a shard are
 * committed in one OffsetCommit request, after everything they cover was written.
 */
export interface CommitMetadata {
  m: number;
  p: number;
}

export function encodeCommitMetadata(m: CommitMetadata): string {
  return JSON.stringify({ v: 1, m: m.m, p: m.p });
}

/** Unknown or foreign metadata (another tool committed) means "no checkpoint", never an error. */
export function decodeCommitMetadata(text: string | null | undefined): CommitMetadata | null {
  if (!text) return null;
  try {
    const o = JSON.parse(text) as { v?: number; m?: unknown; p?: unknown };
    if (o.v !== 1 || typeof o.m !== 'number' || typeof o.p !== 'number' || !Number.isFinite(o.m)) return null;
    return { m: o.m, p: o.p };
  } catch {
    return null;
  }
}
