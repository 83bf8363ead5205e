/**
 * The platform simulator: one express server that answers, on the real paths, as id.twitch.tv,
 * api.twitch.tv, accounts.google.com, oauth2.googleapis.com and www.googleapis.com/youtube/v3 would,
 * from a deterministic world (world.ts). Adapters reach it by base-URL configuration (endpoints.ts),
 * so the same code talks to the real platforms in production.
 *
 * Admin endpoints under /__sim/ drive tests and demos: fault injection per route, forcing channels
 * live/offline, issuing auth codes, revoking/expiring a channel's tokens, counters. They are
 * unauthenticated: the simulator binds to 127.0.0.1 and is a development tool, never deployed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { EventSubSim } from './eventsub.sim';
import { FaultSpec, SimConfig, SimState } from './simulator.state';
import { twitchRoutes } from './twitch.sim';
import { youtubeRoutes } from './youtube.sim';
import { WebSubHubSim } from './websub.sim';
import { createWorld, World } from './world';

export interface SimulatorOptions {
  /** 0 = a random free port. */
  port?: number;
  host?: string;
  seed: number;
  channels: number;
  clock?: () => number;
  config?: Partial<SimConfig>;
  /** See WorldOptions.chatScale. */
  chatScale?: number;
  /** See WorldOptions.competition (issue 22.3): off by default. */
  competition?: boolean;
  /** Multiplies the world's raid, sub, gift and cheer rates (world.audience.ts); default 1. */
  audienceScale?: number;
}

export interface Simulator {
  url: string;
  port: number;
  world: World;
  state: SimState;
  eventSub: EventSubSim;
  /** YouTube's WebSub hub (`POST /subscribe`). */
  webSub: WebSubHubSim;
  /** In-process shortcuts of the admin endpoints. */
  inject(fault: FaultSpec): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const faultSchema = z.object({
  route: z.string().min(1),
  kind: z.enum(['rate_limit', 'server_error', 'slow', 'timeout', 'expired_token', 'revoked_token', 'malformed', 'truncated', 'drift', 'clock_ahead']),
  times: z.number().int().min(1).optional(),
  status: z.number().int().min(500).max(599).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  resetSeconds: z.number().int().min(0).max(3600).optional(),
  removeField: z.string().optional(),
  offsetMs: z.number().int().min(-86_400_000 * 366).max(86_400_000 * 366).optional(),
});
const configSchema = z.object({
  twitchRateLimit: z.object({ points: z.number().int().min(1), windowMs: z.number().int().min(1000) }).optional(),
  youtubeQuotaPerDay: z.number().int().min(1).optional(),
  accessTokenTtlSeconds: z.object({ twitch: z.number().int().min(0), youtube: z.number().int().min(0) }).partial().optional(),
  chatPollingIntervalMillis: z.number().int().min(0).optional(),
});

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Every ISO-8601 instant in a body (stream starts, chat message times…) moved by offsetMs: a platform whose clock is off. */
function shiftInstants(body: unknown, offsetMs: number): unknown {
  if (typeof body === 'string') return ISO_INSTANT.test(body) ? new Date(Date.parse(body) + offsetMs).toISOString().replace('.000Z', 'Z') : body;
  if (Array.isArray(body)) return body.map((v) => shiftInstants(v, offsetMs));
  if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, shiftInstants(v, offsetMs)]));
  return body;
}

/** Removes `field` from every element of `data`/`items` and adds fields nobody documented. */
function drift(body: unknown, field: string | undefined): unknown {
  if (!body || typeof body !== 'object') return body;
  const b: Record<string, unknown> = { ...(body as Record<string, unknown>), sim_unexpected_top: { nested: true } };
  for (const k of ['data', 'items']) {
    const arr = b[k];
    if (Array.isArray(arr))
      b[k] = arr.map((el) => {
        if (!el || typeof el !== 'object') return el;
        const copy: Record<string, unknown> = { ...(el as Record<string, unknown>), sim_unexpected_field: 'drift' };
        if (field) delete copy[field];
        return copy;
      });
  }
  return b;
}

function faultMiddleware(state: SimState) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/__sim')) return next();
    state.count(req.path, state.counters.requests);
    const f = state.takeFault(req.path);
    if (!f) return next();
    const bearer = /^(?:Bearer|OAuth) (.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    switch (f.kind) {
      case 'rate_limit': {
        const reset = Math.ceil(state.clock() / 1000) + (f.resetSeconds ?? 1);
        res.set({ 'Ratelimit-Limit': String(state.config.twitchRateLimit.points), 'Ratelimit-Remaining': '0', 'Ratelimit-Reset': String(reset) });
        return res.status(429).json({ error: 'Too Many Requests', status: 429, message: 'Too Many Requests' });
      }
      case 'server_error':
        return res.status(f.status ?? 503).json({ error: 'Service Unavailable', status: f.status ?? 503, message: 'simulated outage' });
      case 'slow':
        return void setTimeout(next, f.delayMs ?? 2000).unref();
      case 'timeout':
        // unref: a held request must not keep a test process or the CLI alive after close().
        return void setTimeout(() => req.socket.destroy(), f.delayMs ?? 60_000).unref();
      case 'expired_token': {
        const t = bearer ? state.accessTokens.get(bearer) : undefined;
        if (t) t.expiresAt = state.clock();
        return next();
      }
      case 'revoked_token': {
        const t = bearer ? state.accessTokens.get(bearer) : undefined;
        if (t) state.revokeGrant(t.grantId);
        return next();
      }
      case 'malformed':
        return res.status(200).type('application/json').send('<html><body>502 Bad Gateway</body></html>');
      case 'clock_ahead': {
        const json = res.json.bind(res);
        res.json = (body: unknown) => json(shiftInstants(body, f.offsetMs ?? 10 * 60_000));
        return next();
      }
      case 'truncated':
      case 'drift': {
        const json = res.json.bind(res);
        res.json = (body: unknown) => {
          if (f.kind === 'drift') return json(drift(body, f.removeField));
          const text = JSON.stringify(body);
          return res.type('application/json').send(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
        };
        return next();
      }
    }
  };
}

export function createSimulatorApp(world: World, state: SimState, eventSub?: EventSubSim, webSub?: WebSubHubSim): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(faultMiddleware(state));
  app.use(twitchRoutes(state, world, eventSub));
  app.use(youtubeRoutes(state, world));
  if (webSub) app.use(webSub.routes());

  const admin = express.Router();
  admin.use(express.json());
  admin.get('/health', (_req, res) => res.json({ ok: true, seed: world.seed, channels: world.channels.length }));
  admin.get('/channels', (_req, res) => res.json({ channels: world.channels }));
  admin.get('/channels/:id/state', (req, res) => {
    if (!world.channel(req.params.id)) return res.status(404).json({ error: 'unknown channel' });
    res.json(world.stateAt(req.params.id, state.clock()));
  });
  admin.post('/faults', (req, res) => {
    const p = faultSchema.safeParse(req.body);
    if (!p.success) return res.status(400).json({ error: p.error.issues[0]?.message });
    state.addFault(p.data);
    res.status(204).end();
  });
  admin.delete('/faults', (_req, res) => {
    state.clearFaults();
    res.status(204).end();
  });
  admin.post('/live', (req, res) => {
    const p = z.object({ channelId: z.string(), live: z.boolean(), atMs: z.number().optional() }).safeParse(req.body);
    if (!p.success || !world.channel(p.data.channelId)) return res.status(400).json({ error: 'channelId (known) and live (boolean) required' });
    world.forceLive(p.data.channelId, p.data.live, p.data.atMs ?? state.clock());
    res.json(world.stateAt(p.data.channelId, state.clock()));
  });
  admin.post('/codes', (req, res) => {
    const p = z
      .object({ platform: z.enum(['twitch', 'youtube']), channelId: z.string(), clientId: z.string(), redirectUri: z.string(), scopes: z.array(z.string()).default([]), codeChallenge: z.string().optional() })
      .safeParse(req.body);
    if (!p.success || world.channel(p.data.channelId)?.platform !== p.data.platform) return res.status(400).json({ error: 'platform, channelId of that platform, clientId, redirectUri required' });
    const d = p.data;
    const code = state.issueCode({ platform: d.platform, clientId: d.clientId, channelId: d.channelId, redirectUri: d.redirectUri, scopes: d.scopes, codeChallenge: d.codeChallenge, codeChallengeMethod: d.codeChallenge ? 'S256' : undefined });
    res.json({ code });
  });
  const channelBody = z.object({ platform: z.enum(['twitch', 'youtube']), channelId: z.string() });
  admin.post('/revoke', (req, res) => {
    const p = channelBody.safeParse(req.body);
    if (!p.success) return res.status(400).json({ error: 'platform and channelId required' });
    res.json({ revoked: state.revokeChannel(p.data.platform, p.data.channelId) });
  });
  admin.post('/expire', (req, res) => {
    const p = channelBody.safeParse(req.body);
    if (!p.success) return res.status(400).json({ error: 'platform and channelId required' });
    res.json({ expired: state.expireChannel(p.data.platform, p.data.channelId) });
  });
  admin.post('/eventsub/revoke', (req, res) => {
    const p = z.object({ channelId: z.string(), status: z.enum(['authorization_revoked', 'user_removed', 'moderator_removed', 'version_removed', 'notification_failures_exceeded']), type: z.string().optional() }).safeParse(req.body);
    if (!p.success) return res.status(400).json({ error: 'channelId and a revocation status required' });
    res.json({ revoked: eventSub?.revoke(p.data.channelId, p.data.status, p.data.type) ?? 0 });
  });
  admin.post('/eventsub/reconnect', (_req, res) => res.json({ sessions: eventSub?.reconnectAll() ?? 0 }));
  admin.get('/counters', (_req, res) => res.json({ ...state.counters, eventSubSessions: eventSub?.sessionCount() ?? 0 }));
  admin.post('/counters/reset', (_req, res) => {
    state.resetCounters();
    res.status(204).end();
  });
  admin.post('/config', (req, res) => {
    const p = configSchema.safeParse(req.body);
    if (!p.success) return res.status(400).json({ error: p.error.issues[0]?.message });
    const { accessTokenTtlSeconds, ...rest } = p.data;
    state.config = { ...state.config, ...rest, accessTokenTtlSeconds: { ...state.config.accessTokenTtlSeconds, ...accessTokenTtlSeconds } };
    res.json(state.config);
  });
  app.use('/__sim', admin);

  app.use((_req: Request, res: Response) => res.status(404).json({ error: 'Not Found', status: 404, message: 'no such route in the simulator' }));
  return app;
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const clock = opts.clock ?? Date.now;
  const world = createWorld({ seed: opts.seed, channels: opts.channels, now: clock, chatScale: opts.chatScale, competition: opts.competition });
  const state = new SimState(clock, opts.config);
  let url = '';
  const eventSub = new EventSubSim(state, world, () => url.replace(/^http/, 'ws'), { audienceScale: opts.audienceScale });
  const webSub = new WebSubHubSim(state, world);
  const app = createSimulatorApp(world, state, eventSub, webSub);
  const server = http.createServer(app);
  eventSub.attach(server);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    world,
    eventSub,
    webSub,
    state,
    inject: (f) => state.addFault(f),
    clearFaults: () => state.clearFaults(),
    close() {
      closed ??= new Promise<void>((resolve) => {
        eventSub.close();
        webSub.close();
        server.close(() => resolve());
        // Held requests (timeout faults) and keep-alive sockets must not keep the process up.
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}
