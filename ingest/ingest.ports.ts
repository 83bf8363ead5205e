import type { PlatformAdapter } from '../platforms/platform.adapter';
import type { ConnectionRef } from './jobs/ingest-job';

/**
 * What ingest needs from platforms/ (STYLE: interfaces at the seams). The composition root
 * (ingest.service.ts) fills these with ConnectionRepository, TokenProvider and the adapter registry;
 * keeping the seam this narrow means ingest never sees tokens at rest or OAuth details.
 */
export interface IngestConnection extends ConnectionRef {
  status: 'active' | 'reauth_required' | 'revoked' | (string & {});
  updatedAt?: number | string;
  /** OAuth scopes granted; decides which push subscriptions a channel gets (ingest/push). */
  scopes?: string[];
}

export interface IngestPorts {
  connections: {
    get(connectionId: string): Promise<IngestConnection | null | undefined>;
    listActive(): Promise<IngestConnection[]>;
    /** A channel's active connections, earliest connected first (platforms' owner index). */
    listActiveByChannel(platform: string, channelId: string): Promise<IngestConnection[]>;
  };
  tokens: {
    getAccessToken(connectionId: string): Promise<string>;
    /** Runs `fn` with a token and, on a 401, refreshes once and runs it again (TokenProvider has it). */
    withAccessToken?<T>(connectionId: string, fn: (accessToken: string) => Promise<T>): Promise<T>;
    /** Marks the connection reauth_required at once (the platform said the grant is gone); false if it was not active. */
    reauthRequired?(connectionId: string, why: string): Promise<boolean>;
    /** Twitch's required validation of every user token, at start-up and hourly. */
    validateAll?(platform: string): Promise<Record<string, number>>;
  };
  adapterFor(platform: string): PlatformAdapter;
  platforms: readonly string[];
  /** YouTube's shared daily quota counter (platforms/http/youtube-quota.ts), when available. */
  youtubeQuota?: {
    pollIntervalMs(p: { baseMs: number; unitsPerPoll: number; pollers: number; share?: number }): Promise<number>;
    /** For the quota planner (issue 18.3): what is left, when it resets, what was spent on what. */
    readonly dailyBudget?: number;
    remaining?(): Promise<number>;
    msUntilReset?(): number;
    spentByMethod?(): Promise<Record<string, number>>;
  };
  close?(): Promise<void>;
}

/** Calls the platform with the connection's token, refreshing once on a 401 when the provider can. */
export function withToken<T>(ports: IngestPorts, connectionId: string, fn: (accessToken: string) => Promise<T>): Promise<T> {
  if (ports.tokens.withAccessToken) return ports.tokens.withAccessToken(connectionId, fn);
  return ports.tokens.getAccessToken(connectionId).then(fn);
}
