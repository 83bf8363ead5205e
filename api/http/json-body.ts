import crypto from 'node:crypto';

/**
 * A JSON response body serialized ahead of time: a handler returns one when the bulk of its body is
 * bytes kept from an earlier request (the series cache keeps each series' points as JSON), and
 * mountRoutes sends the bytes as they are, with a strong ETag, instead of res.json(). A request whose
 * If-None-Match names that ETag gets 304 without a body. The ETag is derived from the bytes' content,
 * so a changed body always has a new one.
 */
export class JsonBody {
  /** The body's bytes in parts, written one after the other (the kept part is not copied per request). */
  readonly parts: readonly Buffer[];
  readonly length: number;

  constructor(parts: readonly Buffer[], readonly etag: string) {
    this.parts = parts;
    this.length = parts.reduce((n, p) => n + p.length, 0);
  }

  /**
   * `head` (small, serialized per request) with one more field whose value is already JSON:
   * `{...head, [name]: <json>}`, the field last. `hash` identifies `json`'s content (pointsJsonOf's).
   */
  static withField(head: Record<string, unknown>, name: string, value: { json: Buffer; hash: string }): JsonBody {
    const h = JSON.stringify(head);
    const open = `${h.slice(0, -1)}${h === '{}' ? '' : ','}${JSON.stringify(name)}:`;
    const etag = `"${crypto.createHash('sha1').update(open).update(value.hash).digest('base64url')}"`;
    return new JsonBody([Buffer.from(open), value.json, CLOSE], etag);
  }
}

const CLOSE = Buffer.from('}');

/** If-None-Match (RFC 9110 13.1.2: weak comparison, a list, or `*`) names `etag`. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === opaque;
  });
}
