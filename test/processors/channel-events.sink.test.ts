/**
 * Pushed audience events land in ClickHouse (issue 18.2): the raw sink writes ChannelEvent records to
 * channel_events, a redelivered message (same EventSub message id → same event id) collapses, and
 * channel_events_1m counts follows, subs (a gift of N counts N), resubs, raids with viewers and bits per
 * channel-minute.
 */
import type { ChannelEvent } from '../../shared/events/events';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { chDateTime64 } from '../../shared/clickhouse/tables';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { channelKey } from '../../shared/kafka/topics';
import { createRawSink } from '../../processors/processor.wiring';
import type { RawSink } from '../../processors/raw-sink';
import { eventually, testStack, type TestStack } from '../support/stack';

describe('channel events → ClickHouse (raw sink, per-minute view)', () => {
  let stack: TestStack;
  let sink: RawSink | undefined;
  let repo: ClickHouseRepository;
  beforeAll(async () => {
    stack = await testStack();
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
  });
  afterAll(async () => {
    await sink?.close();
    await repo?.close();
    await stack?.cleanup();
  });

  it('lands each event once and counts them per channel-minute and per stream session', async () => {
    const { rt } = stack;
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    const base = { platform: 'twitch', channelId: 'ce1', userId: 'u1', receivedAt: minute + 30_000, actorId: null, actorLogin: null, actorName: null, viewers: null, tier: null, gifted: null, months: null, count: null, bits: null };
    const events: ChannelEvent[] = [
      { ...base, eventId: 'twitch:ce1:eventsub:a', type: 'follow', occurredAt: minute + 1_000, actorId: '1', actorLogin: 'f1', actorName: 'F1' },
      { ...base, eventId: 'twitch:ce1:eventsub:b', type: 'follow', occurredAt: minute + 2_000, actorId: '2', actorLogin: 'f2', actorName: 'F2' },
      { ...base, eventId: 'twitch:ce1:eventsub:c', type: 'subscribe', occurredAt: minute + 3_000, tier: '1000', gifted: false },
      { ...base, eventId: 'twitch:ce1:eventsub:d', type: 'gift', occurredAt: minute + 4_000, tier: '1000', gifted: true, count: 5 },
      { ...base, eventId: 'twitch:ce1:eventsub:e', type: 'resubscribe', occurredAt: minute + 5_000, tier: '2000', months: 12 },
      { ...base, eventId: 'twitch:ce1:eventsub:f', type: 'raid', occurredAt: minute + 6_000, viewers: 42 },
      { ...base, eventId: 'twitch:ce1:eventsub:g', type: 'cheer', occurredAt: minute + 7_000, bits: 100 },
      { ...base, eventId: 'twitch:ce1:eventsub:h', type: 'cheer', occurredAt: minute + 65_000, bits: 250 },
    ];
    const producer = createIdempotentProducer(rt.kafka);
    await producer.connect();
    const encoded = await Promise.all([...events, events[0]!].map(async (e) => ({ key: channelKey(e.platform, e.channelId), value: await rt.registry.encode('channelEvents', e) })));
    await producer.send({ topic: rt.topics.channelEvents, acks: -1, messages: encoded });
    await producer.disconnect();
    sink = createRawSink(rt);
    await sink.start();

    const rows = await eventually(
      () => repo.query<{ event_id: string }>('events', 'SELECT event_id FROM channel_events FINAL WHERE channel_id = {c:String}', { c: 'ce1' }),
      (r) => r.length === events.length, 60_000,
    );
    expect(rows.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.eventId).sort());
    const perMinute = await repo.query<Record<string, number | string>>(
      'per minute', 'SELECT toUnixTimestamp(window_start) * 1000 AS ws, follows, subs, resubs, raids, raid_viewers, bits FROM channel_events_1m WHERE channel_id = {c:String} ORDER BY ws', { c: 'ce1' });
    expect(perMinute).toEqual([
      { ws: minute, follows: 2, subs: 6, resubs: 1, raids: 1, raid_viewers: 42, bits: 100 },
      { ws: minute + 60_000, follows: 0, subs: 0, resubs: 0, raids: 0, raid_viewers: 0, bits: 250 },
    ]);

    // Per session: a session from the second follow to before the second cheer counts what fell inside it.
    await repo.insert('session', 'stream_sessions', [{
      platform: 'twitch', channel_id: 'ce1', user_id: 'u1', stream_id: 's1', started_at: chDateTime64(minute + 1_500), ended_at: chDateTime64(minute + 60_000),
      duration_seconds: 58, peak_viewers: 10, avg_viewers: 5, hours_watched: 0.1, followers_gained: 1, chat_messages: 0, title: null, category: null, status: 'ended', version: 1,
    }]);
    const perSession = await repo.query<Record<string, number | string>>(
      'per session', 'SELECT stream_id, follows, subs, resubs, raids, raid_viewers, bits FROM session_channel_events WHERE channel_id = {c:String}', { c: 'ce1' });
    expect(perSession).toEqual([{ stream_id: 's1', follows: 1, subs: 6, resubs: 1, raids: 1, raid_viewers: 42, bits: 100 }]);
  });
});
