import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { chromium, Browser, Page } from 'playwright-core';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import type { Alert, MetricWindow } from '../../shared/events/events';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { repoPath } from '../../shared/paths';
import { createRedis } from '../../shared/redis/redis';
import { eventually, testStack, TestStack } from '../../test/support/stack';
import { startApi, RunningApi } from '../../api/api.service';
import type { ConnectionRecord, PredictionPort, StreamingPort } from '../../api/ports';
import { ConnectionOwnership } from '../../gateway/channel-ownership';
import { GatewayServer } from '../../gateway/gateway.server';
import { InsufficientDataError } from '../../models/errors';
import { buildSeedData, insertSeedData, SEED_CHANNELS, SEED_USER } from '../../test/support/pipeline-rows';

// Response bodies of the API, compared with what the page shows.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * The built-in dashboard in headless Chromium against the real API app (REST from ClickHouse) and the
 * real gateway (live feed from Kafka). The platforms and models parts are represented by their ports: a
 * connection list whose "OAuth round trip" lands straight back on /?connected=<platform> (what the
 * callback does after the platform's consent page), and a fixed slot ranking. Screenshots of each view
 * go to .stack/screenshots/; what they must show is checked on the page they were taken of (the chart's
 * drawn x range, the empty-state sentences, the figures).
 */
/** Debian's chromium (installed by scripts/install.sh); playwright-core downloads no browser. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = repoPath('.stack', 'screenshots');
const AXE = require.resolve('axe-core/axe.min.js');
const QUIET = { platform: 'twitch', channelId: '9100' } as const;

const connections: ConnectionRecord[] = [
  ...SEED_CHANNELS.filter((c) => c.userId === SEED_USER).map((c): ConnectionRecord => ({
    connectionId: `conn_${c.channelId}`,
    userId: c.userId,
    platform: c.platform,
    channelId: c.channelId,
    login: c.login,
    displayName: c.login === 'nova_plays' ? 'Nova Plays' : 'Nova Plays YT',
    status: 'active',
    scopes: [],
    createdAt: '2026-11-01T00:00:00Z',
    updatedAt: '2026-11-01T00:00:00Z',
  })),
  // A channel that never streamed: the page's empty states.
  { connectionId: 'conn_9100', userId: SEED_USER, ...QUIET, login: 'quiet_corner', displayName: 'Quiet Corner', status: 'active', scopes: [], createdAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-01T00:00:00Z' },
];
const directory = {
  get: async (id: string) => connections.find((c) => c.connectionId === id) ?? null,
  listByUser: async (userId: string) => connections.filter((c) => c.userId === userId),
  activeOwners: async (platform: string, channelId: string) => connections.filter((c) => c.platform === platform && c.channelId === channelId && c.status === 'active').map((c) => c.userId),
};
const authorizeCalls: string[] = [];
const disconnectCalls: string[] = [];
let apiUrl = '';
const streaming: StreamingPort = {
  listConnections: directory.listByUser,
  // The platform's consent page and our callback, collapsed: the connection exists and the browser lands on /?connected=.
  getAuthorizationUrl: async (platform, opts) => {
    authorizeCalls.push(`${platform}:${opts.userId}`);
    const id = `conn_new_${platform}_${authorizeCalls.length}`;
    connections.push({ connectionId: id, userId: opts.userId, platform, channelId: `new${authorizeCalls.length}`, login: 'fresh_channel', displayName: 'Fresh Channel', status: 'active', scopes: [], createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() });
    return { url: `${apiUrl}/?connected=${platform}`, state: `st_${Date.now()}_${authorizeCalls.length}` };
  },
  connectPlatform: () => Promise.reject(new Error('not used')),
  disconnectPlatform: async (_userId, connectionId) => {
    disconnectCalls.push(connectionId);
    const c = connections.find((x) => x.connectionId === connectionId);
    if (c) c.status = 'revoked';
  },
};
const MODEL = { name: 'test', version: 'test-v1' };
const predictions: PredictionPort = {
  predictViewers: async (_channel, startTime) => ({
    startTime: new Date(startTime).toISOString(), durationMinutes: 180, expectedViewers: 1100, baselines: { channelMean: 1000, sameHourLastWeek: 1050 }, model: MODEL,
  }),
  recommendSlots: async (channel, opts) => {
    if (channel.channelId === QUIET.channelId) throw new InsufficientDataError('quiet_corner has 0 of the 14 days of history a recommendation needs', { have: 0, need: 14, what: 'days' });
    return {
      generatedAt: new Date().toISOString(),
      model: MODEL,
      top: [4 * 24 + 18, 5 * 24 + 19, 24 + 18].slice(0, opts?.top ?? 5).map((hourOfWeek, i) => ({
        hourOfWeek, startsAt: new Date(Date.now() + (i + 1) * 86_400_000).toISOString(), expectedViewers: 1300 - i * 100, medianViewers: 1250 - i * 100, low: 900 - i * 100, high: 1600 - i * 100,
        bestChance: [0.31, 0.22, 0.18][i],
      })),
    };
  },
};

describe('built-in web dashboard in headless Chromium (real API + gateway)', () => {
  let stack: TestStack;
  let redis: Redis;
  let api: RunningApi;
  let gateway: GatewayServer;
  let producer: Producer;
  let browser: Browser;
  let token: string;
  const pageErrors: string[] = [];
  const now = Math.floor(Date.now() / 60_000) * 60_000;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install.sh (apt-get install chromium)`);
    stack = await testStack({ API_RATE_LIMIT_PER_MINUTE: '100000' });
    const { rt } = stack;
    const repo = new ClickHouseRepository(rt.clickhouseSettings);
    await insertSeedData(repo, buildSeedData(now));
    await repo.close();
    redis = createRedis(rt.config.REDIS_URL);
    const tokens = new ApiTokenStore(redis, rt.config.REDIS_KEY_PREFIX);
    await tokens.createUser('Nova', SEED_USER);
    token = (await tokens.createToken(SEED_USER, 'browser-test')).token;
    api = await startApi(rt, { host: '127.0.0.1', port: 0, connections: directory, streaming, predictions });
    apiUrl = api.url;
    gateway = new GatewayServer(rt, { tokens, ownership: new ConnectionOwnership({ listByUser: directory.listByUser, activeOwners: directory.activeOwners }) }, { host: '127.0.0.1', port: 0 });
    await gateway.start();
    producer = createIdempotentProducer(rt.kafka);
    await producer.connect();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await gateway?.close().catch(() => undefined);
    await api?.close().catch(() => undefined);
    if (redis && stack) {
      const keys = await redis.keys(`${stack.rt.config.REDIS_KEY_PREFIX}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await stack?.cleanup();
  });

  const gatewayParam = () => `gateway=${encodeURIComponent(`ws://127.0.0.1:${gateway.port}/ws`)}`;

  async function openPage(query = ''): Promise<Page> {
    pageErrors.length = 0;
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    page.on('response', (r) => r.status() >= 500 && pageErrors.push(`${r.status()} ${r.url()}`));
    await page.goto(`${api.url}/?${gatewayParam()}${query}`);
    return page;
  }

  async function loggedIn(query = ''): Promise<Page> {
    const page = await openPage(query);
    await page.fill('#token', token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    return page;
  }

  const apiJson = async (p: string): Promise<Json> => (await fetch(`${api.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json();
  const points = (page: Page, id = 'chart') => page.locator(`#${id}`).getAttribute('data-points').then(Number);
  const xRange = async (page: Page, id: string) => {
    const box = page.locator(`#${id}`);
    return { min: Number(await box.getAttribute('data-x-min')), max: Number(await box.getAttribute('data-x-max')) };
  };
  const tileValue = (page: Page, id: string) => page.locator(`#${id} dd`).evaluate((dd) => dd.firstChild?.textContent ?? '');
  const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
  // 4xx answers the page expects (an unknown stream's 404, too little history's 422) are shown on the page, not errors.
  const noScriptErrors = () => expect(pageErrors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e))).toEqual([]);

  async function shot(page: Page, name: string): Promise<string> {
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    return file;
  }

  /** axe-core's WCAG 2 A/AA rules (contrast, names, labels, landmarks…) on what is on screen. */
  async function axeViolations(page: Page): Promise<string[]> {
    await page.addScriptTag({ path: AXE });
    const result: Json = await page.evaluate(() => (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<unknown> } }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }));
    return result.violations.map((v: Json) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n: Json) => n.target.join(' ')).join(', ')}`);
  }

  it('shows the YouTube quota day: units used of the budget and a row per purpose (issue 18.3)', async () => {
    const page = await loggedIn();
    const q = await apiJson('/v1/platforms/youtube/quota');
    await page.waitForFunction(() => document.querySelectorAll('#quota-purposes tbody tr').length === 4);
    expect(await page.locator('#quota-totals dd').first().textContent()).toBe(`${fmt(q.usedUnits)} of ${fmt(q.budgetUnits)}`);
    expect(await page.locator('#quota-purposes tbody tr td:first-child').allTextContents()).toEqual(['Go-live detection', 'Live viewers (50 streams a unit)', 'Chat sampling (5 units a read)', 'Subscriber counts']);
    noScriptErrors();
    await page.close();
  });

  it('a wrong token is refused on the login form and nothing is stored', async () => {
    const page = await openPage();
    await page.fill('#token', 'shub_not-a-real-token');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('login-error')!.textContent!.includes('refused'));
    expect(await page.evaluate(() => sessionStorage.getItem('spacehub.token'))).toBeNull();
    expect(await page.isHidden('#app')).toBe(true);
    await page.close();
  });

  it('opens on a live channel: a live session card with running figures, a 3-hour chart that moves as windows and an alert arrive over the gateway', async () => {
    const page = await loggedIn();
    expect(await page.evaluate(() => sessionStorage.getItem('spacehub.token'))).toBe(token);
    // Live channels first and marked; the quiet one last.
    expect(await page.locator('#channel option').allTextContents()).toEqual(['● LIVE · Nova Plays (Twitch)', '● LIVE · Nova Plays YT (YouTube)', 'Quiet Corner (Twitch)']);
    expect(await page.locator('#channel').inputValue()).toBe('twitch:9001');

    // History from GET /v1/channels/twitch/9001/metrics: the live session's 90 one-minute windows.
    const before = await eventually(() => points(page), (n) => n >= 80, 30_000);
    await page.waitForSelector('#chart canvas');
    await page.waitForSelector('#conn-state[data-state="live"]');
    await page.waitForSelector('#sessions tbody tr:nth-child(3)');
    await page.waitForFunction(() => document.querySelector('#recommendations li')?.textContent?.startsWith('Fri 18:00 UTC — about 1,250 viewers'));
    expect(await page.locator('#recommendations li').first().textContent()).toContain('31 % chance to be your best hour of the week');
    expect(await page.locator('#status').textContent()).toContain('LIVE');
    // The x axis is the requested window (the last 3 hours), not a span made up from the data.
    const x = await xRange(page, 'chart');
    expect(x.min).toBeGreaterThanOrEqual((now - 3 * 3600_000) / 1000 - 120);
    expect(x.max).toBeLessThanOrEqual(Date.now() / 1000 + 120);
    expect(x.max - x.min).toBeCloseTo(3 * 3600, -2);

    // The live card: the same running figures as the stream report, not the stored row's zeros.
    await page.waitForSelector('#live-peak');
    const report = await apiJson('/v1/channels/twitch/9001/sessions/9001-s30');
    expect(report.session.status).toBe('live');
    expect(report.session.peakViewers).toBeGreaterThan(0);
    expect(await tileValue(page, 'live-duration')).toMatch(/^1 h 3\d min$/);
    expect(await tileValue(page, 'live-peak')).toBe(fmt(report.session.peakViewers));
    expect(await tileValue(page, 'live-average')).toBe(fmt(report.session.avgViewers));
    expect(await tileValue(page, 'live-hours')).toBe(fmt(report.session.hoursWatched, 1));
    expect(await tileValue(page, 'live-followers')).toBe(`+${fmt(report.session.followersGained)}`);
    expect(report.session.followersGained).toBeGreaterThan(0);
    expect(await tileValue(page, 'live-chat')).toBe(fmt(report.session.chatMessages));
    // Paid subscribers before any window on the feed: this stream's gain from the report, or "—" with the
    // reason when it was not read (the seeded grant has no channel:read:subscriptions).
    if (report.session.paidSubscribersGained === null) {
      expect(await tileValue(page, 'live-paid-subscribers')).toBe('—');
      expect(await page.locator('#live-paid-subscribers .reason').textContent()).toMatch(/channel:read:subscriptions/);
    } else expect(await tileValue(page, 'live-paid-subscribers')).toMatch(/this stream$/);
    expect(await page.locator('#live-peak .delta').textContent()).toMatch(/% vs\. average of 10 previous|= your average/);
    // …and the live row of the stream list shows them too.
    const liveRow = page.locator('#sessions tr[data-stream="9001-s30"] td');
    expect(await liveRow.nth(4).textContent()).toBe(fmt(report.session.peakViewers));
    expect(await liveRow.nth(8).textContent()).toBe(fmt(report.session.chatMessages));

    // The processors' part: two newly closed windows and a viewer-spike alert on the topics the gateway reads.
    const { rt } = stack;
    const c = SEED_CHANNELS[0]!;
    const runningFigures = { peakViewers: 2400, avgViewers: 1250, hoursWatched: 1900.5, followersGained: 99, chatMessages: 6000, paidSubscribersGained: 7 };
    const windows: MetricWindow[] = [1, 2].map((i) => ({
      platform: c.platform, channelId: c.channelId, userId: SEED_USER, windowStart: now + i * 60_000, samples: 2,
      avgViewers: 1900 + i * 150, peakViewers: 2100 + i * 150, minViewers: 1800, viewerMinutes: 1900, followers: 20_000,
      followerDelta: 3, chatMessages: 90, uniqueChatters: 40, engagementRate: 0.05, live: true, provisional: false, chatSamplingRate: 1,
      paidSubscribers: 512 + i, paidSubscriberDelta: 1, subscriptionPoints: 600 + i,
      // The processors' running summary of the open stream, carried by each closed window (here only the newer one).
      session: i === 2 ? { ...runningFigures, streamId: '9001-s30', startedAt: now - 90 * 60_000, durationSeconds: 92 * 60 } : null,
    }));
    const alert: Alert = {
      alertId: `twitch:9001:spike:${now}`, type: 'viewer_spike', userId: SEED_USER, platform: 'twitch', channelId: '9001',
      occurredAt: now + 120_000, severity: 'warning', message: 'nova_plays: viewers up 60% in 5 minutes', detailsJson: '{}',
    };
    const windowMsgs = await Promise.all(windows.map(async (w) => ({ key: w.userId, value: await rt.registry.encode('windows', w) })));
    await producer.send({ topic: rt.topics.windows, acks: -1, messages: windowMsgs });
    await producer.send({ topic: rt.topics.alerts, acks: -1, messages: [{ key: SEED_USER, value: await rt.registry.encode('alerts', alert) }] });

    await eventually(() => points(page), (n) => n >= before + 2, 45_000);
    await page.waitForFunction(() => document.querySelector('#status .viewers-now')?.textContent === 'viewers 2,200', undefined, { timeout: 45_000 });
    await page.waitForFunction(() => document.querySelector('#live-viewers dd')?.textContent === '2,200', undefined, { timeout: 45_000 });
    // The live card and the stream's row follow the running summary on the feed.
    await page.waitForFunction(() => document.querySelector('#live-peak dd')?.firstChild?.textContent === '2,400', undefined, { timeout: 45_000 });
    expect(await tileValue(page, 'live-average')).toBe('1,250');
    expect(await tileValue(page, 'live-hours')).toBe('1,900.5');
    expect(await tileValue(page, 'live-followers')).toBe('+99');
    expect(await tileValue(page, 'live-chat')).toBe('6,000');
    // …paid subscribers too: the newest window's count and the session's gain, from the feed.
    expect(await tileValue(page, 'live-paid-subscribers')).toBe('514 (+7 this stream)');
    expect(await page.locator('#live-paid-subscribers .reason').count()).toBe(0);
    expect(await liveRow.nth(4).textContent()).toBe('2,400');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#alerts li')).some((li) => li.textContent!.includes('viewers up 60%')), undefined, { timeout: 45_000 });
    const moved = await xRange(page, 'chart');
    expect(moved.max).toBeLessThanOrEqual(Date.now() / 1000 + 120);
    expect(moved.max - moved.min).toBeCloseTo(3 * 3600, -2);

    await shot(page, 'web-dashboard');
    noScriptErrors();
    await page.close();
  });

  it('the cross-platform view shows the creator summary: Twitch and YouTube together, each channel\'s share', async () => {
    const page = await loggedIn();
    await page.waitForSelector('#creator-channels tbody tr:nth-child(3)');
    const sum = await apiJson(`/v1/creators/me/summary?from=${encodeURIComponent(new Date(Date.now() - 7 * 86400_000).toISOString())}`);
    const totals = await page.locator('#creator-totals .tile').evaluateAll((tiles) => Object.fromEntries(tiles.map((t) => [t.querySelector('dt')!.textContent, t.querySelector('dd')!.textContent])));
    expect(totals['Channels live now']).toBe('2 of 3');
    expect(totals['Hours watched']).toBe(fmt(sum.totals.hoursWatched, 1));
    expect(totals['Peak concurrent viewers']).toBe(fmt(sum.totals.peakConcurrentViewers));
    expect(totals['Followers gained']).toBe(`+${fmt(sum.totals.followersGained)}`);
    expect(totals['Streams']).toBe(fmt(sum.totals.sessions));
    const rows = await page.locator('#creator-channels tbody tr').allTextContents();
    expect(rows[0]).toMatch(/^Twitch Nova Plays/);
    expect(rows[1]).toMatch(/^YouTube Nova Plays YT/);
    expect(rows[2]).toMatch(/^Twitch Quiet Corner0 .*0 %/);
    // The period is a plain select: keyboard-operable, and the totals follow it.
    await page.focus('#creator-range');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction((before) => document.querySelector('#creator-totals .tile:nth-child(7) dd')?.textContent !== before, totals['Streams']);
    expect(await page.locator('#creator-range').inputValue()).toBe('30');
    noScriptErrors();
    await page.close();
  });

  it('a page per stream, opened and left with the keyboard: figures vs. the previous streams, viewers, chat and followers over the stream\'s own time range', async () => {
    const page = await loggedIn();
    await page.waitForSelector('#sessions tr[data-stream="9001-s29"] a');
    await page.focus('#sessions tr[data-stream="9001-s29"] a');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#view-stream:not([hidden])');
    await page.waitForFunction(() => document.getElementById('stream-title')!.textContent === 'Day 29 with nova_plays');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('stream-title');
    expect(await page.isHidden('#view-overview')).toBe(true);

    const r = await apiJson('/v1/channels/twitch/9001/sessions/9001-s29');
    expect(r.points).toHaveLength(180);
    const kpis = await page.locator('#stream-kpis .tile').evaluateAll((tiles) => Object.fromEntries(tiles.map((t) => [t.querySelector('dt')!.textContent, t.querySelector('dd')!.textContent])));
    expect(kpis['Duration']).toMatch(/^3 h 0 min/);
    expect(kpis['Peak viewers']).toMatch(new RegExp(`^${fmt(r.session.peakViewers)}(▲|▼|=)`));
    expect(kpis['Peak viewers']).toMatch(/vs\. average of 10 previous|your average/);
    expect(kpis['Hours watched']).toMatch(new RegExp(`^${fmt(r.session.hoursWatched, 1).replace('.', '\\.')}`));
    expect(kpis['Followers gained']).toMatch(new RegExp(`^\\+${fmt(r.session.followersGained)}`));
    expect(kpis['Peak moment']).toMatch(/ in$/);

    // Each chart spans the stream itself: from its start's minute to its end.
    const start = Date.parse(r.session.startedAt) / 1000, end = Date.parse(r.session.endedAt) / 1000;
    for (const id of ['stream-viewers', 'stream-chat', 'stream-followers']) {
      await page.waitForSelector(`#${id} canvas`);
      expect(await points(page, id)).toBe(180);
      const x = await xRange(page, id);
      expect(x.min).toBe(start);
      expect(x.max).toBe(end);
    }
    // This stream, its 10 predecessors, and their average.
    expect(await page.locator('#stream-compare tbody tr').count()).toBe(12);
    expect(await page.locator('#stream-compare tbody tr.current td').first().textContent()).toBe('This stream');
    expect(await page.locator('#stream-compare tbody tr').last().textContent()).toContain('Average of 10 previous');
    await shot(page, 'web-stream-page');

    // Back with the keyboard: the link is the first thing on the page after the header.
    await page.focus('#back');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#view-overview:not([hidden])');
    expect(await page.isHidden('#view-stream')).toBe(true);
    noScriptErrors();
    await page.close();
  });

  it('a live stream\'s page shows figures so far and its chart ends now; an unknown stream says so', async () => {
    const page = await loggedIn();
    await page.waitForSelector('#live-card a');
    await page.click('#live-card a');
    await page.waitForFunction(() => document.getElementById('stream-title')!.textContent!.startsWith('LIVE'));
    expect(await page.locator('#stream-kpis .tile dt').first().textContent()).toBe('Duration so far');
    await page.waitForSelector('#stream-viewers canvas');
    const x = await xRange(page, 'stream-viewers');
    expect(x.min).toBe((now - 90 * 60_000) / 1000);
    expect(x.max).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(x.max).toBeGreaterThan(now / 1000 - 120);
    await page.evaluate(() => { location.hash = '#/stream/twitch/9001/no-such-stream'; });
    await page.waitForFunction(() => document.getElementById('stream-title')!.textContent === 'This stream is not in Space HUB');
    noScriptErrors();
    await page.close();
  });

  it('a channel without data shows empty states that say what will appear and when — no chart axis from another decade', async () => {
    const page = await loggedIn();
    await page.waitForSelector('#chart canvas');
    await page.selectOption('#channel', `${QUIET.platform}:${QUIET.channelId}`);
    await page.waitForSelector('#chart-empty:not([hidden])');
    expect(await page.locator('#chart-empty').textContent()).toMatch(/Quiet Corner has not been live in the last 3 hours\..*first point appears here about 3 minutes later/);
    expect(await page.isHidden('#chart')).toBe(true);
    expect(await page.locator('#chart canvas').count()).toBe(0);
    expect(await page.locator('#chart').getAttribute('data-x-min')).toBeNull();
    await page.waitForFunction(() => document.getElementById('live-body')!.textContent!.includes('Quiet Corner is offline.'));
    expect(await page.locator('#live-body').textContent()).toContain('running figures');
    await page.waitForFunction(() => document.querySelector('#sessions tbody')!.textContent!.includes('No streams in the last 30 days.'));
    await page.waitForFunction(() => document.querySelector('#recommendations li')?.textContent?.startsWith('Not enough history for this channel yet'));
    expect(await page.locator('#status').textContent()).toContain('no data from this channel in the last 7 days yet');
    expect(await page.locator('#status').textContent()).not.toContain('behind');
    await shot(page, 'web-empty-channel');
    noScriptErrors();
    await page.close();
  });

  it('Connect Twitch runs the browser OAuth flow (Bearer authorize call, then the platform, then /?connected=twitch); Disconnect asks first', async () => {
    const page = await loggedIn();
    await page.waitForSelector('#connections li[data-connection]');
    const authorize = page.waitForRequest((req) => req.url().endsWith('/v1/auth/twitch/authorize'));
    await page.focus('button[data-connect="twitch"]');
    await page.keyboard.press('Enter');
    expect((await authorize).headers()['authorization']).toBe(`Bearer ${token}`);
    // The page was at "/" (no connected=) before the click, so a URL check alone passes before the browser has
    // left: wait for the page we came back to, whose notice replaced "Opening Twitch…" (set before leaving).
    await page.waitForFunction(() => !location.search.includes('connected=') && document.querySelector('#notice')?.textContent !== 'Opening Twitch…');
    await page.waitForSelector('#app:not([hidden])');
    expect(await page.locator('#notice').textContent()).toBe('Twitch channel connected. Its first figures appear within a few minutes, once ingest has polled it.');
    await page.waitForSelector('#connections li[data-connection="conn_new_twitch_1"]');
    expect(authorizeCalls).toEqual([`twitch:${SEED_USER}`]);

    // Disconnect: Cancel keeps it, confirming removes it.
    const row = page.locator('#connections li[data-connection="conn_new_twitch_1"]');
    await row.locator('button', { hasText: 'Disconnect' }).click();
    await page.waitForSelector('#confirm[open]');
    expect(await page.locator('#confirm-title').textContent()).toBe('Disconnect Fresh Channel?');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !(document.getElementById('confirm') as HTMLDialogElement).open);
    expect(disconnectCalls).toEqual([]);
    await row.locator('button', { hasText: 'Disconnect' }).click();
    const del = page.waitForRequest((req) => req.method() === 'DELETE');
    await page.click('#confirm button[value="ok"]');
    expect((await del).url()).toMatch(/\/v1\/connections\/conn_new_twitch_1$/);
    await page.waitForSelector('#connections li[data-connection="conn_new_twitch_1"]', { state: 'detached' });
    expect(disconnectCalls).toEqual(['conn_new_twitch_1']);
    expect(await page.locator('#notice').textContent()).toBe('Fresh Channel (Twitch) was disconnected.');
    await shot(page, 'web-accounts');
    noScriptErrors();
    await page.close();
  });

  it('a refused connect lands on /?connect_error= and says why, in words', async () => {
    const page = await openPage('&connect_error=oauth-browser-mismatch');
    expect(await page.locator('#notice').textContent()).toMatch(/^This connect link was started in another browser, so it was refused and nothing was connected\./);
    expect(page.url()).not.toContain('connect_error');
    await page.close();
    const other = await openPage('&connect_error=some_new_code');
    expect(await other.locator('#notice').textContent()).toContain('Connecting failed (some_new_code)');
    await other.close();
  });

  it('keyboard and contrast: every control is reachable with Tab and shows focus; no WCAG 2 A/AA violation on the login, overview and stream pages', async () => {
    const page = await openPage();
    expect(await axeViolations(page)).toEqual([]);
    await page.fill('#token', token);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('#live-peak');
    await page.waitForSelector('#creator-channels tbody tr:nth-child(3)');
    await page.waitForSelector('#recommendations li');
    expect(await axeViolations(page)).toEqual([]);

    // Tab from the top of a fresh load (the tab's token logs in again): the skip link first, then the
    // header, then the controls in reading order, each with a visible outline.
    await page.reload();
    await page.waitForSelector('#live-peak');
    await page.waitForSelector('#creator-channels tbody tr:nth-child(3)');
    const reached: string[] = [];
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const a = document.activeElement as HTMLElement;
        if (a === document.body) return null; // past the last control
        const s = getComputedStyle(a);
        return { id: a.id || a.getAttribute('data-connect') || a.textContent!.trim().slice(0, 30), outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 };
      });
      if (!f) break;
      reached.push(f.id);
      expect(f).toEqual({ id: f.id, outline: true });
    }
    expect(reached[0]).toBe('Skip to the dashboard');
    for (const id of ['logout', 'channel', 'export-format', 'download', 'creator-range', 'twitch', 'youtube']) expect(reached).toContain(id);
    expect(reached.indexOf('channel')).toBeLessThan(reached.indexOf('download'));

    await page.evaluate(() => { location.hash = '#/stream/twitch/9001/9001-s29'; });
    await page.waitForSelector('#stream-viewers canvas');
    await page.waitForSelector('#stream-compare tbody tr:nth-child(12)');
    expect(await axeViolations(page)).toEqual([]);
    noScriptErrors();
    await page.close();
  });

  it('a stream whose chat was sampled (YouTube under the quota planner) says so on its chat figure, with the rate; a fully read one does not', async () => {
    const page = await loggedIn();
    await page.waitForSelector('#chart canvas');
    await page.evaluate(() => { location.hash = '#/stream/youtube/UCdashNova/UCdashNova-s29'; });
    await page.waitForSelector('#stream-chat-messages');
    expect(await page.locator('#stream-chat-messages dt').textContent()).toBe('Chat messages (sampled)');
    expect(await page.getAttribute('#stream-chat-messages', 'title')).toMatch(/^Chat read at 5(\.0)? % .*not scaled up\.$/);
    await page.evaluate(() => { location.hash = '#/stream/twitch/9001/9001-s29'; });
    await page.waitForFunction(() => document.getElementById('stream-title')!.textContent === 'Day 29 with nova_plays');
    await page.waitForSelector('#stream-chat-messages');
    expect(await page.locator('#stream-chat-messages dt').textContent()).toBe('Chat messages');
    expect(await page.getAttribute('#stream-chat-messages', 'title')).toBeNull();
    noScriptErrors();
    await page.close();
  });

  it('the Download button saves the channel\'s hourly metrics as CSV (and Parquet) from the export API', async () => {
    const page = await loggedIn();
    await page.waitForSelector('#chart canvas');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(csv.suggestedFilename()).toBe('twitch-9001-metrics-1h.csv');
    const text = fs.readFileSync((await csv.path())!, 'utf8');
    expect(text.split('\n')[0]).toBe('"start","liveMinutes","samples","avgViewers","peakViewers","minViewers","viewerMinutes","followers","followerDelta","chatMessages","uniqueChatters","engagementRate","chatSamplingRate","chatSampled","paidSubscribers","paidSubscriberDelta","subscriptionPoints"');
    expect(text.trim().split('\n').length).toBeGreaterThan(1);
    await page.selectOption('#export-format', 'parquet');
    const [pq] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(pq.suggestedFilename()).toBe('twitch-9001-metrics-1h.parquet');
    expect(fs.readFileSync((await pq.path())!).subarray(0, 4).toString()).toBe('PAR1');
    noScriptErrors();
    await page.close();
  });
});
