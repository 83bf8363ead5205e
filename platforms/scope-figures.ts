/**
 * Which figures need which OAuth scope (issue 18.3): a connection made before we asked for a scope
 * keeps working, and the API says which figures a reconnect would add (`needsReconnectFor`).
 * Twitch: "Get Broadcaster Subscriptions" needs channel:read:subscriptions, `channel.cheer` bits:read,
 * the follower list and `channel.follow` moderator:read:followers, chat user:read:chat.
 */
export const SCOPE_FIGURES: Record<string, ReadonlyArray<{ figure: string; scope: string }>> = {
  twitch: [
    { figure: 'subscribers', scope: 'channel:read:subscriptions' },
    { figure: 'cheers', scope: 'bits:read' },
    { figure: 'follows', scope: 'moderator:read:followers' },
    { figure: 'chat', scope: 'user:read:chat' },
  ],
  youtube: [],
};

/** The figures this connection's granted scopes do not cover, in a stable order. */
export function figuresNeedingReconnect(platform: string, scopes: readonly string[]): string[] {
  const granted = new Set(scopes);
  return (SCOPE_FIGURES[platform] ?? []).filter((f) => !granted.has(f.scope)).map((f) => f.figure);
}

/** The scope a figure needs on a platform, or null when none is needed (or the platform has no such figure). */
export function scopeForFigure(platform: string, figure: string): string | null {
  return (SCOPE_FIGURES[platform] ?? []).find((f) => f.figure === figure)?.scope ?? null;
}
