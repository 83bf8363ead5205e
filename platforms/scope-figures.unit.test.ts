import { figuresNeedingReconnect } from './scope-figures';
import { TWITCH_SCOPES } from './twitch/twitch.external';

describe('figures that need a reconnect (issue 18.3)', () => {
  it('a Twitch connection made before subscriptions and cheers were asked for lacks exactly those', () => {
    expect(figuresNeedingReconnect('twitch', ['user:read:email', 'moderator:read:followers', 'user:read:chat'])).toEqual(['subscribers', 'cheers']);
  });
  it('a connection with the scopes we ask for today lacks nothing; YouTube needs no extra scope', () => {
    expect(figuresNeedingReconnect('twitch', TWITCH_SCOPES)).toEqual([]);
    expect(figuresNeedingReconnect('youtube', [])).toEqual([]);
  });
});
