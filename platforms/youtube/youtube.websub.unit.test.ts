import { atomFeedOf } from '../simulator/websub.sim';
import { channelOfTopic, feedTopicOf, hubSignature, parseFeedNotification, signatureMatches } from './youtube.websub';

const CH = 'UCoq8FFpf78ybSJvBUagkMP0';

describe('YouTube WebSub: feed notifications and their signatures (pure)', () => {
  it('parses the feed the hub sends: the channel of its self link, each entry\'s video and channel', () => {
    const body = atomFeedOf({ channelId: CH, channelName: 'A & B', videoId: 'abc_DEF-123', title: '<live>', published: 1_700_000_000_000, updated: 1_700_000_060_000 });
    expect(parseFeedNotification(body)).toEqual({
      topicChannelId: CH,
      entries: [{ videoId: 'abc_DEF-123', channelId: CH, published: 1_700_000_000_000, updated: 1_700_000_060_000 }],
      deletedVideoIds: [],
    });
  });

  it('reads deleted entries as removals, not announcements', () => {
    const body = `<feed xmlns:at="http://purl.org/atompub/tombstones/1.0" xmlns="http://www.w3.org/2005/Atom"><at:deleted-entry ref="yt:video:vid1" when="2026-01-01T00:00:00+00:00"/></feed>`;
    expect(parseFeedNotification(body)).toEqual({ topicChannelId: null, entries: [], deletedVideoIds: ['vid1'] });
  });

  it.each([
    ['not well-formed', '<feed><entry><yt:videoId>a</entry></feed>'],
    ['not a feed', '<rss><channel/></rss>'],
    ['an entry without ids', '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>x</title></entry></feed>'],
    ['a DOCTYPE (entity expansion)', '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaa">]><feed>&a;</feed>'],
    ['empty', ''],
  ])('refuses %s as MALFORMED_RESPONSE', (_what, body) => {
    expect(() => parseFeedNotification(body)).toThrow(expect.objectContaining({ code: 'MALFORMED_RESPONSE', retriable: false }));
  });

  it('matches X-Hub-Signature (sha1 HMAC of the body) and nothing else', () => {
    const body = Buffer.from('<feed/>');
    const sig = hubSignature('s3cret', body);
    expect(sig).toMatch(/^sha1=[0-9a-f]{40}$/);
    expect(signatureMatches('s3cret', body, sig)).toBe(true);
    expect(signatureMatches('s3cret', body, sig.toUpperCase().replace('SHA1', 'sha1'))).toBe(true);
    expect(signatureMatches('other', body, sig)).toBe(false);
    expect(signatureMatches('s3cret', Buffer.from('<feed/> '), sig)).toBe(false);
    expect(signatureMatches('s3cret', body, undefined)).toBe(false);
    expect(signatureMatches('s3cret', body, 'sha1=abc')).toBe(false);
    expect(signatureMatches('s3cret', body, `sha256=${'0'.repeat(64)}`)).toBe(false);
  });

  it('knows a channel feed topic from any other URL', () => {
    expect(channelOfTopic(feedTopicOf(CH))).toBe(CH);
    expect(channelOfTopic('https://example.com/feed?channel_id=UCx')).toBeNull();
    expect(channelOfTopic(`${feedTopicOf('')}`)).toBeNull();
  });
});
