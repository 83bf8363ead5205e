/**
 * The demo seed's OAuth round trips (platforms/simulator/demo-seed.ts: authorization URL, the
 * simulator's redirect, connectPlatform), `concurrency` at a time: benches connect 50–80 channels, and
 * one after another that was seconds of waiting on round trips. Same channels (pickDemoChannels), same
 * code path, connections returned in the seed's order.
 */
import axios from 'axios';
import type { Connection } from '../../platforms/connections/connection.repository';
import { authorizeViaRedirect, type DemoSeedDeps, pickDemoChannels } from '../../platforms/simulator/demo-seed';
import type { SimChannel } from '../../platforms/simulator/world';

export async function connectDemoChannels(deps: DemoSeedDeps, o: { userId: string; channels: number; concurrency: number }): Promise<Connection[]> {
  const { data } = await axios.get<{ channels: SimChannel[] }>(`${deps.simulatorUrl}/__sim/channels`, { timeout: 10_000 });
  const picked = pickDemoChannels(data.channels, o.channels);
  const out: Connection[] = new Array(picked.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, async () => {
    while (next < picked.length) {
      const i = next++;
      const ch = picked[i]!;
      const redirectUri = deps.redirectUri(ch.platform);
      const { url } = await deps.streaming.getAuthorizationUrl(ch.platform, { userId: o.userId, redirectUri });
      const { code, state } = await authorizeViaRedirect(url, ch.login);
      out[i] = await deps.streaming.connectPlatform(ch.platform, code, { userId: o.userId, redirectUri, state });
    }
  }));
  return out;
}
