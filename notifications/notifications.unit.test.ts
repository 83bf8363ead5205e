import crypto from 'node:crypto';
import { sign, verifySignature } from './webhook.signature';
import { assertWebhookUrl, guardedLookup, isPrivateAddress, parseWebhookUrl } from './webhook-url.guard';
import { discordPayload, genericPayload } from './payload.format';
import http from 'node:http';
import axios from 'axios';
import { classifyStatus, networkVerdict, parseRetryAfter } from './delivery.worker';
import { deliveryJobId } from './delivery.queue';
import { negotiateExport } from '../api/exports/channel-export';
import type { WebhookEvent } from './webhook.types';

const strict = { allowPrivate: false, allowedPorts: new Set([80, 443]) };
import { discordProblems } from '../test/notifications/discord.validator';

const ended: WebhookEvent = {
  alertId: 'stream_ended:twitch:1001:s1', type: 'stream_ended', userId: 'alice', platform: 'twitch', channelId: '1001', occurredAt: Date.UTC(2026, 10, 20, 11, 30),
  severity: 'info', message: 'Stream ended after 90 min', details: { streamId: 's1', durationSeconds: 5400, peakViewers: 199, avgViewers: 144.5, hoursWatched: 216.75, title: 'Speedrun' },
};

describe('webhook signature (HMAC-SHA256 over "<timestamp>.<body>")', () => {
  const secret = 'whsec_test';
  const body = '{"a":1}';
  it('verifies its own signature and matches an independently computed HMAC', () => {
    const ts = 1_800_000_000;
    const sig = sign(secret, ts, body);
    expect(sig).toBe(`v1=${crypto.createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
    expect(verifySignature(secret, sig, String(ts), body, ts + 10)).toEqual({ ok: true });
  });
  it('rejects a tampered body, a wrong secret and a replay older than the tolerance', () => {
    const ts = 1_800_000_000;
    const sig = sign(secret, ts, body);
    expect(verifySignature(secret, sig, String(ts), '{"a":2}', ts)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifySignature('other', sig, String(ts), body, ts)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifySignature(secret, sig, String(ts), body, ts + 301)).toEqual({ ok: false, reason: 'too-old' });
    expect(verifySignature(secret, sig, 'abc', body, ts)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('SSRF guard', () => {
  it.each(['127.0.0.1', '127.1.2.3', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.254', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:169.254.169.254'])('refuses %s', (a) => {
    expect(isPrivateAddress(a)).toBe(true);
  });
  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111'])('allows public %s', (a) => {
    expect(isPrivateAddress(a)).toBe(false);
  });
  it('accepts only http(s) URLs without credentials', () => {
    expect(() => parseWebhookUrl('ftp://example.com/x')).toThrow('must be http or https');
    expect(() => parseWebhookUrl('file:///etc/passwd')).toThrow('must be http or https');
    expect(() => parseWebhookUrl('https://user:pw@example.com/')).toThrow('credentials');
    expect(() => parseWebhookUrl('not a url')).toThrow('not a valid URL');
    expect(parseWebhookUrl('https://discord.com/api/webhooks/1/abc').hostname).toBe('discord.com');
  });
  it('refuses literal private addresses and hostnames resolving to loopback, unless allowed', async () => {
    for (const u of ['http://127.0.0.1:8080/', 'http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/', 'http://[::1]/', 'http://localhost:9/']) {
      await expect(assertWebhookUrl(u, strict)).rejects.toMatchObject({ code: 'WEBHOOK_TARGET_REFUSED' });
    }
    await expect(assertWebhookUrl('http://127.0.0.1:8080/', { allowPrivate: true, allowedPorts: 'any' })).resolves.toBeInstanceOf(URL);
  });
});

describe('SSRF guard at delivery time (the socket\'s own DNS lookup)', () => {
  it('a request through the guarded agent to a hostname resolving to loopback is refused before connecting, and is final', async () => {
    const agent = new http.Agent({ lookup: guardedLookup(false) } as http.AgentOptions);
    try {
      const err = await axios.post('http://localhost:9/hook', '{}', { httpAgent: agent, proxy: false, timeout: 5000 }).then(() => null, (e: unknown) => e);
      expect(networkVerdict(err)).toMatchObject({ kind: 'failed', reason: expect.stringContaining('target refused') });
      // Literal addresses skip DNS (and so the agent's lookup): the worker checks them before the request.
      const err2 = await assertWebhookUrl('http://169.254.169.254/latest/meta-data/', strict).then(() => null, (e: unknown) => e);
      expect(networkVerdict(err2)).toMatchObject({ kind: 'failed', reason: expect.stringContaining('target refused') });
    } finally {
      agent.destroy();
    }
  });
});

describe('payload formats', () => {
  it('Discord payload: an embed with title, viewers, duration and link, within every documented limit', () => {
    const p = discordPayload(ended, 'http://127.0.0.1:8080') as unknown as Record<string, unknown>;
    expect(discordProblems(p)).toEqual([]);
    const embed = (p.embeds as Array<Record<string, unknown>>)[0]!;
    expect(embed.title).toContain('stream ended');
    expect(embed.url).toBe('http://127.0.0.1:8080/?platform=twitch&channelId=1001');
    expect(embed.fields).toEqual(expect.arrayContaining([{ name: 'Peak viewers', value: '199', inline: true }, { name: 'Duration', value: '1 h 30 min', inline: true }]));
    expect(p.allowed_mentions).toEqual({ parse: [] });
  });
  it('Discord payload stays within the limits for oversized texts', () => {
    const huge = { ...ended, message: 'm'.repeat(10_000), details: { ...ended.details, title: 't'.repeat(5000) }, channelId: 'c'.repeat(300) };
    const p = discordPayload(huge, 'http://x') as unknown as Record<string, unknown>;
    expect(discordProblems(p)).toEqual([]);
  });
  it('the validator itself catches violations', () => {
    expect(discordProblems({ content: 'x'.repeat(2001), embeds: [{ title: 't'.repeat(257), description: 'd'.repeat(4097) }] })).toEqual(['content > 2000', 'title > 256', 'description > 4096']);
  });
  it('the generic payload carries the session summary on stream_ended', () => {
    expect(genericPayload(ended)).toMatchObject({ id: ended.alertId, type: 'stream_ended', occurredAt: '2026-11-20T11:30:00.000Z', summary: { durationSeconds: 5400, peakViewers: 199 } });
  });
});

describe('delivery decisions', () => {
  it('2xx delivered; 5xx and 429 retried (Retry-After honoured); other 4xx final', () => {
    expect(classifyStatus(204, undefined)).toEqual({ kind: 'delivered' });
    expect(classifyStatus(503, undefined)).toMatchObject({ kind: 'retry', retryAfterMs: null });
    expect(classifyStatus(429, '3')).toEqual({ kind: 'retry', reason: 'HTTP 429', retryAfterMs: 3000 });
    expect(classifyStatus(410, undefined)).toEqual({ kind: 'failed', reason: 'HTTP 410' });
    expect(classifyStatus(400, undefined).kind).toBe('failed');
  });
  it('Retry-After as seconds or HTTP date', () => {
    const now = Date.UTC(2026, 10, 26, 5, 0, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Thu, 26 Nov 2026 05:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
  it('job ids are deterministic per (alert, endpoint) and colon-free (BullMQ refuses colons)', () => {
    const id = deliveryJobId('stream_started:twitch:1001:s1', 'wh_abc');
    expect(id).toBe(deliveryJobId('stream_started:twitch:1001:s1', 'wh_abc'));
    expect(id).not.toContain(':');
    expect(decodeURIComponent(id)).toBe('stream_started:twitch:1001:s1:wh_abc');
  });
});

describe('export negotiation', () => {
  it('?format wins over Accept; Accept picks csv or parquet; JSON by default', () => {
    expect(negotiateExport('csv', 'application/json')).toBe('csv');
    expect(negotiateExport('json', 'text/csv')).toBeNull();
    expect(negotiateExport(undefined, 'text/csv')).toBe('csv');
    expect(negotiateExport(undefined, 'application/vnd.apache.parquet')).toBe('parquet');
    expect(negotiateExport(undefined, '*/*')).toBeNull();
    expect(negotiateExport(undefined, undefined)).toBeNull();
  });
});
