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
import { ConnectionOwnership } from '../../api/gateway/channel-ownership';
import { GatewayServer } from '../../api/gateway/gateway.server';
import { buildSeedData, insertSeedData, SEED_CHANNELS, SEED_USER } from '../test-support/pipeline-rows';

/**
 * The built-in dashboard in headless Chromium against the real API app (REST from ClickHouse) and the
 * real gateway (live feed from Kafka): log in with a token, see the chart drawn from history, then see
 * it get new points and an alert arrive as the processors' topics receive them. The platforms and
 * models parts are represented by their ports (a connection list, a fixed slot ranking).
 */
/** Debian's chromium (installed by scripts/install.sh); playwright-core downloads no browser. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = repoPath('.stack', 'screenshots');

const connections: ConnectionRecord[] = SEED_CHANNELS.filter((c) => c.userId === SEED_USER).map((c) => ({
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
}));
const directory = {
  get: async (id: string) => connections.find((c) => c.connectionId === id) ?? null,
  listByUser: async (userId: string) => connections.filter((c) => c.userId === userId),
  activeOwners: async (platform: string, channelId: string) => connections.filter((c) => c.platform === platform && c.channelId === channelId && c.status === 'active').map((c) => c.userId),
};
const streaming: StreamingPort = {
  listConnections: directory.listByUser,
  getAuthorizationUrl: () => Promise.reject(new Error('not used')),
  connectPlatform: () => Promise.reject(new Error('not used')),
  disconnectPlatform: () => Promise.reject(new Error('not used')),
};
const MODEL = { name: 'test', version: 'test-v1' };
const predictions: PredictionPort = {
  predictViewers: async (_channel, startTime) => ({
    startTime: new Date(startTime).toISOString(), durationMinutes: 180, expectedViewers: 1100, baselines: { channelMean: 1000, sameHourLastWeek: 1050 }, model: MODEL,
  }),
  recommendSlots: async (_channel, opts) => ({
    generatedAt: new Date().toISOString(),
    model: MODEL,
    top: [4 * 24 + 18, 5 * 24 + 19, 24 + 18].slice(0, opts?.top ?? 5).map((hourOfWeek, i) => ({
      hourOfWeek, startsAt: new Date(Date.now() + (i + 1) * 86_400_000).toISOString(), expectedViewers: 1300 - i * 100, medianViewers: 1250 - i * 100, low: 900 - i * 100, high: 1600 - i * 100,
    })),
  }),
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
    stack = await testStack();
    const { rt } = stack;
    const repo = new ClickHouseRepository(rt.clickhouseSettings);
    await insertSeedData(repo, buildSeedData(now));
    await repo.close();
    redis = createRedis(rt.config.REDIS_URL);
    const tokens = new ApiTokenStore(redis, rt.config.REDIS_KEY_PREFIX);
    await tokens.createUser('Nova', SEED_USER);
    token = (await tokens.createToken(SEED_USER, 'browser-test')).token;
    api = await startApi(rt, { host: '127.0.0.1', port: 0, connections: directory, streaming, predictions });
    gateway = new GatewayServer(rt, { tokens, ownership: new ConnectionOwnership({ listByUser: directory.listByUser, activeOwners: directory.activeOwners }) }, { host: '127.0.0.1', port: 0 });
    await gateway.start();
    producer = createIdempotentProducer(rt.kafka);
    await producer.connect();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
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

  async function openPage(): Promise<Page> {
    pageErrors.length = 0;
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    await page.goto(`${api.url}/?gateway=${encodeURIComponent(`ws://127.0.0.1:${gateway.port}/ws`)}`);
    return page;
  }

  const points = (page: Page) => page.locator('#chart').getAttribute('data-points').then(Number);

  it('a wrong token is refused on the login form and nothing is stored', async () => {
    const page = await openPage();
    await page.fill('#token', 'shub_not-a-real-token');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('login-error')!.textContent!.includes('refused'));
    expect(await page.evaluate(() => sessionStorage.getItem('spacehub.token'))).toBeNull();
    expect(await page.isHidden('#app')).toBe(true);
    await page.close();
  });

  it('logs in with a token, draws viewer history, then live windows and an alert arrive over the gateway', async () => {
    const page = await openPage();
    await page.fill('#token', token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.getItem('spacehub.token'))).toBe(token);
    expect(await page.locator('#channel option').allTextContents()).toEqual(['Nova Plays (twitch)', 'Nova Plays YT (youtube)']);

    // History from GET /v1/channels/twitch/9001/metrics: the live session's 90 one-minute windows.
    const before = await eventually(() => points(page), (n) => n >= 80, 30_000);
    await page.waitForSelector('#chart canvas');
    await page.waitForSelector('#conn-state[data-state="live"]');
    await page.waitForSelector('#sessions tbody tr:nth-child(3)');
    await page.waitForFunction(() => document.querySelector('#recommendations li')?.textContent?.startsWith('Fri 18:00 UTC — about 1,250 viewers'));
    expect(await page.locator('#status').textContent()).toContain('LIVE');

    // The processors' part: two newly closed windows and a viewer-spike alert on the topics the gateway reads.
    const { rt } = stack;
    const c = SEED_CHANNELS[0]!;
    const windows: MetricWindow[] = [1, 2].map((i) => ({
      platform: c.platform, channelId: c.channelId, userId: SEED_USER, windowStart: now + i * 60_000, samples: 2,
      avgViewers: 1900 + i * 150, peakViewers: 2100 + i * 150, minViewers: 1800, viewerMinutes: 1900, followers: 20_000,
      followerDelta: 3, chatMessages: 90, uniqueChatters: 40, engagementRate: 0.05, live: true,
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
    await page.waitForFunction(() => Array.from(document.querySelectorAll("#alerts li")).some((li) => li.textContent!.includes('viewers up 60%')), undefined, { timeout: 45_000 });

    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, 'web-dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    // No script errors (a 404 for the favicon is the browser's own request, not ours).
    expect(pageErrors.filter((e) => !/favicon/.test(e))).toEqual([]);
    await page.close();
  });

  it('the Download button saves the channel\'s hourly metrics as CSV (and Parquet) from the export API', async () => {
    const page = await openPage();
    await page.fill('#token', token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(csv.suggestedFilename()).toBe('twitch-9001-metrics-1h.csv');
    const text = fs.readFileSync((await csv.path())!, 'utf8');
    expect(text.split('\n')[0]).toBe('"start","liveMinutes","samples","avgViewers","peakViewers","minViewers","viewerMinutes","followers","followerDelta","chatMessages","uniqueChatters","engagementRate"');
    expect(text.trim().split('\n').length).toBeGreaterThan(1);
    await page.selectOption('#export-format', 'parquet');
    const [pq] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(pq.suggestedFilename()).toBe('twitch-9001-metrics-1h.parquet');
    expect(fs.readFileSync((await pq.path())!).subarray(0, 4).toString()).toBe('PAR1');
    expect(pageErrors.filter((e) => !/favicon/.test(e))).toEqual([]);
    await page.close();
  });
});
