import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { chromium, Browser, Page } from 'playwright-core';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { repoPath } from '../../shared/paths';
import { createRedis } from '../../shared/redis/redis';
import { testStack, TestStack } from '../../test/support/stack';
import { startApi, RunningApi } from '../../api/api.service';
import { startSimulator, Simulator } from '../../platforms/simulator/simulator.server';

/**
 * "Start the flow from the dashboard" (issues 17 and 20), end to end in headless Chromium: the real API
 * with the real platforms part, the simulator as Twitch/YouTube (its consent screen approves at once).
 * Connect Twitch → authorize (Bearer, sets the browser-binding cookie) → the platform → our callback
 * (cookie checked) → 303 to /?connected=twitch → the dashboard says so and lists the channel; a second
 * browser given the same platform link is refused and told why; Disconnect revokes it.
 */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = repoPath('.stack', 'screenshots');

/** The callback's redirect must point at this API, so its public URL is fixed before it starts. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe('web dashboard: Connect Twitch through the real OAuth flow (simulator as the platform)', () => {
  let sim: Simulator;
  let stack: TestStack;
  let api: RunningApi;
  let redis: Redis;
  let browser: Browser;
  let token: string;
  let base: string;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install.sh (apt-get install chromium)`);
    sim = await startSimulator({ port: 0, seed: 21, channels: 4 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    stack = await testStack({
      PLATFORMS_MODE: 'simulator', PUBLIC_BASE_URL: base, API_RATE_LIMIT_PER_MINUTE: '100000',
      TWITCH_AUTH_BASE_URL: sim.url, TWITCH_API_BASE_URL: sim.url, GOOGLE_AUTH_BASE_URL: sim.url, GOOGLE_TOKEN_BASE_URL: sim.url, YOUTUBE_API_BASE_URL: sim.url,
    });
    redis = createRedis(stack.rt.config.REDIS_URL);
    const tokens = new ApiTokenStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
    await tokens.createUser('Carla', 'carla');
    token = (await tokens.createToken('carla', 'browser-test')).token;
    api = await startApi(stack.rt, { host: '127.0.0.1', port, predictions: null });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await api?.close().catch(() => undefined);
    if (redis && stack) {
      const keys = await redis.keys(`${stack.rt.config.REDIS_KEY_PREFIX}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await stack?.cleanup();
    await sim?.close();
  });

  const connections = async () =>
    ((await (await fetch(`${base}/v1/connections`, { headers: { authorization: `Bearer ${token}` } })).json()) as { connections: Array<{ connectionId: string; platform: string; status: string }> }).connections;

  async function loggedIn(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // No gateway in this test: the live feed's reconnect attempts are not what is checked.
    await page.goto(`${base}/?gateway=${encodeURIComponent('ws://127.0.0.1:9/ws')}`);
    await page.fill('#token', token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    return page;
  }

  it('the starting browser connects and is told so; another browser given the platform link is refused and told why; Disconnect revokes', async () => {
    const page = await loggedIn();
    expect(await page.locator('#connections').textContent()).toContain('No account connected yet');
    // The platform's page is where the flow leaves us: note its URL to hand to "someone else" below.
    const platformUrls: string[] = [];
    page.on('request', (r) => { if (r.isNavigationRequest() && r.url().startsWith(sim.url)) platformUrls.push(r.url()); });
    await page.click('button[data-connect="twitch"]');
    await page.waitForURL((u) => u.origin === base && u.pathname === '/' && !u.search.includes('connected='), { timeout: 30_000 });
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForFunction(() => document.getElementById('notice')!.textContent!.startsWith('Twitch channel connected.'));
    await page.waitForSelector('#connections li[data-connection]');
    const after = await connections();
    expect(after.map((c) => [c.platform, c.status])).toEqual([['twitch', 'active']]);
    expect(platformUrls).toHaveLength(1);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'web-connected.png'), fullPage: true });

    // Someone else's browser (no binding cookie) opens a fresh link of Carla's: nothing is connected.
    const start = await page.evaluate(async (t) => (await fetch('/v1/auth/youtube/authorize', { headers: { Authorization: `Bearer ${t}` } })).json(), token);
    const other = await browser.newPage();
    await other.goto(start.url);
    await other.waitForURL((u) => u.search.includes('connect_error=') || u.pathname === '/', { timeout: 30_000 });
    await other.waitForFunction(() => document.getElementById('notice')!.textContent!.length > 0);
    expect(await other.locator('#notice').textContent()).toMatch(/^This connect link was started in another browser, so it was refused and nothing was connected\./);
    expect((await connections()).map((c) => c.platform)).toEqual(['twitch']);
    await other.close();

    // Disconnect, confirmed in the dialog: the connection is revoked.
    await page.click('#connections li[data-connection] button:has-text("Disconnect")');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm button[value="ok"]');
    await page.waitForFunction(() => document.getElementById('notice')!.textContent!.endsWith('was disconnected.'));
    await page.waitForSelector('#connections li[data-connection]', { state: 'detached' });
    expect((await connections()).filter((c) => c.status !== 'revoked')).toEqual([]);
    await page.close();
  });
});
