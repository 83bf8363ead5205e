import type { WebhookEvent, WebhookFormat } from './webhook.types';

/**
 * Alert → request body, per endpoint format. The generic format is the event itself (stable field
 * names, documented in README.md); Discord's is an embed, built within Discord's documented limits
 * (https://discord.com/developers/docs/resources/message#embed-object-embed-limits) — a text that
 * would exceed one is cut with an ellipsis, never rejected by Discord with a 400.
 */
export const DISCORD_LIMITS = {
  content: 2000, embeds: 10, title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, author: 256, total: 6000,
} as const;

export interface DiscordEmbed {
  title: string;
  description?: string;
  url?: string;
  color?: number;
  timestamp?: string;
  fields?: Array<{ name: string; value: string; inline?: boolean }>;
  footer?: { text: string };
}

export interface DiscordPayload {
  username?: string;
  content?: string;
  embeds: DiscordEmbed[];
  allowed_mentions: { parse: string[] };
}

const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The stream_ended details are the session summary (processors/sink/records.ts endedAlert). */
export function summaryOf(e: WebhookEvent): Record<string, unknown> | null {
  return e.type === 'stream_ended' ? e.details : null;
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

/** Where a viewer watches the channel. Twitch URLs need the login, which an alert does not carry. */
export function channelLink(e: WebhookEvent, publicBaseUrl: string): string {
  if (e.platform === 'youtube') return `https://www.youtube.com/channel/${encodeURIComponent(e.channelId)}`;
  const login = typeof e.details.login === 'string' ? e.details.login : null;
  if (e.platform === 'twitch' && login) return `https://www.twitch.tv/${encodeURIComponent(login)}`;
  return `${publicBaseUrl.replace(/\/$/, '')}/?platform=${encodeURIComponent(e.platform)}&channelId=${encodeURIComponent(e.channelId)}`;
}

export function genericPayload(e: WebhookEvent): Record<string, unknown> {
  return {
    id: e.alertId,
    type: e.type,
    occurredAt: new Date(e.occurredAt).toISOString(),
    platform: e.platform,
    channelId: e.channelId,
    severity: e.severity,
    message: e.message,
    details: e.details,
    ...(e.type === 'stream_ended' ? { summary: summaryOf(e) } : {}),
    ...(e.test ? { test: true } : {}),
  };
}

const TITLES: Record<string, string> = {
  stream_started: 'is live', stream_ended: 'stream ended', viewer_spike: 'viewer spike', follower_milestone: 'follower milestone',
  engagement_drop: 'engagement drop', reauth_required: 'needs to be reconnected',
};
const COLORS: Record<string, number> = { info: 0x5865f2, warning: 0xfee75c, critical: 0xed4245 };

export function discordPayload(e: WebhookEvent, publicBaseUrl: string): DiscordPayload {
  const s = summaryOf(e) ?? e.details;
  const fields: Array<{ name: string; value: string; inline?: boolean }> = [];
  const viewers = num(s.peakViewers) ?? num(s.viewers) ?? num(s.avgViewers);
  if (viewers !== null) fields.push({ name: e.type === 'stream_ended' ? 'Peak viewers' : 'Viewers', value: String(Math.round(viewers)), inline: true });
  const avg = num(s.avgViewers);
  if (e.type === 'stream_ended' && avg !== null) fields.push({ name: 'Average viewers', value: avg.toFixed(1), inline: true });
  const duration = num(s.durationSeconds);
  if (duration !== null) fields.push({ name: 'Duration', value: formatDuration(duration), inline: true });
  const hours = num(s.hoursWatched);
  if (hours !== null) fields.push({ name: 'Hours watched', value: hours.toFixed(1), inline: true });
  const title = typeof s.title === 'string' && s.title ? s.title : null;
  if (title) fields.push({ name: 'Title', value: title });
  const link = channelLink(e, publicBaseUrl);
  const embed: DiscordEmbed = {
    title: `${e.test ? '[test] ' : ''}${e.platform} ${e.channelId} ${TITLES[e.type] ?? e.type}`,
    description: e.message,
    url: link,
    color: COLORS[e.severity] ?? COLORS.info,
    timestamp: new Date(e.occurredAt).toISOString(),
    fields: fields.slice(0, DISCORD_LIMITS.fields).map((f) => ({ ...f, name: cut(f.name, DISCORD_LIMITS.fieldName), value: cut(f.value || '-', DISCORD_LIMITS.fieldValue) })),
    footer: { text: cut(`Space HUB Streaming · ${e.alertId}`, DISCORD_LIMITS.footer) },
  };
  embed.title = cut(embed.title, DISCORD_LIMITS.title);
  embed.description = cut(embed.description ?? '', DISCORD_LIMITS.description);
  fitTotal(embed);
  return { username: 'Space HUB', embeds: [embed], allowed_mentions: { parse: [] } };
}

/** Characters Discord counts towards the 6000 total: title, description, field names and values, footer, author name. */
export function embedChars(e: DiscordEmbed): number {
  return e.title.length + (e.description?.length ?? 0) + (e.fields ?? []).reduce((a, f) => a + f.name.length + f.value.length, 0) + (e.footer?.text.length ?? 0);
}

/** The description is the only long free text: shorten it until the total fits. */
function fitTotal(embed: DiscordEmbed): void {
  const over = embedChars(embed) - DISCORD_LIMITS.total;
  if (over > 0 && embed.description) embed.description = cut(embed.description, Math.max(1, embed.description.length - over));
}

export function buildBody(format: WebhookFormat, e: WebhookEvent, publicBaseUrl: string): string {
  return JSON.stringify(format === 'discord' ? discordPayload(e, publicBaseUrl) : genericPayload(e));
}
