/**
 * Connects simulator channels for a user through the real OAuth round trip — authorization URL, the
 * platform's redirect carrying code and state, then connectPlatform — so `npm start` has data flowing
 * through exactly the code path creators use. Idempotent: the same channels are picked every run
 * (by login_hint) and connection ids are deterministic, so a restart updates rather than duplicates.
 */
import axios from 'axios';
import type { Logger } from '../../shared/logging/logger';
import type { Connection } from '../connections/connection.repository';
import type { StreamingService } from '../streaming.service';
import type { SimChannel } from './world';

export interface DemoSeedDeps {
  streaming: StreamingService;
  /** The simulator (for its channel list); the adapters already point at it. */
  simulatorUrl: string;
  /** Where the platform sends the creator back; only its code and state matter here. */
  redirectUri: (platform: string) => string;
  logger?: Logger;
}

/** Follows an authorization URL to the redirect and returns its code and state (the consent screen auto-approves). */
export async function authorizeViaRedirect(authUrl: string, loginHint?: string): Promise<{ code: string; state: string }> {
  const u = new URL(authUrl);
  if (loginHint) u.searchParams.set('login_hint', loginHint);
  const res = await axios.get(u.toString(), { maxRedirects: 0, validateStatus: (s) => s === 302, timeout: 10_000 });
  const to = new URL(String(res.headers.location));
  const code = to.searchParams.get('code');
  const state = to.searchParams.get('state');
  if (!code || !state) throw new Error('authorization redirect carried no code or state');
  return { code, state };
}

/** The demo's channels: Twitch and YouTube alternately, in world order (the first-start history uses the same ones). */
export function pickDemoChannels<C extends Pick<SimChannel, 'platform'>>(channels: C[], n: number): C[] {
  const twitch = channels.filter((c) => c.platform === 'twitch');
  const youtube = channels.filter((c) => c.platform === 'youtube');
  const picked: C[] = [];
  for (let i = 0; picked.length < n && (i < twitch.length || i < youtube.length); i++) {
    if (twitch[i] && picked.length < n) picked.push(twitch[i]!);
    if (youtube[i] && picked.length < n) picked.push(youtube[i]!);
  }
  return picked;
}

/** The demo channel with the largest audience on each platform: the ones kept live from the first minute. */
export function showcaseChannels<C extends Pick<SimChannel, 'platform' | 'baseViewers'>>(demo: C[]): C[] {
  const best = new Map<string, C>();
  for (const c of demo) if ((best.get(c.platform)?.baseViewers ?? -1) < c.baseViewers) best.set(c.platform, c);
  return [...best.values()];
}

export async function seedDemo(deps: DemoSeedDeps, o: { userId: string; channels: number }): Promise<Connection[]> {
  const { data } = await axios.get<{ channels: SimChannel[] }>(`${deps.simulatorUrl}/__sim/channels`, { timeout: 10_000 });
  const picked = pickDemoChannels(data.channels, o.channels);
  const out: Connection[] = [];
  for (const ch of picked) {
    const redirectUri = deps.redirectUri(ch.platform);
    const { url } = await deps.streaming.getAuthorizationUrl(ch.platform, { userId: o.userId, redirectUri });
    const { code, state } = await authorizeViaRedirect(url, ch.login);
    out.push(await deps.streaming.connectPlatform(ch.platform, code, { userId: o.userId, redirectUri, state }));
  }
  deps.logger?.info({ module: 'demo-seed', userId: o.userId, connections: out.length }, 'demo channels connected');
  return out;
}
