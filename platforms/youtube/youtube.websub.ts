/**
 * YouTube's push for new and updated videos: WebSub (PubSubHubbub 0.4) on the channel's Atom feed.
 * - Topic: `https://www.youtube.com/xml/feeds/videos.xml?channel_id=<id>`; hub:
 *   `https://pubsubhubbub.appspot.com/subscribe` (Google's; the simulator serves the same path).
 * - Subscribing is a form POST (`hub.mode`, `hub.topic`, `hub.callback`, `hub.secret`,
 *   `hub.lease_seconds`); the hub answers 202 and verifies intent later with a GET to the callback
 *   carrying `hub.challenge`, which the subscriber echoes only for a subscription it asked for.
 * - A notification is the feed's Atom document with the new/updated entries, signed with
 *   `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>` when a secret was given.
 * It costs no quota, carries no viewer counts and is not guaranteed (a live stream's video is
 * announced when it is scheduled or started, not always both), so it triggers a check; it never
 * replaces one. Raw shapes live here, as `*.external.ts` do for the JSON APIs.
 */
import crypto from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PlatformError } from '../http/platform-error';
import type { PlatformHttpClient } from '../http/platform-http.client';
import type { FeedEntry, FeedHubRequest, FeedNotification } from '../platform.adapter';

export const YOUTUBE_WEBSUB_HUB = 'https://pubsubhubbub.appspot.com/subscribe';
const FEED_BASE = 'https://www.youtube.com/xml/feeds/videos.xml?channel_id=';

export const feedTopicOf = (channelId: string) => `${FEED_BASE}${encodeURIComponent(channelId)}`;

/** The channel id of a YouTube feed topic, or null when the URL is not one. */
export function channelOfTopic(topic: string): string | null {
  if (!topic.startsWith(FEED_BASE)) return null;
  const id = decodeURIComponent(topic.slice(FEED_BASE.length));
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : null;
}


const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: false, processEntities: false, isArray: (name) => ['entry', 'link', 'at:deleted-entry'].includes(name) });

const malformed = (message: string) => new PlatformError('MALFORMED_RESPONSE', message, { platform: 'youtube', endpoint: 'websub.notification', status: 200, retriable: false });
const text = (v: unknown): string | null => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : null);
const instant = (v: unknown): number | null => {
  const t = Date.parse(text(v) ?? '');
  return Number.isFinite(t) ? t : null;
};

/** Parses a notification body; a document that is not a well-formed YouTube Atom feed is MALFORMED_RESPONSE. */
export function parseFeedNotification(body: string): FeedNotification {
  if (!body.trim()) throw malformed('empty body');
  // DOCTYPEs (entity expansion) have no place in a feed.
  if (/<!DOCTYPE/i.test(body)) throw malformed('DOCTYPE not allowed');
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw malformed(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = parser.parse(body) as Record<string, unknown>;
  const feed = doc.feed as Record<string, unknown> | undefined;
  if (!feed || typeof feed !== 'object') throw malformed('root element is not an Atom <feed>');
  const links = (feed.link as Array<Record<string, unknown>> | undefined) ?? [];
  const self = links.find((l) => l['@rel'] === 'self');
  const topicChannelId = self ? channelOfTopic(String(self['@href'] ?? '')) : null;
  const entries: FeedEntry[] = [];
  for (const e of (feed.entry as Array<Record<string, unknown>> | undefined) ?? []) {
    const videoId = text(e['yt:videoId']);
    const channelId = text(e['yt:channelId']);
    if (!videoId || !channelId || !/^[A-Za-z0-9_-]{1,64}$/.test(videoId)) throw malformed('an <entry> without yt:videoId or yt:channelId');
    entries.push({ videoId, channelId, published: instant(e.published), updated: instant(e.updated) });
  }
  const deletedVideoIds: string[] = [];
  for (const d of (feed['at:deleted-entry'] as Array<Record<string, unknown>> | undefined) ?? []) {
    const ref = text(d['@ref']) ?? '';
    const m = /^yt:video:([A-Za-z0-9_-]{1,64})$/.exec(ref);
    if (m) deletedVideoIds.push(m[1]!);
  }
  return { topicChannelId, entries, deletedVideoIds };
}

/** `X-Hub-Signature: sha1=<hex>` of `body` under `secret`. */
export const hubSignature = (secret: string, body: Buffer | string) => `sha1=${crypto.createHmac('sha1', secret).update(body).digest('hex')}`;

/** Whether `header` is the body's signature under `secret`, compared in constant time. */
export function signatureMatches(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const m = /^sha1=([0-9a-f]{40})$/i.exec(header.trim());
  if (!m) return false;
  const expected = crypto.createHmac('sha1', secret).update(body).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

/**
 * Asks the hub to (un)subscribe. The hub answers 202 Accepted and verifies intent on its own time
 * (a GET to the callback), so success here only means the request was taken.
 */
export async function requestSubscription(http: PlatformHttpClient, hubUrl: string, r: FeedHubRequest): Promise<void> {
  const u = new URL(hubUrl);
  await http.request({
    endpoint: `websub.${r.mode}`,
    method: 'POST',
    baseUrl: u.origin,
    path: u.pathname,
    form: {
      'hub.mode': r.mode,
      'hub.topic': r.topic,
      'hub.callback': r.callback,
      'hub.verify': 'async',
      'hub.secret': r.secret,
      'hub.lease_seconds': r.leaseSeconds === undefined ? undefined : String(r.leaseSeconds),
    },
    schema: null,
  });
}
